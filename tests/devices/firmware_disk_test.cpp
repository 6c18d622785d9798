// The firmware disk: reads into and writes from guest memory, verify, the
// INT 13h status codes of each failure, the drive registers, register access
// widths, save/restore and reset, and hostile register values.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "devices/firmware_disk.hpp"

using namespace jitterbug::devices;
using Status = FirmwareDisk::Status;

namespace {

constexpr std::uint16_t kPort = FirmwareDisk::kFirstPort;
constexpr std::size_t kRamSize = 64 * 1024;
constexpr std::uint32_t kFloppySectors = 2880;  // 1.44 MB

constexpr std::uint8_t kRead = 1;
constexpr std::uint8_t kWrite = 2;
constexpr std::uint8_t kVerify = 3;
constexpr std::uint8_t kSelect = 4;

std::uint8_t pattern_byte(std::uint64_t lba, unsigned offset) {
    return static_cast<std::uint8_t>(lba * 31 + offset + (lba >> 8));
}

std::vector<std::uint8_t> pattern_sectors(std::uint64_t lba, unsigned count) {
    std::vector<std::uint8_t> bytes(std::size_t{count} * 512);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = pattern_byte(lba + i / 512, i % 512);
    return bytes;
}

std::optional<DiskImage> image_of(std::uint32_t sectors) {
    if (sectors == 0) return std::nullopt;
    return DiskImage::from_bytes(pattern_sectors(0, sectors));
}

// Two drives of `a` and `b` sectors (0: absent) and 64 KiB of guest memory,
// outside which every access fails without copying anything.
struct Rig {
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(kRamSize, 0xEE);
    unsigned memory_calls = 0;
    std::array<std::optional<DiskImage>, 2> images;
    FirmwareDisk disk;

    explicit Rig(std::uint32_t a = kFloppySectors, std::uint32_t b = 0,
                 std::array<bool, 2> read_only = {})
        : images{image_of(a), image_of(b)}, disk(drives(), memory(), read_only) {}

    std::array<DiskImage*, 2> drives() {
        return {images[0] ? &*images[0] : nullptr, images[1] ? &*images[1] : nullptr};
    }
    FirmwareDisk::MemoryFn memory() {
        return [this](std::uint64_t address, std::span<std::uint8_t> bytes, bool to_guest) {
            ++memory_calls;
            if (address > ram.size() || bytes.size() > ram.size() - address) return false;
            if (to_guest) {
                std::copy(bytes.begin(), bytes.end(), ram.data() + address);
            } else {
                std::copy_n(ram.data() + address, bytes.size(), bytes.begin());
            }
            return true;
        };
    }

    void out(unsigned offset, unsigned size, std::uint32_t value) {
        disk.io_write(static_cast<std::uint16_t>(kPort + offset), size, value);
    }
    std::uint32_t in(unsigned offset, unsigned size) {
        return disk.io_read(static_cast<std::uint16_t>(kPort + offset), size);
    }
    std::uint8_t status() { return static_cast<std::uint8_t>(in(0xA, 1)); }

    // Programs the registers one by one and issues `command`; the status.
    std::uint8_t run(std::uint8_t command, std::uint8_t drive, std::uint32_t lba,
                     std::uint8_t count, std::uint32_t address) {
        out(0x0, 4, address);
        out(0x4, 4, lba);
        out(0x8, 1, count);
        out(0x9, 1, drive);
        out(0xA, 1, command);
        return status();
    }

    std::vector<std::uint8_t> memory_at(std::uint32_t address, std::size_t size) const {
        return {ram.data() + address, ram.data() + address + size};
    }
    std::vector<std::uint8_t> image_sectors(unsigned drive, std::uint64_t lba, unsigned count) {
        std::vector<std::uint8_t> v(std::size_t{count} * 512);
        REQUIRE(images[drive]->read(lba, count, v).ok());
        return v;
    }
};

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("reading one sector copies it to the buffer address") {
        Rig rig;
        CHECK(rig.run(kRead, 0, 5, 1, 0x7C00) == 0x00);
        CHECK(rig.memory_at(0x7C00, 512) == pattern_sectors(5, 1));
        CHECK(rig.ram[0x7BFF] == 0xEE);
        CHECK(rig.ram[0x7E00] == 0xEE);
    }

