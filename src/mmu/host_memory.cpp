#include "mmu/host_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <utility>

namespace jitterbug::mmu {

HostMemory::HostMemory(std::size_t size) {
    // A memory file, which a CPU's GuestWindow maps a second time.
    const int fd = memfd_create("jitterbug-guest-memory", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, static_cast<off_t>(size)) == 0) {
        void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
        if (p != MAP_FAILED) {
            data_ = static_cast<std::uint8_t*>(p);
            size_ = size;
            fd_ = fd;
            return;
        }
    }
    if (fd >= 0) close(fd);
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
        data_ = static_cast<std::uint8_t*>(p);
        size_ = size;
    }
}

HostMemory::HostMemory(HostMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      fd_(std::exchange(other.fd_, -1)) {}

HostMemory& HostMemory::operator=(HostMemory&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        fd_ = std::exchange(other.fd_, -1);
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
}

}  // namespace jitterbug::mmu
