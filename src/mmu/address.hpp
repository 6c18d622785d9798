// Distinct types for the address spaces a guest access passes through:
// segment offset -> linear (after segmentation) -> physical (after paging).
#pragma once

#include <compare>
#include <cstdint>

namespace jitterbug {

struct LinearAddress {
    std::uint32_t value = 0;
    auto operator<=>(const LinearAddress&) const = default;
};

struct PhysicalAddress {
    std::uint64_t value = 0;
    auto operator<=>(const PhysicalAddress&) const = default;
    PhysicalAddress operator+(std::uint64_t offset) const { return {value + offset}; }
};

constexpr unsigned kPageShift = 12;
constexpr std::uint32_t kPageSize = 1u << kPageShift;
constexpr std::uint32_t kPageOffsetMask = kPageSize - 1;
constexpr std::uint32_t kPageMask = ~kPageOffsetMask;

}  // namespace jitterbug
