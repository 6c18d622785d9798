// The ATA channel: IDENTIFY DEVICE, PIO reads and writes in LBA28, LBA48 and
// CHS, READ/WRITE MULTIPLE, the interrupt protocol, nIEN, SRST and the
// signature, an absent slave, aborts, IDNF and save/restore. Expectations
// from ATA/ATAPI-6 (T13/1410D).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "devices/ata.hpp"

using namespace jitterbug::devices;

namespace {

constexpr std::uint16_t kData = 0x1F0;
constexpr std::uint16_t kError = 0x1F1;  // features when written
constexpr std::uint16_t kSectorCount = 0x1F2;
constexpr std::uint16_t kLbaLow = 0x1F3;
constexpr std::uint16_t kLbaMid = 0x1F4;
constexpr std::uint16_t kLbaHigh = 0x1F5;
constexpr std::uint16_t kDevice = 0x1F6;
constexpr std::uint16_t kStatus = 0x1F7;   // command when written
constexpr std::uint16_t kControl = 0x3F6;  // alternate status when read

// Status values: DRDY and DSC when idle, with DRQ or ERR.
constexpr std::uint8_t kIdle = 0x50;
constexpr std::uint8_t kDataReady = 0x58;
constexpr std::uint8_t kFailed = 0x51;

std::uint8_t pattern_byte(std::uint64_t lba, unsigned offset) {
    return static_cast<std::uint8_t>(lba * 31 + offset + (lba >> 8));
}

std::vector<std::uint8_t> pattern(std::uint64_t sectors) {
    std::vector<std::uint8_t> bytes(sectors * 512);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = pattern_byte(i / 512, i % 512);
    return bytes;
}

std::vector<std::uint8_t> pattern_sectors(std::uint64_t lba, unsigned count) {
    std::vector<std::uint8_t> bytes(std::size_t{count} * 512);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = pattern_byte(lba + i / 512, i % 512);
    return bytes;
}

std::vector<std::uint8_t> filled(unsigned sectors, std::uint8_t seed) {
    std::vector<std::uint8_t> bytes(std::size_t{sectors} * 512);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<std::uint8_t>(seed + i * 3);
    return bytes;
}

struct Channel {
    std::vector<bool> irq_changes;
    DiskImage disk;
    Ata ata;

    explicit Channel(std::uint64_t sectors)
        : disk(DiskImage::from_bytes(pattern(sectors))), ata(&disk, nullptr, irq_fn()) {}
    explicit Channel(DiskImage image) : disk(std::move(image)), ata(&disk, nullptr, irq_fn()) {}

    Ata::IrqFn irq_fn() {
        return [this](bool level) { irq_changes.push_back(level); };
    }
    void out(std::uint16_t port, std::uint8_t v) { ata.io_write(port, 1, v); }
    std::uint8_t in(std::uint16_t port) { return static_cast<std::uint8_t>(ata.io_read(port, 1)); }
    std::uint8_t status() { return in(kStatus); }
    std::uint8_t alt_status() { return in(kControl); }
    bool irq() const { return ata.irq_level(); }
    unsigned interrupts() const {
        unsigned n = 0;
        for (bool level : irq_changes)
            n += level ? 1 : 0;
        return n;
    }

