// HostMemory: a block of host memory reserved for guest RAM or ROM,
// zero-filled, released when the object goes. It starts as private memory
// and becomes a memory file's pages (memfd_create) when it is first asked
// for its file, so that it can also appear in a CPU's GuestWindow
// (FileBacking): a memory file costs a third of the time to create an
// instance, and most short-lived instances never make a window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace jitterbug::mmu {

class HostMemory;

// Host bytes that can be a file's, from `offset`, so they can be mapped
// again: memory->file() (none: no memory or no file).
struct FileBacking {
    const HostMemory* memory = nullptr;
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
    // The file that can be behind bytes `part` of this block. (It refers to
    // this object: the object must not move while it is used.)
    FileBacking backing(std::span<const std::uint8_t> part) const {
        if (!valid()) return {};
        return {this, static_cast<std::uint64_t>(part.data() - data_)};
    }
    // The memory file whose pages the block is, made now if it is not yet
    // (the bytes are copied into it and it replaces the private memory at
    // the same addresses: data() stays). -1 where the host has none or it
    // cannot be made. Not while another thread accesses the block: a write
    // during the copy would be lost.
    int file() const;

  private:
    void release();
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    mutable int fd_ = -1;
    mutable bool file_tried_ = false;
};

}  // namespace jitterbug::mmu
