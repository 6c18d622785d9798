#include "machine/multiboot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "machine/boot_state.hpp"
#include "util/bits.hpp"

namespace jitterbug::machine {
namespace {

using cpu::CpuState;
using cpu::SegReg;

constexpr std::uint32_t kHeaderSearchLimit = 8192;
constexpr std::uint32_t kFlagPageAlign = 1u << 0;
constexpr std::uint32_t kFlagMemoryInfo = 1u << 1;
constexpr std::uint32_t kFlagVideoMode = 1u << 2;
constexpr std::uint32_t kFlagAoutKludge = 1u << 16;
constexpr std::uint32_t kUnderstoodRequiredFlags =
    kFlagPageAlign | kFlagMemoryInfo | kFlagVideoMode;

// Information-structure flags (spec 3.3).
constexpr std::uint32_t kInfoMemory = 1u << 0;
constexpr std::uint32_t kInfoCmdline = 1u << 2;
constexpr std::uint32_t kInfoModules = 1u << 3;
constexpr std::uint32_t kInfoMemoryMap = 1u << 6;
constexpr std::uint32_t kInfoLoaderName = 1u << 9;

struct Segment {
    std::uint32_t paddr;
    std::uint32_t file_offset;
    std::uint32_t file_size;
    std::uint32_t mem_size;
};

struct Image {
    std::vector<Segment> segments;
    std::uint32_t entry = 0;
};

struct Header {
    std::uint32_t offset;  // in the file
    std::uint32_t flags;
    std::uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

std::optional<Header> find_header(std::span<const std::uint8_t> image) {
    const std::size_t limit = std::min<std::size_t>(image.size(), kHeaderSearchLimit);
    for (std::size_t off = 0; off + 12 <= limit; off += 4) {
        const auto magic = load_le<std::uint32_t>(&image[off]);
        if (magic != kMultibootHeaderMagic) continue;
        const auto flags = load_le<std::uint32_t>(&image[off + 4]);
        const auto checksum = load_le<std::uint32_t>(&image[off + 8]);
        if (magic + flags + checksum != 0) continue;
        Header h{static_cast<std::uint32_t>(off), flags, 0, 0, 0, 0, 0};
        if (flags & kFlagAoutKludge) {
            if (off + 32 > image.size()) return std::nullopt;
            h.header_addr = load_le<std::uint32_t>(&image[off + 12]);
            h.load_addr = load_le<std::uint32_t>(&image[off + 16]);
            h.load_end_addr = load_le<std::uint32_t>(&image[off + 20]);
            h.bss_end_addr = load_le<std::uint32_t>(&image[off + 24]);
            h.entry_addr = load_le<std::uint32_t>(&image[off + 28]);
        }
        return h;
    }
    return std::nullopt;
}

Result<Image> parse_aout_kludge(std::span<const std::uint8_t> file, const Header& h) {
    // The header's own address fixes where the file lies in memory (spec 3.1.3).
    if (h.header_addr < h.load_addr || h.header_addr - h.load_addr > h.offset) {
        return Error{"multiboot header: header_addr/load_addr do not match the file"};
    }
    const std::uint32_t file_start = h.offset - (h.header_addr - h.load_addr);
    std::uint64_t load_size = h.load_end_addr == 0 ? file.size() - file_start
                                                   : std::uint64_t{h.load_end_addr} - h.load_addr;
    if (h.load_end_addr != 0 && h.load_end_addr < h.load_addr) {
        return Error{"multiboot header: load_end_addr is below load_addr"};
    }
    if (file_start + load_size > file.size()) {
        return Error{"multiboot header: the load area extends past the end of the file"};
    }
    std::uint64_t mem_size = load_size;
    if (h.bss_end_addr != 0) {
        if (h.bss_end_addr < h.load_addr + load_size) {
            return Error{"multiboot header: bss_end_addr is below the end of the load area"};
        }
        mem_size = std::uint64_t{h.bss_end_addr} - h.load_addr;
    }
    Image img;
    img.entry = h.entry_addr;
    img.segments.push_back({h.load_addr, file_start, static_cast<std::uint32_t>(load_size),
                            static_cast<std::uint32_t>(mem_size)});
    return img;
}

Result<Image> parse_elf(std::span<const std::uint8_t> file) {
    // ELF32 (System V ABI, i386 supplement).
    if (file.size() < 52 || file[0] != 0x7F || file[1] != 'E' || file[2] != 'L' || file[3] != 'F') {
        return Error{"not an ELF file, and the multiboot header has no a.out-kludge addresses"};
    }
    if (file[4] != 1) return Error{"ELF file is not 32-bit (ELFCLASS32)"};
    if (file[5] != 1) return Error{"ELF file is not little-endian"};
    const auto type = load_le<std::uint16_t>(&file[16]);
    const auto machine = load_le<std::uint16_t>(&file[18]);
    if (type != 2) return Error{"ELF file is not an executable (ET_EXEC)"};
    if (machine != 3) return Error{"ELF file is not for the i386 (EM_386)"};
    Image img;
    img.entry = load_le<std::uint32_t>(&file[24]);
    const auto phoff = load_le<std::uint32_t>(&file[28]);
    const auto phentsize = load_le<std::uint16_t>(&file[42]);
    const auto phnum = load_le<std::uint16_t>(&file[44]);
    if (phentsize < 32) return Error{"ELF program header entries are too small"};
    if (std::uint64_t{phoff} + std::uint64_t{phentsize} * phnum > file.size()) {
        return Error{"ELF program headers extend past the end of the file"};
    }
    for (unsigned i = 0; i < phnum; ++i) {
        const std::uint8_t* ph = &file[phoff + i * phentsize];
        if (load_le<std::uint32_t>(ph) != 1) continue;  // PT_LOAD only
        Segment s;
        s.file_offset = load_le<std::uint32_t>(ph + 4);
        s.paddr = load_le<std::uint32_t>(ph + 12);
        s.file_size = load_le<std::uint32_t>(ph + 16);
        s.mem_size = load_le<std::uint32_t>(ph + 20);
        if (s.file_size > s.mem_size) return Error{"ELF segment: p_filesz exceeds p_memsz"};
        if (std::uint64_t{s.file_offset} + s.file_size > file.size()) {
            return Error{"ELF segment extends past the end of the file"};
        }
        if (s.mem_size != 0) img.segments.push_back(s);
    }
    if (img.segments.empty()) return Error{"ELF file has no loadable segments"};
    return img;
}

// Writes the multiboot structures into [base, base + kBootInfoSize).
struct InfoWriter {
    mmu::PhysicalMemory& memory;
    std::uint32_t base;
    std::uint32_t used = 0;