    void lba28(std::uint32_t lba, std::uint8_t count, std::uint8_t command) {
        out(kSectorCount, count);
        out(kLbaLow, static_cast<std::uint8_t>(lba));
        out(kLbaMid, static_cast<std::uint8_t>(lba >> 8));
        out(kLbaHigh, static_cast<std::uint8_t>(lba >> 16));
        out(kDevice, static_cast<std::uint8_t>(0xE0 | (lba >> 24 & 0x0F)));
        out(kStatus, command);
    }
    // ATA-6, 48-bit address feature set: each register written twice, the high-order byte first.
    void lba48(std::uint64_t lba, std::uint16_t count, std::uint8_t command) {
        out(kSectorCount, static_cast<std::uint8_t>(count >> 8));
        out(kSectorCount, static_cast<std::uint8_t>(count));
        out(kLbaLow, static_cast<std::uint8_t>(lba >> 24));
        out(kLbaLow, static_cast<std::uint8_t>(lba));
        out(kLbaMid, static_cast<std::uint8_t>(lba >> 32));
        out(kLbaMid, static_cast<std::uint8_t>(lba >> 8));
        out(kLbaHigh, static_cast<std::uint8_t>(lba >> 40));
        out(kLbaHigh, static_cast<std::uint8_t>(lba >> 16));
        out(kDevice, 0x40);
        out(kStatus, command);
    }
    void chs(unsigned cylinder, unsigned head, unsigned sector, std::uint8_t count,
             std::uint8_t command) {
        out(kSectorCount, count);
        out(kLbaLow, static_cast<std::uint8_t>(sector));
        out(kLbaMid, static_cast<std::uint8_t>(cylinder));
        out(kLbaHigh, static_cast<std::uint8_t>(cylinder >> 8));
        out(kDevice, static_cast<std::uint8_t>(0xA0 | head));
        out(kStatus, command);
    }
    // Reads `bytes` through the 16-bit data port.
    std::vector<std::uint8_t> read_data(std::size_t bytes) {
        std::vector<std::uint8_t> v;
        for (std::size_t i = 0; i < bytes; i += 2) {
            const std::uint32_t w = ata.io_read(kData, 2);
            v.push_back(static_cast<std::uint8_t>(w));
            v.push_back(static_cast<std::uint8_t>(w >> 8));
        }
        return v;
    }
    void write_data(const std::vector<std::uint8_t>& bytes, std::size_t first, std::size_t count) {
        for (std::size_t i = first; i < first + count; i += 2) {
            ata.io_write(kData, 2, static_cast<std::uint32_t>(bytes[i] | bytes[i + 1] << 8));
        }
    }
    std::vector<std::uint16_t> identify() {
        out(kDevice, 0xA0);
        out(kStatus, 0xEC);
        REQUIRE(status() == kDataReady);
        std::vector<std::uint16_t> words;
        for (unsigned i = 0; i < 256; ++i) {
            words.push_back(static_cast<std::uint16_t>(ata.io_read(kData, 2)));
        }
        CHECK(status() == kIdle);
        return words;
    }
    std::vector<std::uint8_t> image_sectors(std::uint64_t lba, unsigned count) {
        std::vector<std::uint8_t> v(std::size_t{count} * 512);
        REQUIRE(disk.read(lba, count, v).ok());
        return v;
    }
};

std::string ata_string(const std::vector<std::uint16_t>& words, unsigned first, unsigned count) {
    std::string s;
    for (unsigned i = first; i < first + count; ++i) {
        s += static_cast<char>(words[i] >> 8);
        s += static_cast<char>(words[i] & 0xFF);
    }
    return s;
}

std::uint64_t words_value(const std::vector<std::uint16_t>& w, unsigned first, unsigned count) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < count; ++i)
        v |= std::uint64_t{w[first + i]} << (16 * i);
    return v;
}

