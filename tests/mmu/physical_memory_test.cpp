// PhysicalMemory: regions, their kinds, and accesses across them.
#include <doctest/doctest.h>

#include <vector>

#include "mmu/physical_memory.hpp"

using namespace jitterbug;
using namespace jitterbug::mmu;

namespace {
class RecordingMmio final : public MmioHandler {
  public:
    std::uint64_t mmio_read(std::uint64_t offset, unsigned size) override {
        reads.push_back({offset, size});
        return 0xA0 + offset;
    }
    void mmio_write(std::uint64_t offset, unsigned size, std::uint64_t value) override {
        writes.push_back({offset, size, value});
    }
    struct Access {
        std::uint64_t offset;
        unsigned size;
        std::uint64_t value = 0;
    };
    std::vector<Access> reads;
    std::vector<Access> writes;
};
}  // namespace

TEST_SUITE("mmu") {
    TEST_CASE("RAM reads back what was written in little-endian order") {
        std::vector<std::uint8_t> host(8192);
        PhysicalMemory mem;
        REQUIRE(mem.map_ram(PhysicalAddress{0x10000}, host, "ram").ok());
        mem.write(PhysicalAddress{0x10010}, 4, 0x11223344);
        CHECK(host[0x10] == 0x44);
        CHECK(host[0x13] == 0x11);
        CHECK(mem.read(PhysicalAddress{0x10010}, 2) == 0x3344);
        CHECK(mem.read(PhysicalAddress{0x10011}, 4) == 0x00112233);
        CHECK(mem.ram_pointer(PhysicalAddress{0x10010}, 4) == host.data() + 0x10);
        CHECK(mem.ram_pointer(PhysicalAddress{0x11FFE}, 4) == nullptr);  // runs past the region
    }

    TEST_CASE("overlapping and empty regions are refused") {
        std::vector<std::uint8_t> a(4096), b(4096);
        PhysicalMemory mem;
        REQUIRE(mem.map_ram(PhysicalAddress{0x1000}, a, "a").ok());
        const Result<void> overlap = mem.map_ram(PhysicalAddress{0x1800}, b, "b");
        REQUIRE_FALSE(overlap.ok());
        CHECK(overlap.error().message.find("overlaps 'a'") != std::string::npos);
        CHECK_FALSE(mem.map_ram(PhysicalAddress{0x0800}, b, "c").ok());
        CHECK_FALSE(mem.map_ram(PhysicalAddress{0x9000}, std::span<std::uint8_t>{}, "empty").ok());
        CHECK(mem.map_ram(PhysicalAddress{0x2000}, b, "adjacent").ok());
    }

    TEST_CASE("ROM ignores writes and unmapped addresses read as all ones") {
        std::vector<std::uint8_t> rom(4096, 0x5A);
        PhysicalMemory mem;
        REQUIRE(mem.map_rom(PhysicalAddress{0xF0000}, rom, "rom").ok());
        mem.write(PhysicalAddress{0xF0000}, 4, 0);
        CHECK(mem.read(PhysicalAddress{0xF0000}, 4) == 0x5A5A5A5A);
        CHECK(mem.read(PhysicalAddress{0x500}, 4) == 0xFFFFFFFF);
        mem.write(PhysicalAddress{0x500}, 4, 1);  // dropped
        // An access straddling ROM and nothing: bytes from each side.
        CHECK(mem.read(PhysicalAddress{0xF0FFE}, 4) == 0xFFFF5A5A);
        // Nor do loaders: ROM's host bytes may be read-only (the BIOS maps
        // its embedded image).
        const std::uint8_t bytes[] = {1, 2};
        CHECK_FALSE(mem.load(PhysicalAddress{0xF0000}, bytes));
        CHECK_FALSE(mem.fill(PhysicalAddress{0xF0000}, 2, 0));
        CHECK(rom[1] == 0x5A);
        CHECK_FALSE(mem.load(PhysicalAddress{0x500}, bytes));
    }

    TEST_CASE("MMIO regions get offsets relative to their base and split at region edges") {
        RecordingMmio dev;
        std::vector<std::uint8_t> ram(4096);
        PhysicalMemory mem;
        REQUIRE(mem.map_mmio(PhysicalAddress{0xFEC00000}, 0x20, dev, "dev").ok());
        REQUIRE(mem.map_ram(PhysicalAddress{0xFEC00020}, ram, "ram").ok());
        CHECK(mem.read(PhysicalAddress{0xFEC00004}, 4) == 0xA4);
        mem.write(PhysicalAddress{0xFEC00008}, 2, 0xBEEF);
        REQUIRE(dev.writes.size() == 1);
        CHECK(dev.writes[0].offset == 8);
        CHECK(dev.writes[0].size == 2);
        CHECK(dev.writes[0].value == 0xBEEF);
        // Across the MMIO/RAM edge: byte accesses to each.
        mem.write(PhysicalAddress{0xFEC0001F}, 2, 0x1234);
        CHECK(dev.writes.back().offset == 0x1F);
        CHECK(dev.writes.back().value == 0x34);
        CHECK(ram[0] == 0x12);
        CHECK(mem.find(PhysicalAddress{0xFEC00010})->kind == RegionKind::Mmio);
    }
}
