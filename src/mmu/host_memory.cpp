#include "mmu/host_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace jitterbug::mmu {

HostMemory::HostMemory(std::size_t size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
        data_ = static_cast<std::uint8_t*>(p);
        size_ = size;
    }
}

int HostMemory::file() const {
    if (file_tried_ || !valid()) return fd_;
    file_tried_ = true;
    const int fd = memfd_create("jitterbug-guest-memory", MFD_CLOEXEC);
    if (fd < 0) return -1;
    void* p = MAP_FAILED;
    if (ftruncate(fd, static_cast<off_t>(size_)) == 0) {
        p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    }
    if (p == MAP_FAILED) {
        close(fd);
        return -1;
    }
    // Only pages the host has committed (present or swapped out, as
    // /proc/self/pagemap tells) can hold anything but zeros, and the file
    // starts zero-filled: copy those that are not all zeros.
    auto* to = static_cast<std::uint8_t*>(p);
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t pages = (size_ + page - 1) / page;
    std::vector<std::uint64_t> entries(pages, ~std::uint64_t{0});  // (unknown: look)
    if (const int map = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC); map >= 0) {
        const auto at = static_cast<off_t>(reinterpret_cast<std::uintptr_t>(data_) / page * 8);
        const auto want = static_cast<ssize_t>(pages * 8);
        if (pread(map, entries.data(), static_cast<std::size_t>(want), at) != want)
            entries.assign(pages, ~std::uint64_t{0});
        close(map);
    }
    constexpr std::uint64_t kPresent = std::uint64_t{1} << 63, kSwapped = std::uint64_t{1} << 62;
    for (std::size_t i = 0; i < pages; ++i) {
        if ((entries[i] & (kPresent | kSwapped)) == 0) continue;
        const std::size_t begin = i * page;
        const std::size_t n = std::min(page, size_ - begin);
        const std::uint8_t* from = data_ + begin;
        bool zero = true;
        for (std::size_t k = 0; k < n && zero; k += 8) {
            std::uint64_t v;
            std::memcpy(&v, from + k, 8);
            zero = v == 0;
        }
        if (!zero) std::memcpy(to + begin, from, n);
    }
    // The file's mapping takes the private one's place (the old pages go).
    void* moved = mremap(p, size_, size_, MREMAP_MAYMOVE | MREMAP_FIXED, data_);
    if (moved == MAP_FAILED) {
        munmap(p, size_);
        close(fd);
        return -1;
    }
    fd_ = fd;
    return fd_;
}

HostMemory::HostMemory(HostMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      fd_(std::exchange(other.fd_, -1)),
      file_tried_(std::exchange(other.file_tried_, false)) {}

HostMemory& HostMemory::operator=(HostMemory&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        fd_ = std::exchange(other.fd_, -1);
        file_tried_ = std::exchange(other.file_tried_, false);
    }
    return *this;
}

HostMemory::~HostMemory() { release(); }

void HostMemory::release() {
    if (data_) munmap(data_, size_);
    if (fd_ >= 0) close(fd_);
    data_ = nullptr;
    size_ = 0;
    fd_ = -1;
    file_tried_ = false;
}

}  // namespace jitterbug::mmu
