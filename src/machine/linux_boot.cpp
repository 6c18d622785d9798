#include "machine/linux_boot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "machine/boot_state.hpp"
#include "util/bits.hpp"

namespace jitterbug::machine {

namespace {

using cpu::CpuState;
using cpu::SegReg;

// Setup header fields (boot.rst, "The real-mode kernel header"), by offset.
constexpr std::size_t kSetupSects = 0x1F1;
constexpr std::size_t kBootFlag = 0x1FE;
constexpr std::size_t kJumpLength = 0x201;  // the header ends at 0x202 + this byte
constexpr std::size_t kHeaderMagic = 0x202;
constexpr std::size_t kVersion = 0x206;
constexpr std::size_t kTypeOfLoader = 0x210;
constexpr std::size_t kLoadFlags = 0x211;
constexpr std::size_t kCode32Start = 0x214;
constexpr std::size_t kRamdiskImage = 0x218;
constexpr std::size_t kRamdiskSize = 0x21C;
constexpr std::size_t kCmdLinePtr = 0x228;
constexpr std::size_t kInitrdAddrMax = 0x22C;
constexpr std::size_t kCmdlineSize = 0x238;
constexpr std::size_t kInitSize = 0x260;
// boot_params (zero-page.rst).
constexpr std::size_t kExtMemK = 0x002;
constexpr std::size_t kAltMemK = 0x1E0;
constexpr std::size_t kE820Entries = 0x1E8;
constexpr std::size_t kE820Table = 0x2D0;
constexpr std::size_t kE820Max = 128;

constexpr std::uint8_t kLoadedHigh = 0x01;

template <typename T>
T field(std::span<const std::uint8_t> image, std::size_t at) {
    return load_le<T>(image.data() + at);
}

}  // namespace

bool is_bzimage(std::span<const std::uint8_t> image) {
    return image.size() >= 0x400 && field<std::uint16_t>(image, kBootFlag) == 0xAA55 &&
           field<std::uint32_t>(image, kHeaderMagic) == 0x53726448;  // "HdrS"
}

Result<LinuxLoad> load_linux(mmu::PhysicalMemory& memory, std::uint64_t ram_bytes,
                             std::span<const std::uint8_t> image,
                             std::span<const std::uint8_t> initrd, std::string_view cmdline) {
    if (!is_bzimage(image))
        return Error{"not a Linux kernel image (no 0xAA55 boot flag and \"HdrS\" header)"};
    LinuxLoad out;
    out.protocol = field<std::uint16_t>(image, kVersion);
    if (out.protocol < 0x0202) {
        return Error{fmt::format("Linux boot protocol {}.{:02} is too old (2.02 or later needed)",
                                 out.protocol >> 8, out.protocol & 0xFF)};
    }
    if (!(image[kLoadFlags] & kLoadedHigh))
        return Error{"a zImage (loaded low) is not supported: use a bzImage"};
    const unsigned setup_sects = image[kSetupSects] == 0 ? 4 : image[kSetupSects];
    const std::size_t setup_bytes = (setup_sects + 1) * std::size_t{512};
    const std::size_t header_end = 0x202 + image[kJumpLength];
    if (image.size() <= setup_bytes || header_end > setup_bytes) {
        return Error{"the kernel image is truncated (shorter than its setup code)"};
    }
    const std::span<const std::uint8_t> kernel = image.subspan(setup_bytes);
    out.kernel_start = field<std::uint32_t>(image, kCode32Start);
    std::uint64_t need = kernel.size();
    if (out.protocol >= 0x020A)
        need = std::max<std::uint64_t>(need, field<std::uint32_t>(image, kInitSize));
    if (out.kernel_start < kHighMemoryStart || !in_ram(out.kernel_start, need, ram_bytes)) {
        return Error{fmt::format(
            "the kernel ({} KiB to decompress at {:#x}) does not fit in the guest's {} MiB of RAM",
            need >> 10, out.kernel_start, ram_bytes >> 20)};
    }
    out.kernel_end = static_cast<std::uint32_t>(out.kernel_start + need);

    const std::uint32_t cmdline_max =
        out.protocol >= 0x0206 ? field<std::uint32_t>(image, kCmdlineSize) + 1 : 256;
    if (cmdline.size() + 1 > std::min(cmdline_max, kLinuxCmdlineMax)) {
        return Error{
            fmt::format("the kernel command line is {} bytes; this kernel takes at most {}",
                        cmdline.size(), std::min(cmdline_max, kLinuxCmdlineMax) - 1)};
    }

    // The initrd: as high as the kernel allows, below the top of RAM, page-aligned.
    if (!initrd.empty()) {
        const std::uint64_t addr_max =
            out.protocol >= 0x0203 ? field<std::uint32_t>(image, kInitrdAddrMax) : 0x37FFFFFFu;
        const std::uint64_t top = std::min<std::uint64_t>(addr_max + 1, ram_bytes);
        if (initrd.size() > top ||
            ((top - initrd.size()) & ~std::uint64_t{0xFFF}) < out.kernel_end) {
            return Error{fmt::format(
                "the initrd ({} KiB) does not fit between the kernel and {:#x} in {} MiB of RAM",
                initrd.size() >> 10, top, ram_bytes >> 20)};
        }
        out.initrd_start =
            static_cast<std::uint32_t>((top - initrd.size()) & ~std::uint64_t{0xFFF});
        out.initrd_size = static_cast<std::uint32_t>(initrd.size());
        memory.load(PhysicalAddress{out.initrd_start}, initrd);
    }

    memory.load(PhysicalAddress{out.kernel_start}, kernel);

    // The zero page: the setup header as the image has it, then what the
    // loader fills in.
    std::array<std::uint8_t, 4096> zero{};
    std::copy(image.begin() + kSetupSects, image.begin() + static_cast<std::ptrdiff_t>(header_end),
              zero.begin() + kSetupSects);
    zero[kTypeOfLoader] = 0xFF;  // an unregistered loader
    store_le<std::uint32_t>(&zero[kCmdLinePtr], kLinuxCmdline);
    store_le<std::uint32_t>(&zero[kRamdiskImage], out.initrd_start);
    store_le<std::uint32_t>(&zero[kRamdiskSize], out.initrd_size);
    const std::uint64_t extended_kib =
        ram_bytes > kHighMemoryStart ? (ram_bytes - kHighMemoryStart) >> 10 : 0;
    store_le<std::uint16_t>(
        &zero[kExtMemK], static_cast<std::uint16_t>(std::min<std::uint64_t>(extended_kib, 0xFFFF)));
    store_le<std::uint32_t>(&zero[kAltMemK], static_cast<std::uint32_t>(extended_kib));
    struct Range {
        std::uint64_t base, length;
        std::uint32_t type;  // 1: RAM, 2: reserved
    };
    std::vector<Range> ranges = {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2}};
    if (ram_bytes > kHighMemoryStart)
        ranges.push_back({kHighMemoryStart, ram_bytes - kHighMemoryStart, 1});
    ranges.push_back({0xFFFF0000u, 0x10000, 2});
    static_assert(kE820Table + kE820Max * 20 <= 4096);
    zero[kE820Entries] = static_cast<std::uint8_t>(ranges.size());
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        std::uint8_t* e = &zero[kE820Table + 20 * i];
        store_le<std::uint64_t>(e, ranges[i].base);
        store_le<std::uint64_t>(e + 8, ranges[i].length);
        store_le<std::uint32_t>(e + 16, ranges[i].type);
    }
    memory.load(PhysicalAddress{kLinuxZeroPage}, zero);

    std::vector<std::uint8_t> cmd(cmdline.begin(), cmdline.end());
    cmd.push_back(0);
    memory.load(PhysicalAddress{kLinuxCmdline}, cmd);

    // The GDT the protocol requires: __BOOT_CS (0x10) and __BOOT_DS (0x18),
    // flat 4 GiB.
    memory.load(PhysicalAddress{kLinuxGdt + 0x10}, kFlatCodeDescriptor);
    memory.load(PhysicalAddress{kLinuxGdt + 0x18}, kFlatDataDescriptor);

    // The 32-bit entry (boot.rst, "32-bit Boot Protocol"): protected mode,
    // paging off, interrupts off, flat __BOOT_CS/__BOOT_DS, ESI the zero
    // page, EBP, EDI and EBX zero.
    CpuState st = flat_protected_state(out.kernel_start, 0x10, 0x18, kLinuxGdt, 31);
    st.reg(cpu::Gpr::Esi) = kLinuxZeroPage;
    st.idtr = {0, 0};
    out.entry_state = st;
    return out;
}

}  // namespace jitterbug::machine
