// Small bit-manipulation helpers shared by every component.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace jitterbug {

// Mask of the low `bits` bits (bits in 1..64).
constexpr std::uint64_t low_mask(unsigned bits) {
    return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

// Sign-extends the low `bits` bits of `value` to 64 bits.
constexpr std::int64_t sign_extend(std::uint64_t value, unsigned bits) {
    const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
    value &= low_mask(bits);
    return static_cast<std::int64_t>((value ^ sign) - sign);
}

constexpr bool is_power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Unaligned little-endian loads and stores of host memory.
template <typename T>
T load_le(const void* p) {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

template <typename T>
void store_le(void* p, T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(p, &v, sizeof(T));
}

// Little-endian fields of `n` bytes (1 to 8) in guest data, byte by byte.
inline std::uint64_t load_le_bytes(const std::uint8_t* p, unsigned n) {
    std::uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

inline void store_le_bytes(std::uint8_t* p, unsigned n, std::uint64_t v) {
    for (unsigned i = 0; i < n; ++i)
        p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace jitterbug