    TEST_CASE(
        "reading several sectors copies them in order and leaves the registers as they were") {
        Rig rig;
        CHECK(rig.run(kRead, 0, 17, 18, 0x1000) == 0x00);
        CHECK(rig.memory_at(0x1000, 18 * 512) == pattern_sectors(17, 18));
        CHECK(rig.ram[0x1000 + 18 * 512] == 0xEE);
        CHECK(rig.in(0x0, 4) == 0x1000);
        CHECK(rig.in(0x4, 4) == 17);
        CHECK(rig.in(0x8, 1) == 18);
        CHECK(rig.in(0x9, 1) == 0);
    }

    TEST_CASE("the last sectors of the image can be read") {
        Rig rig;
        CHECK(rig.run(kRead, 0, kFloppySectors - 2, 2, 0) == 0x00);
        CHECK(rig.memory_at(0, 1024) == pattern_sectors(kFloppySectors - 2, 2));
    }

    TEST_CASE("writing sectors takes them from guest memory into the image") {
        Rig rig;
        for (std::size_t i = 0; i < 3 * 512; ++i)
            rig.ram[0x2000 + i] = static_cast<std::uint8_t>(i * 7 + 1);
        const std::vector<std::uint8_t> written = rig.memory_at(0x2000, 3 * 512);
        CHECK(rig.run(kWrite, 0, 100, 3, 0x2000) == 0x00);
        CHECK(rig.image_sectors(0, 100, 3) == written);
        CHECK(rig.image_sectors(0, 99, 1) == pattern_sectors(99, 1));
        CHECK(rig.image_sectors(0, 103, 1) == pattern_sectors(103, 1));
        // And back through the device, elsewhere in memory.
        CHECK(rig.run(kRead, 0, 100, 3, 0x8000) == 0x00);
        CHECK(rig.memory_at(0x8000, 3 * 512) == written);
    }

    TEST_CASE("verify succeeds inside the image and transfers nothing") {
        Rig rig;
        CHECK(rig.run(kVerify, 0, 0, 255, 0x100) == 0x00);
        CHECK(rig.run(kVerify, 0, kFloppySectors - 1, 1, 0xFFFFFFFF) == 0x00);
        CHECK(rig.memory_calls == 0);
        CHECK(rig.memory_at(0x100, 512) == std::vector<std::uint8_t>(512, 0xEE));
    }

    TEST_CASE("a range past the end of the image fails with sector not found and no transfer") {
        Rig rig;
        CHECK(rig.run(kVerify, 0, kFloppySectors - 1, 2, 0) == 0x04);
        CHECK(rig.run(kVerify, 0, kFloppySectors, 1, 0) == 0x04);
        CHECK(rig.run(kVerify, 0, 0xFFFFFFFF, 255, 0) == 0x04);
        CHECK(rig.run(kRead, 0, kFloppySectors - 1, 2, 0) == 0x04);
        CHECK(rig.run(kWrite, 0, kFloppySectors - 1, 2, 0) == 0x04);
        CHECK(rig.memory_calls == 0);
        CHECK(rig.memory_at(0, 1024) == std::vector<std::uint8_t>(1024, 0xEE));
        CHECK(rig.image_sectors(0, kFloppySectors - 1, 1) ==
              pattern_sectors(kFloppySectors - 1, 1));
    }

    TEST_CASE("an absent drive reports a timeout and a size of 0") {
        Rig rig(kFloppySectors, 0);
        for (const std::uint8_t command : {kRead, kWrite, kVerify})
            CHECK(rig.run(command, 1, 0, 1, 0) == 0x80);
        CHECK(rig.run(kSelect, 1, 0, 0, 0) == 0x80);
        CHECK(rig.in(0xC, 4) == 0);
        CHECK(rig.run(kRead, 2, 0, 1, 0) == 0x80);
        CHECK(rig.run(kSelect, 0xFF, 0, 0, 0) == 0x80);
        CHECK(rig.memory_calls == 0);
    }

    TEST_CASE("select latches the sector count of the chosen drive") {
        Rig rig(kFloppySectors, 720);
        CHECK(rig.in(0xC, 4) == 0);
        CHECK(rig.run(kSelect, 0, 0, 0, 0) == 0x00);
        CHECK(rig.in(0xC, 4) == kFloppySectors);
        CHECK(rig.run(kSelect, 1, 0, 0, 0) == 0x00);
        CHECK(rig.in(0xC, 4) == 720);
        // Latched: changing the drive register alone does not change it.
        rig.out(0x9, 1, 0);
        CHECK(rig.in(0xC, 4) == 720);
    }

