// Multiboot v1 (Multiboot Specification 0.6.96): loads a kernel image (ELF32
// or the a.out kludge) into guest memory the way qemu-system-i386 -kernel
// does, builds the multiboot information structure, and returns the CPU
// state at the kernel's entry point.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "cpu/cpu_state.hpp"
#include "jitterbug/result.hpp"
#include "mmu/physical_memory.hpp"

namespace jitterbug::machine {

constexpr std::uint32_t kMultibootHeaderMagic = 0x1BADB002;
constexpr std::uint32_t kMultibootBootloaderMagic = 0x2BADB002;

// Where the loader puts its structures unless the kernel occupies that
// memory (then they go after the kernel): GDT, information structure,
// memory map, command line and boot loader name.
constexpr std::uint32_t kBootInfoBase = 0x8000;
constexpr std::uint32_t kBootInfoSize = 0x8000;

// A boot module (spec 3.3), loaded page-aligned after the kernel.
struct MultibootModule {
    std::span<const std::uint8_t> bytes;
    std::string_view cmdline;  // its string: by convention its name and arguments
};
constexpr std::size_t kMaxModules = 64;

struct MultibootLoad {
    cpu::CpuState entry_state;
    std::uint32_t info_address = 0;  // the multiboot information structure (EBX)
    std::uint32_t kernel_start = 0;
    std::uint32_t kernel_end = 0;  // one past the last loaded or zeroed byte
};

// `ram_bytes` of RAM must be mapped from physical address 0 (with the PC's
// hole at 0xA0000-0xFFFFF).
Result<MultibootLoad> load_multiboot(mmu::PhysicalMemory& memory, std::uint64_t ram_bytes,
                                     std::span<const std::uint8_t> image, std::string_view cmdline,
                                     std::span<const MultibootModule> modules = {});

}  // namespace jitterbug::machine
