// DiskImage: the overlay of a read-only image, writes to a writable one, the
// padded last sector, range and open errors, in-memory images.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "devices/disk_image.hpp"

using namespace jitterbug::devices;

namespace {

std::vector<std::uint8_t> pattern(std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<std::uint8_t>(i * 7 + i / 512);
    return bytes;
}

// A file in the temporary directory, removed at the end of the test.
struct TempFile {
    std::filesystem::path path;
    explicit TempFile(const std::vector<std::uint8_t>& bytes, const std::string& tag = "img")
        : path(std::filesystem::temp_directory_path() /
               ("jitterbug_disk_image_test_" + std::to_string(::getpid()) + "_" + tag)) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    }
    ~TempFile() { std::filesystem::remove(path); }
    std::vector<std::uint8_t> contents() const {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
};

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t first,
                                std::size_t count) {
    return {v.begin() + static_cast<std::ptrdiff_t>(first),
            v.begin() + static_cast<std::ptrdiff_t>(first + count)};
}

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("a read-only disk image keeps writes in its overlay and leaves the file unchanged") {
        const std::vector<std::uint8_t> original = pattern(8 * 512);
        TempFile file(original);
        auto image = DiskImage::open(file.path, false);
        REQUIRE(image.ok());
        CHECK(image->sectors() == 8);
        CHECK_FALSE(image->writable());

        std::vector<std::uint8_t> buffer(3 * 512);
        REQUIRE(image->read(2, 3, buffer).ok());
        CHECK(buffer == slice(original, 2 * 512, 3 * 512));

        const std::vector<std::uint8_t> written(2 * 512, 0xA5);
        REQUIRE(image->write(3, 2, written).ok());
        REQUIRE(image->read(2, 3, buffer).ok());
        CHECK(slice(buffer, 0, 512) == slice(original, 2 * 512, 512));
        CHECK(slice(buffer, 512, 1024) == written);
        CHECK(image->overlay().size() == 2);
        CHECK(image->overlay().count(3) == 1);
        CHECK(image->overlay().count(4) == 1);
        CHECK(file.contents() == original);

        // The overlay is state: taking an older one back undoes the writes.
        const DiskImage::Overlay saved = image->overlay();
        REQUIRE(image->write(0, 1, std::vector<std::uint8_t>(512, 0x11)).ok());
        image->restore_overlay(saved);
        REQUIRE(image->read(0, 1, buffer).ok());
        CHECK(slice(buffer, 0, 512) == slice(original, 0, 512));
    }

    TEST_CASE("a writable disk image takes writes into the file") {
        const std::vector<std::uint8_t> original = pattern(4 * 512);
        TempFile file(original);
        {
            auto image = DiskImage::open(file.path, true);
            REQUIRE(image.ok());
            CHECK(image->writable());
            REQUIRE(image->write(1, 1, std::vector<std::uint8_t>(512, 0x5A)).ok());
            CHECK(image->overlay().empty());
            std::vector<std::uint8_t> buffer(512);
            REQUIRE(image->read(1, 1, buffer).ok());
            CHECK(buffer == std::vector<std::uint8_t>(512, 0x5A));
        }
        std::vector<std::uint8_t> expected = original;
        std::fill(expected.begin() + 512, expected.begin() + 1024, 0x5A);
        CHECK(file.contents() == expected);
    }

    TEST_CASE("the partial last sector of an image reads padded with zeros") {
        const std::vector<std::uint8_t> original = pattern(2 * 512 + 100);
        TempFile file(original);
        auto image = DiskImage::open(file.path, true);
        REQUIRE(image.ok());
        CHECK(image->sectors() == 3);
        std::vector<std::uint8_t> buffer(512, 0xEE);
        REQUIRE(image->read(2, 1, buffer).ok());
        CHECK(slice(buffer, 0, 100) == slice(original, 1024, 100));
        CHECK(slice(buffer, 100, 412) == std::vector<std::uint8_t>(412, 0));

        // A write keeps the file's size: the bytes past its end are dropped.
        REQUIRE(image->write(2, 1, std::vector<std::uint8_t>(512, 0x33)).ok());
        CHECK(file.contents().size() == original.size());
        REQUIRE(image->read(2, 1, buffer).ok());
        CHECK(slice(buffer, 0, 100) == std::vector<std::uint8_t>(100, 0x33));
        CHECK(slice(buffer, 100, 412) == std::vector<std::uint8_t>(412, 0));

        DiskImage memory = DiskImage::from_bytes(pattern(700));
        CHECK(memory.sectors() == 2);
        REQUIRE(memory.read(1, 1, buffer).ok());
        CHECK(slice(buffer, 0, 188) == slice(pattern(700), 512, 188));
        CHECK(slice(buffer, 188, 324) == std::vector<std::uint8_t>(324, 0));
    }

    TEST_CASE("reads and writes past the end of a disk image are errors that transfer nothing") {
        DiskImage image = DiskImage::from_bytes(pattern(4 * 512));
        std::vector<std::uint8_t> buffer(2 * 512, 0xEE);
        CHECK_FALSE(image.read(3, 2, buffer).ok());
        CHECK(buffer == std::vector<std::uint8_t>(2 * 512, 0xEE));
        CHECK_FALSE(image.read(4, 1, buffer).ok());
        CHECK_FALSE(image.read(0xFFFFFFFFFFFFFFFFull, 1, buffer).ok());
        CHECK_FALSE(image.write(3, 2, buffer).ok());
        CHECK(image.overlay().empty());
        CHECK(image.read(3, 1, buffer).ok());
        // A buffer too small for the count is refused too.
        CHECK_FALSE(image.read(0, 3, buffer).ok());
    }

    TEST_CASE("opening a missing or empty disk image fails with an error naming the file") {
        const std::filesystem::path missing =
            std::filesystem::temp_directory_path() / "jitterbug_no_such_disk_image.img";
        auto image = DiskImage::open(missing, false);
        REQUIRE_FALSE(image.ok());
        CHECK(image.error().message.find(missing.string()) != std::string::npos);

        TempFile empty({}, "empty");
        auto opened = DiskImage::open(empty.path, false);
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.error().message.find("empty") != std::string::npos);
    }
}
