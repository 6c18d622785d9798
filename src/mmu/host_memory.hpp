// HostMemory: a block of host memory reserved for guest RAM or ROM,
// zero-filled, released when the object goes. It is a memory file's pages
// where the host has memfd_create (else private memory), so that it can
// also appear in a CPU's GuestWindow (FileBacking).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace jitterbug::mmu {

// Host bytes that are a file's, from `offset`: they can be mapped again.
struct FileBacking {
    int fd = -1;  // -1: none
    std::uint64_t offset = 0;
};

class HostMemory {
  public:
    HostMemory() = default;
    // Reserves `size` zeroed bytes; pages are committed by the host on first touch.
    explicit HostMemory(std::size_t size);
    HostMemory(HostMemory&& other) noexcept;
    HostMemory& operator=(HostMemory&& other) noexcept;
    HostMemory(const HostMemory&) = delete;
    HostMemory& operator=(const HostMemory&) = delete;
    ~HostMemory();

    bool valid() const { return data_ != nullptr; }
    std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }
    std::span<std::uint8_t> bytes() const { return {data_, size_}; }
    // The file behind bytes `part` of this block (none without memfd).
    FileBacking backing(std::span<const std::uint8_t> part) const {
        if (fd_ < 0) return {};
        return {fd_, static_cast<std::uint64_t>(part.data() - data_)};
    }

  private:
    void release();
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    int fd_ = -1;
};

}  // namespace jitterbug::mmu