// A sparse read-only file of `sectors` sectors (zeros), removed at the end.
struct SparseImage {
    std::filesystem::path path;
    explicit SparseImage(std::uint64_t sectors)
        : path(std::filesystem::temp_directory_path() /
               ("jitterbug_ata_test_" + std::to_string(::getpid()) + ".img")) {
        std::ofstream(path, std::ios::binary | std::ios::trunc).put('\0');
        std::filesystem::resize_file(path, sectors * 512);
    }
    ~SparseImage() { std::filesystem::remove(path); }
};

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("IDENTIFY DEVICE describes the disk's geometry capacities and features") {
        Channel c(5000);
        const std::vector<std::uint16_t> w = c.identify();
        CHECK((w[0] & 0x8000) == 0);  // an ATA device
        CHECK(w[1] == 5000 / (16 * 63));
        CHECK(w[3] == 16);
        CHECK(w[6] == 63);
        const std::string serial = ata_string(w, 10, 10);
        CHECK(serial.size() == 20);
        CHECK(serial.find_first_not_of(' ') != std::string::npos);
        CHECK(ata_string(w, 23, 4).find_first_not_of(' ') != std::string::npos);
        CHECK(ata_string(w, 27, 20) == "jitterbug disk                          ");
        // The first character in the high byte: the data port gives "ij".
        CHECK(w[27] == 0x6A69);
        CHECK(w[47] == 0x8010);
        CHECK((w[49] & 0x0200) != 0);
        CHECK(words_value(w, 60, 2) == 5000);
        CHECK((w[83] & 0xC000) == 0x4000);
        CHECK((w[83] & 0x0400) != 0);
        CHECK((w[86] & 0x0400) != 0);
        CHECK(words_value(w, 100, 4) == 5000);
        // Word 255: the signature A5h and a checksum for a byte sum of 0.
        CHECK((w[255] & 0xFF) == 0xA5);
        unsigned sum = 0;
        for (std::uint16_t word : w)
            sum += (word & 0xFF) + (word >> 8);
        CHECK((sum & 0xFF) == 0);
        // One interrupt: the data block ready.
        CHECK(c.irq_changes == std::vector<bool>{true, false});
    }

    TEST_CASE("IDENTIFY DEVICE caps cylinders at 16383 and LBA28 capacity below 2^28") {
        const std::uint64_t sectors = 0x10000100;
        SparseImage file(sectors);
        auto image = DiskImage::open(file.path, false);
        REQUIRE(image.ok());
        Channel c(std::move(image.value()));
        const std::vector<std::uint16_t> w = c.identify();
        CHECK(w[1] == 16383);
        CHECK(words_value(w, 60, 2) == 0x0FFFFFFF);
        CHECK(words_value(w, 100, 4) == sectors);
    }

    TEST_CASE("READ SECTORS in LBA28 gives each sector behind DRQ with one interrupt per sector") {
        Channel c(64);
        c.lba28(10, 3, 0x20);
        for (unsigned s = 0; s < 3; ++s) {
            CHECK(c.irq());
            CHECK(c.alt_status() == kDataReady);
            CHECK(c.irq());
            CHECK(c.status() == kDataReady);
            CHECK_FALSE(c.irq());
            CHECK(c.read_data(512) == pattern_sectors(10 + s, 1));
        }
        CHECK(c.status() == kIdle);
        CHECK_FALSE(c.irq());
        CHECK(c.interrupts() == 3);
    }

    TEST_CASE("the 32-bit data port reads two words at a time") {
        Channel c(16);
        c.lba28(5, 1, 0x20);
        std::vector<std::uint8_t> got;
        for (unsigned i = 0; i < 128; ++i) {
            const std::uint32_t d = c.ata.io_read(kData, 4);
            for (unsigned b = 0; b < 4; ++b)
                got.push_back(static_cast<std::uint8_t>(d >> (8 * b)));
        }
        CHECK(got == pattern_sectors(5, 1));
        CHECK(c.status() == kIdle);
    }

    TEST_CASE("WRITE SECTORS asks for the first sector without an interrupt and one after each") {
        Channel c(64);
        const std::vector<std::uint8_t> data = filled(3, 0x40);
        c.lba28(20, 3, 0x30);
        CHECK(c.status() == kDataReady);
        CHECK(c.interrupts() == 0);
        for (unsigned s = 0; s < 3; ++s) {
            c.write_data(data, s * 512, 510);
            CHECK(c.interrupts() == s);
            c.write_data(data, s * 512 + 510, 2);
            CHECK(c.irq());
            CHECK(c.interrupts() == s + 1);
            CHECK(c.status() == (s < 2 ? kDataReady : kIdle));
        }
        CHECK(c.image_sectors(20, 3) == data);
        CHECK(c.image_sectors(19, 1) == pattern_sectors(19, 1));
        CHECK(c.image_sectors(23, 1) == pattern_sectors(23, 1));

        // And a single sector through 32-bit writes.
        c.lba28(63, 1, 0x30);
        for (unsigned i = 0; i < 512; i += 4) {
            c.ata.io_write(kData, 4,
                           static_cast<std::uint32_t>(data[i] | data[i + 1] << 8 |
                                                      data[i + 2] << 16 | data[i + 3] << 24));
        }
        CHECK(c.status() == kIdle);
        CHECK(c.image_sectors(63, 1) == filled(1, 0x40));
    }

    TEST_CASE("LBA48 commands take the address and count from the previous and current bytes") {
        const std::uint64_t sectors = 0x10000100;
        SparseImage file(sectors);
        auto image = DiskImage::open(file.path, false);
        REQUIRE(image.ok());
        Channel c(std::move(image.value()));
        const std::uint64_t lba = 0x100000F0;  // beyond LBA28's reach
        const std::vector<std::uint8_t> data = filled(2, 0x11);
        c.lba48(lba, 2, 0x34);
        REQUIRE(c.status() == kDataReady);
        c.write_data(data, 0, 512);
        CHECK(c.status() == kDataReady);
        c.write_data(data, 512, 512);
        CHECK(c.status() == kIdle);
        CHECK(c.interrupts() == 2);
        CHECK(c.disk.overlay().count(lba) == 1);
        CHECK(c.disk.overlay().count(lba + 1) == 1);

        c.lba48(lba - 1, 3, 0x24);
        CHECK(c.status() == kDataReady);
        CHECK(c.read_data(512) == std::vector<std::uint8_t>(512, 0));
        CHECK(c.read_data(1024) == data);
        CHECK(c.status() == kIdle);

        // HOB set reads the previous bytes back; a register write clears it.
        c.out(kControl, 0x80);
        CHECK(c.in(kSectorCount) == 0x00);
        CHECK(c.in(kLbaLow) == 0x10);
        CHECK(c.in(kLbaMid) == 0x00);
        c.out(kControl, 0x00);
        CHECK(c.in(kSectorCount) == 0x03);
        CHECK(c.in(kLbaLow) == 0xEF);
        c.out(kControl, 0x80);
        c.out(kLbaHigh, 0x77);
        CHECK(c.in(kLbaLow) == 0xEF);

        // A count of 0 is 65536 sectors, and the whole medium verifies.
        c.lba48(0, 0, 0x42);
        CHECK(c.status() == kIdle);
        c.lba48(sectors - 65535, 0, 0x42);
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x10);
    }

    TEST_CASE("LBA48 commands on a small disk read pattern data") {
        Channel c(300);
        c.lba48(0x123, 2, 0x24);
        CHECK(c.read_data(1024) == pattern_sectors(0x123, 2));
        CHECK(c.status() == kIdle);
        c.lba48(0, 0, 0x42);  // 65536 sectors: past the end
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x10);
        c.lba48(0, 300, 0x42);
        CHECK(c.status() == kIdle);
    }

    TEST_CASE("CHS addresses use 16 heads and 63 sectors per track and count sectors from 1") {
        Channel c(2048);
        // LBA = (C * 16 + H) * 63 + S - 1 = (1 * 16 + 2) * 63 + 4 = 1138.
        c.chs(1, 2, 5, 2, 0x20);
        CHECK(c.status() == kDataReady);
        CHECK(c.read_data(1024) == pattern_sectors(1138, 2));
        CHECK(c.status() == kIdle);

        const std::vector<std::uint8_t> data = filled(1, 0x99);
        c.chs(0, 0, 1, 1, 0x30);
        c.write_data(data, 0, 512);
        CHECK(c.status() == kIdle);
        CHECK(c.image_sectors(0, 1) == data);

        c.chs(0, 0, 0, 1, 0x20);  // sector 0 does not exist
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x10);
        c.chs(0, 0, 64, 1, 0x20);
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x10);
    }

    TEST_CASE("INITIALIZE DEVICE PARAMETERS changes the CHS translation") {
        Channel c(2048);
        c.out(kSectorCount, 32);
        c.out(kDevice, 0xA3);  // 4 heads
        c.out(kStatus, 0x91);
        CHECK(c.status() == kIdle);
        // (1 * 4 + 3) * 32 + 10 - 1 = 233.
        c.chs(1, 3, 10, 1, 0x20);
        CHECK(c.read_data(512) == pattern_sectors(233, 1));
        const std::vector<std::uint16_t> w = c.identify();
        CHECK(w[55] == 4);
        CHECK(w[56] == 32);
        CHECK(w[54] == 2048 / (4 * 32));
        CHECK(w[3] == 16);  // the default translation is unchanged
    }

    TEST_CASE("READ MULTIPLE gives blocks of the SET MULTIPLE MODE size with an interrupt each") {
        Channel c(64);
        c.lba28(0, 4, 0xC4);  // multiple mode not yet enabled
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x04);
        c.out(kSectorCount, 3);  // not a power of two
        c.out(kStatus, 0xC6);
        CHECK(c.status() == kFailed);
        c.out(kSectorCount, 32);  // more than word 47's 16
        c.out(kStatus, 0xC6);
        CHECK(c.status() == kFailed);
        c.out(kSectorCount, 4);
        c.out(kStatus, 0xC6);
        CHECK(c.status() == kIdle);
        CHECK((c.identify()[59]) == 0x0104);

        c.irq_changes.clear();
        c.lba28(30, 10, 0xC4);
        const unsigned blocks[] = {4, 4, 2};
        unsigned lba = 30;
        for (unsigned b = 0; b < 3; ++b) {
            CHECK(c.irq());
            CHECK(c.status() == kDataReady);
            const unsigned bytes = blocks[b] * 512;
            const std::vector<std::uint8_t> expected = pattern_sectors(lba, blocks[b]);
            CHECK(c.read_data(bytes - 2) ==
                  std::vector<std::uint8_t>(expected.begin(), expected.end() - 2));
            CHECK(c.alt_status() == kDataReady);
            CHECK(c.interrupts() == b + 1);
            c.read_data(2);
            lba += blocks[b];
        }
        CHECK(c.status() == kIdle);
        CHECK(c.interrupts() == 3);

        // READ MULTIPLE EXT too.
        c.lba48(2, 5, 0x29);
        CHECK(c.read_data(4 * 512) == pattern_sectors(2, 4));
        CHECK(c.status() == kDataReady);
        CHECK(c.read_data(512) == pattern_sectors(6, 1));
        CHECK(c.status() == kIdle);
    }

    TEST_CASE("WRITE MULTIPLE takes blocks and interrupts after each one") {
        Channel c(64);
        c.out(kSectorCount, 2);
        c.out(kStatus, 0xC6);
        CHECK(c.status() == kIdle);
        c.irq_changes.clear();
        const std::vector<std::uint8_t> data = filled(5, 0x21);
        c.lba28(40, 5, 0xC5);
        CHECK(c.status() == kDataReady);
        CHECK(c.interrupts() == 0);
        c.write_data(data, 0, 1024);
        CHECK(c.interrupts() == 1);
        CHECK(c.status() == kDataReady);
        c.write_data(data, 1024, 1024);
        CHECK(c.interrupts() == 2);
        CHECK(c.status() == kDataReady);
        c.write_data(data, 2048, 512);
        CHECK(c.interrupts() == 3);
        CHECK(c.status() == kIdle);
        CHECK(c.image_sectors(40, 5) == data);

        c.lba48(50, 3, 0x39);
        c.write_data(data, 0, 3 * 512);
        CHECK(c.status() == kIdle);
        CHECK(c.image_sectors(50, 3) ==
              std::vector<std::uint8_t>(data.begin(), data.begin() + 3 * 512));
    }

    TEST_CASE("nIEN keeps INTRQ low and reading alternate status leaves the interrupt pending") {
        Channel c(16);
        c.out(kControl, 0x02);
        c.lba28(1, 1, 0x20);
        CHECK_FALSE(c.irq());
        CHECK(c.alt_status() == kDataReady);
        CHECK(c.irq_changes.empty());
        c.out(kControl, 0x00);  // the interrupt is still pending
        CHECK(c.irq());
        CHECK(c.alt_status() == kDataReady);
        CHECK(c.irq());
        CHECK(c.status() == kDataReady);
        CHECK_FALSE(c.irq());
        CHECK(c.irq_changes == std::vector<bool>{true, false});
    }

    TEST_CASE("SRST holds the device busy and leaves the signature without an interrupt") {
        Channel c(16);
        c.lba28(3, 2, 0x20);  // a read left half done
        c.out(kLbaMid, 0x12);
        c.out(kLbaHigh, 0x34);
        c.out(kControl, 0x04);
        CHECK(c.alt_status() == 0x80);
        CHECK_FALSE(c.irq());
        c.out(kControl, 0x00);
        CHECK(c.status() == kIdle);
        CHECK(c.in(kSectorCount) == 0x01);
        CHECK(c.in(kLbaLow) == 0x01);
        CHECK(c.in(kLbaMid) == 0x00);
        CHECK(c.in(kLbaHigh) == 0x00);
        CHECK(c.in(kDevice) == 0x00);
        CHECK(c.in(kError) == 0x01);
        CHECK_FALSE(c.irq());
        CHECK(c.ata.io_read(kData, 2) == 0);  // the transfer is gone
    }

    TEST_CASE("EXECUTE DEVICE DIAGNOSTIC reports success and the signature with an interrupt") {
        Channel c(16);
        c.out(kLbaMid, 0x55);
        c.out(kStatus, 0x90);
        CHECK(c.irq());
        CHECK(c.status() == kIdle);
        CHECK(c.in(kError) == 0x01);
        CHECK(c.in(kSectorCount) == 0x01);
        CHECK(c.in(kLbaLow) == 0x01);
        CHECK(c.in(kLbaMid) == 0x00);
        CHECK(c.in(kLbaHigh) == 0x00);
    }

    TEST_CASE("an absent slave reads status 0 and ignores commands") {
        Channel c(16);
        c.out(kDevice, 0xB0);
        CHECK(c.status() == 0x00);
        CHECK(c.alt_status() == 0x00);
        c.out(kStatus, 0xEC);
        CHECK(c.status() == 0x00);
        CHECK_FALSE(c.irq());
        CHECK(c.ata.io_read(kData, 2) == 0);
        c.out(kDevice, 0xA0);
        CHECK(c.status() == kIdle);
        CHECK(c.irq_changes.empty());
    }

    TEST_CASE("a slave disk answers when selected and the master keeps its own state") {
        std::vector<bool> changes;
        DiskImage master = DiskImage::from_bytes(pattern(8));
        DiskImage slave = DiskImage::from_bytes(filled(8, 0x70));
        Ata ata(&master, &slave, [&](bool level) { changes.push_back(level); });
        ata.io_write(kSectorCount, 1, 1);
        ata.io_write(kLbaLow, 1, 2);
        ata.io_write(kLbaMid, 1, 0);
        ata.io_write(kLbaHigh, 1, 0);
        ata.io_write(kDevice, 1, 0xF0);
        ata.io_write(kStatus, 1, 0x20);
        CHECK(ata.io_read(kStatus, 1) == kDataReady);
        std::vector<std::uint8_t> got;
        for (unsigned i = 0; i < 256; ++i) {
            const std::uint32_t w = ata.io_read(kData, 2);
            got.push_back(static_cast<std::uint8_t>(w));
            got.push_back(static_cast<std::uint8_t>(w >> 8));
        }
        const std::vector<std::uint8_t> slave_data = filled(8, 0x70);
        CHECK(got ==
              std::vector<std::uint8_t>(slave_data.begin() + 1024, slave_data.begin() + 1536));
        ata.io_write(kDevice, 1, 0xE0);
        CHECK(ata.io_read(kStatus, 1) == kIdle);
        CHECK(changes == std::vector<bool>{true, false});
    }

    TEST_CASE("unknown commands and IDENTIFY PACKET DEVICE are aborted") {
        for (const std::uint8_t command : {0x00, 0xA1, 0xA0, 0xFF, 0xC8}) {
            Channel c(16);
            c.out(kStatus, command);
            CHECK(c.irq());
            CHECK(c.status() == kFailed);
            CHECK(c.in(kError) == 0x04);
        }
        Channel c(16);
        c.out(kError, 0x99);  // not a SET FEATURES subcommand
        c.out(kStatus, 0xEF);
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x04);
        c.out(kError, 0x03);  // set transfer mode: PIO mode 4
        c.out(kSectorCount, 0x0C);
        c.out(kStatus, 0xEF);
        CHECK(c.status() == kIdle);
        CHECK(c.in(kError) == 0x00);
        for (const std::uint8_t command : {0x10, 0x1F, 0xE7, 0xEA}) {
            c.out(kStatus, command);
            CHECK(c.irq());
            CHECK(c.status() == kIdle);
        }
    }

    TEST_CASE("addresses past the end of the disk fail with IDNF") {
        Channel c(100);
        c.lba28(100, 1, 0x20);
        CHECK(c.irq());
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x10);
        c.lba28(98, 3, 0x30);
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x10);
        c.lba28(99, 1, 0x40);
        CHECK(c.status() == kIdle);
        c.lba28(99, 2, 0x40);
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x10);
        CHECK(c.disk.overlay().empty());
    }

    TEST_CASE("a sector count of 0 reads 256 sectors in LBA28") {
        Channel c(300);
        c.lba28(10, 0, 0x20);
        for (unsigned s = 0; s < 256; ++s) {
            REQUIRE(c.status() == kDataReady);
            REQUIRE(c.read_data(512) == pattern_sectors(10 + s, 1));
        }
        CHECK(c.status() == kIdle);
        CHECK(c.interrupts() == 256);
        c.lba28(50, 0, 0x20);  // 50 + 256 > 300
        CHECK(c.status() == kFailed);
        CHECK(c.in(kError) == 0x10);
    }

    TEST_CASE("save and restore in the middle of a transfer continue identically") {
        Channel c(64);
        c.out(kSectorCount, 2);
        c.out(kStatus, 0xC6);
        c.status();
        c.lba28(7, 5, 0xC4);
        c.read_data(300);
        const Ata::State saved = c.ata.save();
        CHECK(saved.irq);
        const std::vector<std::uint8_t> first = c.read_data(5 * 512 - 300);
        const std::vector<std::uint8_t> expected = pattern_sectors(7, 5);
        CHECK(first == std::vector<std::uint8_t>(expected.begin() + 300, expected.end()));
        const Ata::State after = c.ata.save();

        Channel d(64);
        d.ata.restore(saved);
        CHECK(d.irq_changes == std::vector<bool>{true});
        CHECK(d.ata.save() == saved);
        CHECK(d.read_data(5 * 512 - 300) == first);
        CHECK(d.ata.save() == after);

        // A write half done, restored, ends with the same sectors written.
        c.lba28(20, 2, 0x30);
        const std::vector<std::uint8_t> data = filled(2, 0x5C);
        c.write_data(data, 0, 700);
        const Ata::State mid_write = c.ata.save();
        const DiskImage::Overlay overlay = c.disk.overlay();
        c.write_data(data, 700, 324);
        CHECK(c.image_sectors(20, 2) == data);
        d.ata.restore(mid_write);
        d.disk.restore_overlay(overlay);
        d.write_data(data, 700, 324);
        CHECK(d.image_sectors(20, 2) == data);
        CHECK(d.ata.save() == c.ata.save());
    }
}
