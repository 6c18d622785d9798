// PhysicalMemory: the guest's physical address space as an ordered set of
// non-overlapping regions — RAM backed by host memory, ROM (read-only host
// memory; writes are ignored, as on a PC whose shadow RAM is write-protected)
// and MMIO (read/write callbacks). Addresses no region covers read as all
// ones and ignore writes, like an undriven bus.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "jitterbug/result.hpp"
#include "mmu/address.hpp"
#include "mmu/host_memory.hpp"

namespace jitterbug::mmu {

class MmioHandler {
  public:
    virtual ~MmioHandler() = default;
    // `offset` is relative to the region base; size is 1, 2, 4 or 8.
    virtual std::uint64_t mmio_read(std::uint64_t offset, unsigned size) = 0;
    virtual void mmio_write(std::uint64_t offset, unsigned size, std::uint64_t value) = 0;
};

enum class RegionKind : std::uint8_t { Ram, Rom, Mmio };

struct Region {
    PhysicalAddress base;
    std::uint64_t size = 0;
    RegionKind kind = RegionKind::Ram;
    std::uint8_t* host = nullptr;  // RAM and ROM: the host bytes of `base`
    MmioHandler* mmio = nullptr;   // MMIO only
    std::string name;
    FileBacking backing;  // RAM: the file behind `host`, if any

    bool contains(PhysicalAddress a) const { return a.value - base.value < size; }
    PhysicalAddress end() const { return base + size; }
};

class PhysicalMemory {
  public:
    // Maps `size` bytes at `base`. Host memory for RAM and ROM is owned by the
    // caller and must outlive this object. Fails on overlap or empty regions.
    // (`backing`: the file behind `host`, which lets CPUs map it again.)
    Result<void> map_ram(PhysicalAddress base, std::span<std::uint8_t> host, std::string name,
                         FileBacking backing = {});
    // ROM is never written through its host bytes (guest writes are
    // ignored, load() and fill() refuse it): they may be read-only memory.
    Result<void> map_rom(PhysicalAddress base, std::span<const std::uint8_t> host,
                         std::string name);
    Result<void> map_mmio(PhysicalAddress base, std::uint64_t size, MmioHandler& handler,
                          std::string name);

    // The region containing `a`, or nullptr.
    const Region* find(PhysicalAddress a) const;
    // Host pointer to `size` bytes at `a` if they lie in one RAM region, else nullptr.
    std::uint8_t* ram_pointer(PhysicalAddress a, std::uint64_t size) const;

    // Slow, general accesses of 1, 2, 4 or 8 bytes, little-endian, split at
    // region boundaries.
    std::uint64_t read(PhysicalAddress a, unsigned size) const;
    void write(PhysicalAddress a, unsigned size, std::uint64_t value);

    // Byte copies for loaders and debuggers: like a device doing DMA, they
    // write RAM and ROM alike; false if a byte falls outside RAM/ROM.
    bool load(PhysicalAddress a, std::span<const std::uint8_t> bytes);
    bool fill(PhysicalAddress a, std::uint64_t size, std::uint8_t value);

    std::span<const Region> regions() const { return regions_; }

  private:
    Result<void> insert(Region region);
    std::uint8_t read_byte(PhysicalAddress a) const;
    void write_byte(PhysicalAddress a, std::uint8_t value);

    std::vector<Region> regions_;  // sorted by base, non-overlapping
};

}  // namespace jitterbug::mmu
