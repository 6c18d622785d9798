// BareCpu: a CPU over plain RAM and an empty port bus, for instruction-level
// tests: no firmware, no devices; reads of ports return all ones. Its JIT
// accesses memory directly from the first instruction (not after
// CpuOptions::direct_memory_after), so that short tests cover that path,
// unless `direct_at_once` is false (the default options).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "cpu/cpu.hpp"
#include "devices/port_io_bus.hpp"
#include "mmu/host_memory.hpp"
#include "mmu/physical_memory.hpp"

namespace jitterbug::test {

class BareCpu {
  public:
    BareCpu(cpu::BackendKind backend, std::uint64_t ram_bytes, bool direct_at_once = true)
        : ram_(ram_bytes) {
        (void)memory_.map_ram(PhysicalAddress{0}, ram_.bytes(), "RAM", ram_.backing(ram_.bytes()));
        cpu_ = std::make_unique<cpu::Cpu>(memory_, io_, backend);
        if (direct_at_once) {
            cpu::CpuOptions options;
            options.direct_memory_after = 0;
            cpu_->set_options(options);
        }
    }

    cpu::Cpu& cpu() { return *cpu_; }
    devices::PortIoBus& io() { return io_; }
    mmu::PhysicalMemory& memory() { return memory_; }
    cpu::CpuState& state() { return cpu_->state(); }
    std::uint8_t* ram() { return ram_.data(); }
    std::uint64_t ram_size() const { return ram_.size(); }

    // Writes guest memory as a loader would, dropping stale translations.
    void poke(std::uint32_t addr, std::uint8_t value) {
        ram_.data()[addr] = value;
        cpu_->invalidate_code(PhysicalAddress{addr}, 1);
    }

  private:
    mmu::HostMemory ram_;
    mmu::PhysicalMemory memory_;
    devices::PortIoBus io_;
    std::unique_ptr<cpu::Cpu> cpu_;
};

// The backends this build has.
inline std::vector<cpu::BackendKind> cpu_backends() {
    std::vector<cpu::BackendKind> b{cpu::BackendKind::Interpreter};
#ifdef JITTERBUG_HAVE_JIT
    b.push_back(cpu::BackendKind::Jit);
#endif
    return b;
}

// 32-bit protected mode with flat code and data segments (CS 0x08, data
// 0x10) based at `base` with 4 GiB limits, EIP at `eip`.
inline cpu::CpuState flat32_state(std::uint32_t eip, std::uint32_t base = 0) {
    cpu::CpuState st = cpu::reset_state();
    using namespace cpu::seg_attr;
    st.cr0 = cpu::cr0::PE | cpu::cr0::ET;
    st.segment(cpu::SegReg::Cs) = {base, 0xFFFFFFFF, 0x08, P | S | kCode | kReadable | DB | G};
    for (cpu::SegReg r : {cpu::SegReg::Ds, cpu::SegReg::Es, cpu::SegReg::Ss})
        st.segment(r) = {base, 0xFFFFFFFF, 0x10, P | S | kWritable | DB | G};
    st.eip = eip;
    return st;
}

// A real-mode segment register loaded with `selector`, as after a far jump.
inline cpu::SegmentRegister real_mode_segment(std::uint16_t selector, bool code = false) {
    return cpu::SegmentRegister{std::uint32_t{selector} << 4, 0xFFFF, selector,
                                code ? cpu::seg_attr::kRealModeCode : cpu::seg_attr::kRealModeData};
}

}  // namespace jitterbug::test
