// What the loaders share: the PC's RAM layout as they see it, and the CPU
// state a kernel starts in when it is entered in protected mode with
// paging and interrupts off and flat 4 GiB segments (the Linux 32-bit boot
// protocol, multiboot, flat binaries).
#pragma once

#include <array>
#include <cstdint>

#include "cpu/cpu_state.hpp"

namespace jitterbug::machine {

constexpr std::uint64_t kLowMemoryEnd = 0xA0000;      // the hole for VGA and ROMs
constexpr std::uint64_t kHighMemoryStart = 0x100000;  // and RAM again from 1 MiB

// True when [start, start + size) is RAM of a machine with `ram_bytes`
// (below the hole, or from 1 MiB to the end of RAM).
inline bool in_ram(std::uint64_t start, std::uint64_t size, std::uint64_t ram_bytes) {
    const std::uint64_t end = start + size;
    if (end <= kLowMemoryEnd) return true;
    return start >= kHighMemoryStart && end <= ram_bytes;
}

// GDT entries for flat 4 GiB segments: 32-bit code (execute/read) and data
// (read/write), base 0, page granular, accessed.
constexpr std::array<std::uint8_t, 8> kFlatCodeDescriptor = {0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0};
constexpr std::array<std::uint8_t, 8> kFlatDataDescriptor = {0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0};

// Protected mode at `eip`, paging and interrupts off, CS the flat code
// segment `code_selector` and the other five the flat data segment
// `data_selector` of the GDT at `gdt_base` (limit `gdt_limit`); the IDT
// register as at reset. The general registers are zero.
inline cpu::CpuState flat_protected_state(std::uint32_t eip, std::uint16_t code_selector,
                                          std::uint16_t data_selector, std::uint32_t gdt_base,
                                          std::uint16_t gdt_limit) {
    cpu::CpuState st = cpu::reset_state();
    st.cr0 = cpu::cr0::PE | cpu::cr0::ET;
    st.set_eflags(cpu::eflags::Fixed1);
    st.eip = eip;
    for (unsigned r = 0; r < 8; ++r)
        st.reg(static_cast<cpu::Gpr>(r)) = 0;
    using namespace cpu::seg_attr;
    st.segment(cpu::SegReg::Cs) = cpu::SegmentRegister{
        0, 0xFFFFFFFFu, code_selector,
        static_cast<std::uint16_t>(P | S | kCode | kReadable | kAccessed | DB | G)};
    for (cpu::SegReg r :
         {cpu::SegReg::Ds, cpu::SegReg::Es, cpu::SegReg::Ss, cpu::SegReg::Fs, cpu::SegReg::Gs}) {
        st.segment(r) = cpu::SegmentRegister{
            0, 0xFFFFFFFFu, data_selector,
            static_cast<std::uint16_t>(P | S | kWritable | kAccessed | DB | G)};
    }
    st.gdtr = {gdt_base, gdt_limit};
    return st;
}

}  // namespace jitterbug::machine
