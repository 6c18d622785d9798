// Flat binaries: raw bytes loaded at a physical address and entered at a
// given address, in real mode (like a boot sector at 0x7C00) or in 32-bit
// protected mode with flat segments, with the general registers given.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "cpu/cpu_state.hpp"
#include "jitterbug/result.hpp"
#include "mmu/physical_memory.hpp"

namespace jitterbug::machine {

struct FlatLayout {
    std::uint32_t load_address = 0;
    std::uint32_t entry = 0;  // a physical (= linear) address
    bool real_mode = false;
    // EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI at entry.
    std::array<std::uint32_t, 8> registers{};
};

// Where the protected-mode entry's GDT goes (null, code 0x08, data 0x10);
// an image covering it is refused.
constexpr std::uint32_t kFlatGdt = 0x500;

// `ram_bytes` of RAM mapped from 0 with the PC's hole at 0xA0000-0xFFFFF.
// Real mode: the image must lie below 1 MiB, the entry within 64 KiB of a
// paragraph: CS is entry >> 4 rounded down to 64 KiB (0 below 0x10000), IP
// the rest, DS = ES = SS = CS.
Result<cpu::CpuState> load_flat(mmu::PhysicalMemory& memory, std::uint64_t ram_bytes,
                                std::span<const std::uint8_t> image, const FlatLayout& layout);

}  // namespace jitterbug::machine