    std::uint32_t alloc(std::uint32_t size) {
        const std::uint32_t at = base + used;
        used += (size + 15) & ~15u;
        return at;
    }
    void put(std::uint32_t at, std::span<const std::uint8_t> bytes) {
        memory.load(PhysicalAddress{at}, bytes);
    }
    void put32(std::uint32_t at, std::uint32_t v) {
        std::uint8_t b[4];
        store_le(b, v);
        put(at, b);
    }
};

}  // namespace

Result<MultibootLoad> load_multiboot(mmu::PhysicalMemory& memory, std::uint64_t ram_bytes,
                                     std::span<const std::uint8_t> file, std::string_view cmdline,
                                     std::span<const MultibootModule> modules) {
    const std::optional<Header> header = find_header(file);
    if (!header) {
        return Error{
            "no multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB"};
    }
    const std::uint32_t unknown = header->flags & 0xFFFF & ~kUnderstoodRequiredFlags;
    if (unknown) {
        return Error{fmt::format(
            "multiboot header requires features this loader lacks (flags {:#x})", unknown)};
    }
    Result<Image> parsed =
        (header->flags & kFlagAoutKludge) ? parse_aout_kludge(file, *header) : parse_elf(file);
    if (!parsed) return parsed.error();
    const Image& img = *parsed;

    MultibootLoad out;
    out.kernel_start = 0xFFFFFFFFu;
    for (const Segment& s : img.segments) {
        if (!in_ram(s.paddr, s.mem_size, ram_bytes)) {
            return Error{
                fmt::format("kernel segment at {:#x} ({} bytes) does not fit in the "
                            "guest's RAM ({} MiB, hole at 0xA0000-0xFFFFF)",
                            s.paddr, s.mem_size, ram_bytes >> 20)};
        }
        out.kernel_start = std::min(out.kernel_start, s.paddr);
        out.kernel_end = std::max(out.kernel_end, s.paddr + s.mem_size);
    }

    // Boot information: low memory unless the kernel is there.
    std::uint32_t info_base = kBootInfoBase;
    for (const Segment& s : img.segments) {
        if (s.paddr < kBootInfoBase + kBootInfoSize && kBootInfoBase < s.paddr + s.mem_size) {
            info_base = (out.kernel_end + 0xFFF) & ~0xFFFu;
            break;
        }
    }
    if (!in_ram(info_base, kBootInfoSize, ram_bytes)) {
        return Error{"no room in RAM for the multiboot information after the kernel"};
    }
    if (cmdline.size() > 0x4000) return Error{"kernel command line is longer than 16 KiB"};
    if (modules.size() > kMaxModules)
        return Error{fmt::format("more than {} multiboot modules", kMaxModules)};
    std::size_t module_strings = 0;
    for (const MultibootModule& m : modules)
        module_strings += m.cmdline.size() + 1;
    if (module_strings > 0x2000)
        return Error{"the multiboot modules' command lines are longer than 8 KiB together"};
    // The modules, page-aligned, after the kernel and the information.
    std::vector<std::uint32_t> module_at;
    std::uint64_t next_module =
        std::max<std::uint64_t>({(std::uint64_t{out.kernel_end} + 0xFFF) & ~std::uint64_t{0xFFF},
                                 info_base + kBootInfoSize, kHighMemoryStart});
    for (const MultibootModule& m : modules) {
        if (!in_ram(next_module, m.bytes.size(), ram_bytes)) {
            return Error{fmt::format(
                "multiboot module '{}' ({} bytes) does not fit in the guest's RAM ({} MiB)",
                m.cmdline, m.bytes.size(), ram_bytes >> 20)};
        }
        module_at.push_back(static_cast<std::uint32_t>(next_module));
        next_module = (next_module + m.bytes.size() + 0xFFF) & ~std::uint64_t{0xFFF};
    }

    for (const Segment& s : img.segments) {
        memory.load(PhysicalAddress{s.paddr}, file.subspan(s.file_offset, s.file_size));
        memory.fill(PhysicalAddress{s.paddr} + s.file_size, s.mem_size - s.file_size, 0);
    }

    InfoWriter w{memory, info_base};
    memory.fill(PhysicalAddress{info_base}, kBootInfoSize, 0);

    // A flat GDT: null, code 0x08, data 0x10 (4 GiB, base 0).
    const std::uint32_t gdt = w.alloc(24);
    w.put(gdt + 0x08, kFlatCodeDescriptor);
    w.put(gdt + 0x10, kFlatDataDescriptor);

    const std::uint32_t info = w.alloc(88);
    const std::uint32_t cmd = w.alloc(static_cast<std::uint32_t>(cmdline.size() + 1));
    w.put(cmd, {reinterpret_cast<const std::uint8_t*>(cmdline.data()), cmdline.size()});
    const std::string_view name = "jitterbug";
    const std::uint32_t loader_name = w.alloc(static_cast<std::uint32_t>(name.size() + 1));
    w.put(loader_name, {reinterpret_cast<const std::uint8_t*>(name.data()), name.size()});

    // The memory map (spec 3.3): size, base, length, type (1 = RAM).
    struct Range {
        std::uint64_t base, length;
        std::uint32_t type;
    };
    std::vector<Range> ranges = {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2}};
    if (ram_bytes > kHighMemoryStart)
        ranges.push_back({kHighMemoryStart, ram_bytes - kHighMemoryStart, 1});
    ranges.push_back({0xFFFF0000u, 0x10000, 2});
    const std::uint32_t mmap = w.alloc(static_cast<std::uint32_t>(ranges.size() * 24));
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        std::uint8_t e[24];
        store_le<std::uint32_t>(e, 20);
        store_le<std::uint64_t>(e + 4, ranges[i].base);
        store_le<std::uint64_t>(e + 12, ranges[i].length);
        store_le<std::uint32_t>(e + 20, ranges[i].type);
        w.put(mmap + static_cast<std::uint32_t>(i * 24), e);
    }