    TEST_CASE("the second drive reads its own image") {
        Rig rig(kFloppySectors, 720);
        CHECK(rig.run(kWrite, 0, 3, 1, 0x4000) == 0x00);  // drive A: sector 3 := 0xEE
        CHECK(rig.run(kRead, 1, 3, 1, 0x5000) == 0x00);
        CHECK(rig.memory_at(0x5000, 512) == pattern_sectors(3, 1));
    }

    TEST_CASE("the drive count register counts the drives present") {
        CHECK(Rig(0, 0).in(0xB, 1) == 0);
        CHECK(Rig(kFloppySectors, 0).in(0xB, 1) == 1);
        CHECK(Rig(0, kFloppySectors).in(0xB, 1) == 1);
        CHECK(Rig(kFloppySectors, 720).in(0xB, 1) == 2);
    }

    TEST_CASE("a buffer partly outside guest memory fails with controller failure") {
        Rig rig;
        CHECK(rig.run(kRead, 0, 0, 2, kRamSize - 512) == 0x20);
        CHECK(rig.run(kRead, 0, 0, 1, kRamSize) == 0x20);
        CHECK(rig.memory_at(kRamSize - 512, 512) == std::vector<std::uint8_t>(512, 0xEE));
        CHECK(rig.run(kWrite, 0, 7, 2, kRamSize - 512) == 0x20);
        CHECK(rig.image_sectors(0, 7, 2) == pattern_sectors(7, 2));
        // A buffer ending exactly at the end of memory is fine.
        CHECK(rig.run(kRead, 0, 0, 1, kRamSize - 512) == 0x00);
    }

    TEST_CASE("a buffer running past 4 GiB fails without asking guest memory") {
        Rig rig;
        CHECK(rig.run(kRead, 0, 0, 1, 0xFFFFFF00) == 0x20);
        CHECK(rig.run(kWrite, 0, 0, 255, 0xFFFE0400) == 0x20);
        CHECK(rig.memory_calls == 0);
        // Ending exactly at 4 GiB is inside the address space: memory decides.
        CHECK(rig.run(kRead, 0, 0, 1, 0xFFFFFE00) == 0x20);
        CHECK(rig.memory_calls == 1);
    }

    TEST_CASE("unknown commands fail with invalid command") {
        Rig rig;
        for (const unsigned command : {0u, 5u, 0x42u, 0xFFu})
            CHECK(rig.run(static_cast<std::uint8_t>(command), 0, 0, 1, 0) == 0x01);
        CHECK(rig.memory_calls == 0);
    }

    TEST_CASE("a sector count of 0 transfers nothing and succeeds on a present drive") {
        Rig rig;
        CHECK(rig.run(kRead, 0, 0, 0, 0) == 0x00);
        CHECK(rig.run(kWrite, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF) == 0x00);
        CHECK(rig.memory_calls == 0);
        CHECK(rig.run(kRead, 1, 0, 0, 0) == 0x80);
    }

    TEST_CASE("a read-only drive refuses writes with write protected") {
        Rig rig(kFloppySectors, 720, {false, true});
        CHECK(rig.run(kWrite, 1, 0, 1, 0) == 0x03);
        CHECK(rig.image_sectors(1, 0, 1) == pattern_sectors(0, 1));
        CHECK(rig.run(kRead, 1, 0, 1, 0) == 0x00);
        CHECK(rig.run(kVerify, 1, 0, 1, 0) == 0x00);
        CHECK(rig.run(kWrite, 0, 0, 1, 0) == 0x00);
    }

    TEST_CASE("a missing memory callback fails transfers with controller failure") {
        DiskImage image = DiskImage::from_bytes(pattern_sectors(0, 4));
        FirmwareDisk disk({&image, nullptr}, {});
        disk.io_write(kPort + 0x8, 1, 1);
        disk.io_write(kPort + 0xA, 1, kRead);
        CHECK(disk.io_read(kPort + 0xA, 1) == 0x20);
    }

