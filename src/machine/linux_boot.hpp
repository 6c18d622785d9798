// The Linux/x86 boot protocol, 32-bit entry (Documentation/arch/x86/boot.rst,
// protocol 2.02 and later): loads a bzImage's protected-mode kernel at its
// code32_start (1 MiB), builds the zero page (boot_params: the setup header,
// the e820 memory map, the command line and initrd pointers), places the
// initrd as high as initrd_addr_max allows, and returns the CPU state at the
// 32-bit entry — no firmware runs, as with qemu-system-i386 -kernel.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "cpu/cpu_state.hpp"
#include "jitterbug/result.hpp"
#include "mmu/physical_memory.hpp"

namespace jitterbug::machine {

// Where the loader puts its structures: the GDT the protocol asks for
// (__BOOT_CS 0x10, __BOOT_DS 0x18), the zero page, the command line.
constexpr std::uint32_t kLinuxGdt = 0x6000;
constexpr std::uint32_t kLinuxZeroPage = 0x7000;
constexpr std::uint32_t kLinuxCmdline = 0x8000;
constexpr std::uint32_t kLinuxCmdlineMax = 0x8000;  // bytes, with the NUL

// Whether `image` is a bzImage (the boot sector's 0xAA55 and "HdrS").
bool is_bzimage(std::span<const std::uint8_t> image);

struct LinuxLoad {
    cpu::CpuState entry_state;
    std::uint16_t protocol = 0;
    std::uint32_t kernel_start = 0;
    std::uint32_t kernel_end = 0;  // the decompressor's whole need (init_size)
    std::uint32_t initrd_start = 0;
    std::uint32_t initrd_size = 0;
};

// `ram_bytes` of RAM must be mapped from physical address 0 (with the PC's
// hole at 0xA0000-0xFFFFF).
Result<LinuxLoad> load_linux(mmu::PhysicalMemory& memory, std::uint64_t ram_bytes,
                             std::span<const std::uint8_t> image,
                             std::span<const std::uint8_t> initrd, std::string_view cmdline);

}  // namespace jitterbug::machine
