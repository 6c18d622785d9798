#include "devices/disk_image.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace jitterbug::devices {

namespace {

Error system_error(const std::string& what, const std::string& name) {
    return Error{fmt::format("{} '{}': {}", what, name, std::strerror(errno))};
}

}  // namespace

Result<DiskImage> DiskImage::open(const std::filesystem::path& path, bool writable) {
    DiskImage image;
    image.name_ = path.string();
    image.writable_ = writable;
    image.fd_ = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (image.fd_ < 0) return system_error("cannot open disk image", image.name_);
    struct stat st {};
    if (::fstat(image.fd_, &st) != 0) return system_error("cannot stat disk image", image.name_);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        return Error{fmt::format("disk image '{}' is not a file", image.name_)};
    }
    image.size_ = static_cast<std::uint64_t>(st.st_size);
    if (image.size_ == 0) return Error{fmt::format("disk image '{}' is empty", image.name_)};
    return image;
}

DiskImage DiskImage::from_bytes(std::vector<std::uint8_t> bytes) {
    DiskImage image;
    image.name_ = "(memory)";
    image.size_ = bytes.size();
    image.bytes_ = std::move(bytes);
    return image;
}

DiskImage::DiskImage(DiskImage&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      bytes_(std::move(other.bytes_)),
      size_(other.size_),
      writable_(other.writable_),
      name_(std::move(other.name_)),
      overlay_(std::move(other.overlay_)) {}

DiskImage& DiskImage::operator=(DiskImage&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        bytes_ = std::move(other.bytes_);
        size_ = other.size_;
        writable_ = other.writable_;
        name_ = std::move(other.name_);
        overlay_ = std::move(other.overlay_);
    }
    return *this;
}

DiskImage::~DiskImage() {
    if (fd_ >= 0) ::close(fd_);
}

Result<void> DiskImage::check_range(std::uint64_t lba, std::uint32_t count,
                                    std::size_t span_size) const {
    if (lba > sectors() || count > sectors() - lba) {
        return Error{fmt::format("sectors {}+{} are past the end of disk image '{}' ({} sectors)",
                                 lba, count, name_, sectors())};
    }
    if (span_size < std::size_t{count} * kSectorSize) {
        return Error{fmt::format("a buffer of {} bytes cannot hold {} sectors", span_size, count)};
    }
    return {};
}

Result<void> DiskImage::read_backing(std::uint64_t lba, std::span<std::uint8_t> out) const {
    const std::uint64_t offset = lba * kSectorSize;
    const auto length =
        static_cast<std::size_t>(std::min<std::uint64_t>(kSectorSize, size_ - offset));
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(length), out.begin() + kSectorSize, 0);
    if (fd_ < 0) {
        std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), length, out.begin());
        return {};
    }
    std::size_t done = 0;
    while (done < length) {
        const ssize_t n =
            ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return system_error("cannot read disk image", name_);
        if (n == 0) {  // the file shrank under us: what is gone reads as zeros
            std::fill(out.begin() + static_cast<std::ptrdiff_t>(done),
                      out.begin() + static_cast<std::ptrdiff_t>(length), 0);
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> DiskImage::write_file(std::uint64_t lba, std::span<const std::uint8_t> in) {
    const std::uint64_t offset = lba * kSectorSize;
    const auto length =
        static_cast<std::size_t>(std::min<std::uint64_t>(kSectorSize, size_ - offset));
    std::size_t done = 0;
    while (done < length) {
        const ssize_t n =
            ::pwrite(fd_, in.data() + done, length - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return system_error("cannot write disk image", name_);
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> DiskImage::read(std::uint64_t lba, std::uint32_t count, std::span<std::uint8_t> out) {
    if (auto ok = check_range(lba, count, out.size()); !ok) return ok;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::span<std::uint8_t> sector =
            out.subspan(std::size_t{i} * kSectorSize, kSectorSize);
        if (const auto it = overlay_.find(lba + i); it != overlay_.end()) {
            std::copy(it->second.begin(), it->second.end(), sector.begin());
        } else if (auto ok = read_backing(lba + i, sector); !ok) {
            return ok;
        }
    }
    return {};
}

Result<void> DiskImage::write(std::uint64_t lba, std::uint32_t count,
                              std::span<const std::uint8_t> in) {
    if (auto ok = check_range(lba, count, in.size()); !ok) return ok;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::span<const std::uint8_t> sector =
            in.subspan(std::size_t{i} * kSectorSize, kSectorSize);
        if (writable_) {
            if (auto ok = write_file(lba + i, sector); !ok) return ok;
        } else {
            std::copy(sector.begin(), sector.end(), overlay_[lba + i].begin());
        }
    }
    return {};
}

}  // namespace jitterbug::devices
