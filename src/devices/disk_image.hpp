// DiskImage: a raw disk image (a file of 512-byte sectors, LBA 0 first), or
// one held in memory.
//
// An image opened read-only is never modified: the guest's writes go to an
// overlay in memory (sector -> contents) that later reads see, and which is
// part of the machine's state (overlay()/restore_overlay()). An image opened
// writable takes the writes into the file itself and keeps no overlay.
//
// A file whose size is not a multiple of 512 has a last, partial sector that
// reads padded with zeros; a write to it in a writable file stores only the
// bytes inside the file, so the file's size never changes.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "jitterbug/result.hpp"

namespace jitterbug::devices {

class DiskImage {
  public:
    static constexpr std::uint32_t kSectorSize = 512;
    using Sector = std::array<std::uint8_t, kSectorSize>;
    using Overlay = std::map<std::uint64_t, Sector>;

    // Opens `path`; `writable` opens it read-write and sends writes to it.
    static Result<DiskImage> open(const std::filesystem::path& path, bool writable);
    // An image of `bytes` (the last partial sector padded with zeros); writes
    // go to the overlay.
    static DiskImage from_bytes(std::vector<std::uint8_t> bytes);

    DiskImage(DiskImage&& other) noexcept;
    DiskImage& operator=(DiskImage&& other) noexcept;
    DiskImage(const DiskImage&) = delete;
    DiskImage& operator=(const DiskImage&) = delete;
    ~DiskImage();

    std::uint64_t sectors() const { return (size_ + kSectorSize - 1) / kSectorSize; }
    std::uint64_t size_bytes() const { return size_; }
    bool writable() const { return writable_; }
    const std::string& name() const { return name_; }

    // Sectors [lba, lba + count) into / from `count` * 512 bytes of the span
    // (which must hold that many); a range past the end is an error, and
    // nothing is transferred.
    Result<void> read(std::uint64_t lba, std::uint32_t count, std::span<std::uint8_t> out);
    Result<void> write(std::uint64_t lba, std::uint32_t count, std::span<const std::uint8_t> in);

    // The sectors written so far to an image that is not writable.
    const Overlay& overlay() const { return overlay_; }
    void restore_overlay(Overlay overlay) { overlay_ = std::move(overlay); }

  private:
    DiskImage() = default;
    Result<void> check_range(std::uint64_t lba, std::uint32_t count, std::size_t span_size) const;
    // The backing store's sector `lba`, padded with zeros past its end.
    Result<void> read_backing(std::uint64_t lba, std::span<std::uint8_t> out) const;
    Result<void> write_file(std::uint64_t lba, std::span<const std::uint8_t> in);

    int fd_ = -1;                      // the file, or -1: in memory
    std::vector<std::uint8_t> bytes_;  // the contents of an in-memory image
    std::uint64_t size_ = 0;           // bytes
    bool writable_ = false;
    std::string name_;
    Overlay overlay_;
};

}  // namespace jitterbug::devices
