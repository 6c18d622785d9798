#include "devices/cmos.hpp"

#include <algorithm>

namespace jitterbug::devices {

void Cmos::set_memory_size(std::uint64_t ram_bytes) {
    constexpr std::uint64_t kMiB = 1 << 20;
    const std::uint64_t base_kib = 640;
    set(0x15, base_kib & 0xFF);
    set(0x16, base_kib >> 8);
    const std::uint64_t ext_kib =
        ram_bytes > kMiB ? std::min<std::uint64_t>((ram_bytes - kMiB) >> 10, 0xFFFF) : 0;
    set(0x17, ext_kib & 0xFF);
    set(0x18, (ext_kib >> 8) & 0xFF);
    set(0x30, ext_kib & 0xFF);
    set(0x31, (ext_kib >> 8) & 0xFF);
    const std::uint64_t high =
        ram_bytes > 16 * kMiB ? std::min<std::uint64_t>((ram_bytes - 16 * kMiB) >> 16, 0xFFFF) : 0;
    set(0x34, high & 0xFF);
    set(0x35, (high >> 8) & 0xFF);
}

std::uint32_t Cmos::io_read(std::uint16_t port, unsigned) {
    // The index port is write-only on a PC and reads back as an undriven bus.
    if (port == kIndexPort) return 0xFF;
    return nvram_[index_];
}

void Cmos::io_write(std::uint16_t port, unsigned, std::uint32_t value) {
    if (port == kIndexPort) {
        index_ = value & 0x7F;
        nmi_disabled_ = (value & 0x80) != 0;
        return;
    }
    nvram_[index_] = static_cast<std::uint8_t>(value);
}

}  // namespace jitterbug::devices