    const std::uint64_t upper_kib =
        ram_bytes > kHighMemoryStart ? (ram_bytes - kHighMemoryStart) >> 10 : 0;
    w.put32(info + 0, kInfoMemory | kInfoCmdline | kInfoModules | kInfoMemoryMap | kInfoLoaderName);
    w.put32(info + 4, 640);
    w.put32(info + 8, static_cast<std::uint32_t>(upper_kib));
    w.put32(info + 16, cmd);
    // The module list (spec 3.3): start, end, string, reserved.
    const std::uint32_t mods = w.alloc(static_cast<std::uint32_t>(modules.size() * 16));
    for (std::size_t i = 0; i < modules.size(); ++i) {
        const MultibootModule& m = modules[i];
        memory.load(PhysicalAddress{module_at[i]}, m.bytes);
        const std::uint32_t string = w.alloc(static_cast<std::uint32_t>(m.cmdline.size() + 1));
        w.put(string, {reinterpret_cast<const std::uint8_t*>(m.cmdline.data()), m.cmdline.size()});
        const std::uint32_t entry = mods + static_cast<std::uint32_t>(i * 16);
        w.put32(entry + 0, module_at[i]);
        w.put32(entry + 4, module_at[i] + static_cast<std::uint32_t>(m.bytes.size()));
        w.put32(entry + 8, string);
        w.put32(entry + 12, 0);
    }
    w.put32(info + 20, static_cast<std::uint32_t>(modules.size()));
    w.put32(info + 24, modules.empty() ? 0 : mods);
    w.put32(info + 44, static_cast<std::uint32_t>(ranges.size() * 24));
    w.put32(info + 48, mmap);
    w.put32(info + 64, loader_name);

    // The machine state at entry (spec 3.2): protected mode, paging off,
    // flat 4 GiB segments, interrupts off.
    CpuState st = flat_protected_state(img.entry, 0x08, 0x10, gdt, 23);
    st.reg(cpu::Gpr::Eax) = kMultibootBootloaderMagic;
    st.reg(cpu::Gpr::Ebx) = info;
    st.idtr = {0, 0x3FF};
    out.entry_state = st;
    out.info_address = info;
    return out;
}

}  // namespace jitterbug::machine
