// HostMemory: a block of host memory reserved for guest RAM or ROM,
// zero-filled, released when the object goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace jitterbug::mmu {

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

  private:
    void release();
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace jitterbug::mmu