    TEST_CASE("16-bit and 32-bit accesses read and write the register bytes little-endian") {
        Rig rig;
        rig.out(0x0, 4, 0x12345678);
        CHECK(rig.in(0x0, 1) == 0x78);
        CHECK(rig.in(0x1, 2) == 0x3456);
        CHECK(rig.in(0x2, 2) == 0x1234);
        rig.out(0x2, 2, 0xABCD);
        CHECK(rig.in(0x0, 4) == 0xABCD5678);
        rig.out(0x3, 4, 0x44332211);  // the address's top byte and the LBA's low three
        CHECK(rig.in(0x0, 4) == 0x11CD5678);
        CHECK(rig.in(0x4, 4) == 0x00443322);
        // The drive count, status and size are not writable.
        rig.out(0xB, 4, 0xFFFFFFFF);
        CHECK(rig.in(0xB, 1) == 1);
        CHECK(rig.in(0xC, 4) == 0);
        // Bytes past the register file read all ones.
        CHECK(rig.in(0xE, 4) == 0xFFFF0000);
        CHECK(rig.in(0xF, 2) == 0xFF00);
    }

    TEST_CASE("a 32-bit write of count drive and command latches them before the command runs") {
        Rig rig(kFloppySectors, 720);
        rig.out(0x0, 4, 0x3000);
        rig.out(0x4, 4, 9);
        rig.out(0x8, 4, 0x00000000u | kRead << 16 | 1 << 8 | 2);  // 2 sectors from B:
        CHECK(rig.status() == 0x00);
        CHECK(rig.in(0x8, 4) == (0x02u << 24 | 1 << 8 | 2));  // status 0, two drives
        CHECK(rig.memory_at(0x3000, 1024) == pattern_sectors(9, 2));
        rig.out(0x9, 2, kSelect << 8 | 0);
        CHECK(rig.in(0xC, 4) == kFloppySectors);
    }

    TEST_CASE("state and restore round trip the registers") {
        Rig rig(kFloppySectors, 720);
        CHECK(rig.run(kSelect, 1, 0, 0, 0) == 0x00);
        CHECK(rig.run(kVerify, 1, 719, 2, 0x1234) == 0x04);
        const FirmwareDisk::State saved = rig.disk.state();
        CHECK(saved.registers[0xA] == 0x04);

        Rig other(kFloppySectors, 720);
        CHECK(other.disk.state() != saved);
        other.disk.restore(saved);
        CHECK(other.disk.state() == saved);
        CHECK(other.in(0x0, 4) == 0x1234);
        CHECK(other.in(0x4, 4) == 719);
        CHECK(other.status() == 0x04);
        CHECK(other.in(0xC, 4) == 720);
        // The drive count comes from the drives attached, not the state.
        Rig single(kFloppySectors, 0);
        single.disk.restore(saved);
        CHECK(single.in(0xB, 1) == 1);
    }

    TEST_CASE("reset clears the registers and keeps the drive count") {
        Rig rig(kFloppySectors, 720);
        CHECK(rig.run(kSelect, 1, 0x55, 7, 0x1234) == 0x00);
        CHECK(rig.run(0x99, 1, 0x55, 7, 0x1234) == 0x01);
        rig.disk.reset();
        FirmwareDisk::State expected;
        expected.registers[0xB] = 2;
        CHECK(rig.disk.state() == expected);
    }

    TEST_CASE("any register values give an INT 13h status") {
        Rig rig(kFloppySectors, 720);
        const std::set<unsigned> statuses = {0x00, 0x01, 0x04, 0x20, 0x80};
        std::set<unsigned> seen;
        std::uint32_t x = 12345;
        const auto next = [&x] {
            x = x * 1664525 + 1013904223;
            return x;
        };
        for (unsigned i = 0; i < 4000; ++i) {
            // Small values half of the time so that some transfers succeed.
            const std::uint32_t address = next() % 2 ? next() : next() % (kRamSize + 4096);
            const std::uint32_t lba = next() % 2 ? next() : next() % (kFloppySectors + 300);
            const auto count = static_cast<std::uint8_t>(next() >> 24);
            const auto drive = static_cast<std::uint8_t>(next() % 4 ? next() % 3 : next() >> 24);
            const auto command = static_cast<std::uint8_t>(next() % 4 ? next() % 6 : next() >> 24);
            const std::uint8_t status = rig.run(command, drive, lba, count, address);
            INFO("command ", int{command}, " drive ", int{drive}, " lba ", lba, " count ",
                 int{count}, " address ", address);
            CHECK(statuses.count(status) == 1);
            seen.insert(status);
        }
        CHECK(seen == statuses);
    }
}
