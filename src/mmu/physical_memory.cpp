#include "mmu/physical_memory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "util/bits.hpp"

namespace jitterbug::mmu {

Result<void> PhysicalMemory::insert(Region region) {
    if (region.size == 0) return Error{fmt::format("region '{}' is empty", region.name)};
    if (region.base.value + region.size < region.base.value ||
        region.base.value + region.size > (std::uint64_t{1} << 52)) {
        return Error{
            fmt::format("region '{}' extends past the physical address space", region.name)};
    }
    auto it = std::upper_bound(regions_.begin(), regions_.end(), region.base,
                               [](PhysicalAddress a, const Region& r) { return a < r.base; });
    if (it != regions_.end() && it->base < region.end()) {
        return Error{fmt::format("region '{}' at {:#x} overlaps '{}' at {:#x}", region.name,
                                 region.base.value, it->name, it->base.value)};
    }
    if (it != regions_.begin() && std::prev(it)->end() > region.base) {
        auto prev = std::prev(it);
        return Error{fmt::format("region '{}' at {:#x} overlaps '{}' at {:#x}", region.name,
                                 region.base.value, prev->name, prev->base.value)};
    }
    regions_.insert(it, std::move(region));
    return {};
}

Result<void> PhysicalMemory::map_ram(PhysicalAddress base, std::span<std::uint8_t> host,
                                     std::string name, FileBacking backing) {
    return insert(
        Region{base, host.size(), RegionKind::Ram, host.data(), nullptr, std::move(name), backing});
}

Result<void> PhysicalMemory::map_rom(PhysicalAddress base, std::span<const std::uint8_t> host,
                                     std::string name) {
    // (Never written through: see map_rom's comment.)
    return insert(Region{base,
                         host.size(),
                         RegionKind::Rom,
                         const_cast<std::uint8_t*>(host.data()),
                         nullptr,
                         std::move(name),
                         {}});
}

Result<void> PhysicalMemory::map_mmio(PhysicalAddress base, std::uint64_t size,
                                      MmioHandler& handler, std::string name) {
    return insert(Region{base, size, RegionKind::Mmio, nullptr, &handler, std::move(name), {}});
}

const Region* PhysicalMemory::find(PhysicalAddress a) const {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), a,
                               [](PhysicalAddress x, const Region& r) { return x < r.base; });
    if (it == regions_.begin()) return nullptr;
    --it;
    return it->contains(a) ? &*it : nullptr;
}

std::uint8_t* PhysicalMemory::ram_pointer(PhysicalAddress a, std::uint64_t size) const {
    const Region* r = find(a);
    if (!r || r->kind != RegionKind::Ram) return nullptr;
    const std::uint64_t offset = a.value - r->base.value;
    if (size > r->size - offset) return nullptr;
    return r->host + offset;
}

std::uint8_t PhysicalMemory::read_byte(PhysicalAddress a) const {
    const Region* r = find(a);
    if (!r) return 0xFF;
    const std::uint64_t offset = a.value - r->base.value;
    if (r->kind == RegionKind::Mmio)
        return static_cast<std::uint8_t>(r->mmio->mmio_read(offset, 1));
    return r->host[offset];
}

void PhysicalMemory::write_byte(PhysicalAddress a, std::uint8_t value) {
    const Region* r = find(a);
    if (!r) return;
    const std::uint64_t offset = a.value - r->base.value;
    if (r->kind == RegionKind::Ram) {
        r->host[offset] = value;
    } else if (r->kind == RegionKind::Mmio) {
        r->mmio->mmio_write(offset, 1, value);
    }
}

std::uint64_t PhysicalMemory::read(PhysicalAddress a, unsigned size) const {
    const Region* r = find(a);
    if (r && size <= r->size - (a.value - r->base.value)) {
        const std::uint64_t offset = a.value - r->base.value;
        if (r->kind == RegionKind::Mmio)
            return r->mmio->mmio_read(offset, size) & low_mask(size * 8);
        std::uint64_t v = 0;
        std::memcpy(&v, r->host + offset, size);
        return v;
    }
    std::uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i)
        v |= std::uint64_t{read_byte(a + i)} << (8 * i);
    return v;
}

void PhysicalMemory::write(PhysicalAddress a, unsigned size, std::uint64_t value) {
    const Region* r = find(a);
    if (r && size <= r->size - (a.value - r->base.value)) {
        const std::uint64_t offset = a.value - r->base.value;
        if (r->kind == RegionKind::Ram) {
            std::memcpy(r->host + offset, &value, size);
        } else if (r->kind == RegionKind::Mmio) {
            r->mmio->mmio_write(offset, size, value & low_mask(size * 8));
        }
        return;
    }
    for (unsigned i = 0; i < size; ++i)
        write_byte(a + i, static_cast<std::uint8_t>(value >> (8 * i)));
}

bool PhysicalMemory::load(PhysicalAddress a, std::span<const std::uint8_t> bytes) {
    std::uint64_t done = 0;
    while (done < bytes.size()) {
        const Region* r = find(a + done);
        if (!r || r->kind != RegionKind::Ram) return false;
        const std::uint64_t offset = a.value + done - r->base.value;
        const std::uint64_t n = std::min<std::uint64_t>(r->size - offset, bytes.size() - done);
        std::memcpy(r->host + offset, bytes.data() + done, n);
        done += n;
    }
    return true;
}

bool PhysicalMemory::fill(PhysicalAddress a, std::uint64_t size, std::uint8_t value) {
    std::uint64_t done = 0;
    while (done < size) {
        const Region* r = find(a + done);
        if (!r || r->kind != RegionKind::Ram) return false;
        const std::uint64_t offset = a.value + done - r->base.value;
        const std::uint64_t n = std::min<std::uint64_t>(r->size - offset, size - done);
        std::memset(r->host + offset, value, n);
        done += n;
    }
    return true;
}

}  // namespace jitterbug::mmu
