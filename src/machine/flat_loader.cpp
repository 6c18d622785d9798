#include "machine/flat_loader.hpp"

#include <fmt/format.h>

#include "machine/boot_state.hpp"

namespace jitterbug::machine {

Result<cpu::CpuState> load_flat(mmu::PhysicalMemory& memory, std::uint64_t ram_bytes,
                                std::span<const std::uint8_t> image, const FlatLayout& layout) {
    if (image.empty()) return Error{"the flat binary is empty"};
    if (!in_ram(layout.load_address, image.size(), ram_bytes)) {
        return Error{fmt::format(
            "a flat binary of {} bytes at {:#x} does not fit in the guest's RAM ({} MiB, hole at "
            "0xA0000-0xFFFFF)",
            image.size(), layout.load_address, ram_bytes >> 20)};
    }
    cpu::CpuState st;
    if (layout.real_mode) {
        if (layout.load_address + image.size() > kLowMemoryEnd)
            return Error{"a real-mode flat binary must lie below 0xA0000"};
        if (layout.entry >= kLowMemoryEnd) {
            return Error{
                fmt::format("the real-mode entry {:#x} is not below 0xA0000", layout.entry)};
        }
        st = cpu::reset_state();
        const auto segment = static_cast<std::uint16_t>((layout.entry >> 4) & 0xF000);
        for (cpu::SegReg r : {cpu::SegReg::Cs, cpu::SegReg::Ds, cpu::SegReg::Es, cpu::SegReg::Ss,
                              cpu::SegReg::Fs, cpu::SegReg::Gs}) {
            cpu::SegmentRegister& s = st.segment(r);
            s.selector = segment;
            s.base = std::uint32_t{segment} << 4;
        }
        st.eip = layout.entry & 0xFFFF;
    } else {
        if (layout.load_address < kFlatGdt + 24 && kFlatGdt < layout.load_address + image.size()) {
            return Error{fmt::format(
                "a protected-mode flat binary may not cover {:#x}-{:#x}, where its GDT goes",
                kFlatGdt, kFlatGdt + 23)};
        }
        const std::uint8_t null_descriptor[8] = {};
        memory.load(PhysicalAddress{kFlatGdt}, null_descriptor);
        memory.load(PhysicalAddress{kFlatGdt + 0x08}, kFlatCodeDescriptor);
        memory.load(PhysicalAddress{kFlatGdt + 0x10}, kFlatDataDescriptor);
        st = flat_protected_state(layout.entry, 0x08, 0x10, kFlatGdt, 23);
    }
    for (unsigned r = 0; r < 8; ++r)
        st.reg(static_cast<cpu::Gpr>(r)) = layout.registers[r];
    memory.load(PhysicalAddress{layout.load_address}, image);
    return st;
}

}  // namespace jitterbug::machine
