// Wide: a binary floating-point number with a 128-bit significand, the
// working precision of the transcendental instructions (about 126 bits,
// twice what a result keeps, so that rounding the final value to 64 bits
// is almost always the correctly rounded result). Integer arithmetic only,
// and constexpr, so that series coefficients are tables built at compile
// time. Operations truncate; the exponent is an int32_t (no overflow or
// underflow at the magnitudes the x87 reaches).
#pragma once

#include <cstdint>
#include <utility>

namespace jitterbug::cpu::x87 {

using u128 = unsigned __int128;

// sign * sig * 2^(exp - 127); sig has bit 127 set, or is 0 (the value 0).
struct Wide {
    bool sign = false;
    std::int32_t exp = 0;
    u128 sig = 0;

    constexpr bool is_zero() const { return sig == 0; }
};

namespace wide {

constexpr int leading_zeros(u128 v) {
    const auto hi = static_cast<std::uint64_t>(v >> 64);
    const auto lo = static_cast<std::uint64_t>(v);
    if (hi) return __builtin_clzll(hi);
    return lo ? 64 + __builtin_clzll(lo) : 128;
}

constexpr Wide normalized(bool sign, std::int32_t exp, u128 sig) {
    if (sig == 0) return {};
    const int s = leading_zeros(sig);
    return {sign, exp - s, sig << s};
}

constexpr Wide from_uint(std::uint64_t v) { return normalized(false, 127, v); }
// hi:lo / 2^127 * 2^exp (hi's top bit set: the x87's constants).
constexpr Wide from_bits(std::int32_t exp, std::uint64_t hi, std::uint64_t lo) {
    return {false, exp, (u128{hi} << 64) | lo};
}

constexpr Wide negate(Wide a) {
    a.sign = !a.sign;
    return a;
}
constexpr Wide absolute(Wide a) {
    a.sign = false;
    return a;
}
// a * 2^n.
constexpr Wide scaled(Wide a, std::int32_t n) {
    if (!a.is_zero()) a.exp += n;
    return a;
}

// |a| < |b|.
constexpr bool smaller(const Wide& a, const Wide& b) {
    if (a.is_zero()) return !b.is_zero();
    if (b.is_zero()) return false;
    return a.exp != b.exp ? a.exp < b.exp : a.sig < b.sig;
}

constexpr Wide add(Wide a, Wide b) {
    if (a.is_zero()) return b;
    if (b.is_zero()) return a;
    if (smaller(a, b)) std::swap(a, b);
    // One bit of headroom for a carry.
    const auto d = static_cast<std::uint32_t>(a.exp - b.exp);
    const u128 x = a.sig >> 1;
    const u128 y = d + 1 >= 128 ? 0 : b.sig >> (d + 1);
    return normalized(a.sign, a.exp + 1, a.sign == b.sign ? x + y : x - y);
}
constexpr Wide sub(Wide a, Wide b) { return add(a, negate(b)); }

constexpr Wide mul(Wide a, Wide b) {
    if (a.is_zero() || b.is_zero()) return {};
    const u128 al = static_cast<std::uint64_t>(a.sig), ah = a.sig >> 64;
    const u128 bl = static_cast<std::uint64_t>(b.sig), bh = b.sig >> 64;
    const u128 ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    const u128 mid = (ll >> 64) + static_cast<std::uint64_t>(lh) + static_cast<std::uint64_t>(hl);
    u128 hi = hh + (lh >> 64) + (hl >> 64) + (mid >> 64);
    std::int32_t exp = a.exp + b.exp + 1;
    if (!(hi >> 127)) {  // the product of two [1, 2)s is in [1, 4)
        hi = hi << 1 | ((mid >> 63) & 1);
        --exp;
    }
    return {a.sign != b.sign, exp, hi};
}

// a / b, b nonzero: 128 quotient bits by long division.
constexpr Wide div(Wide a, Wide b) {
    if (a.is_zero()) return {};
    u128 r = a.sig, q = 0;
    const u128 d = b.sig;
    std::int32_t exp = a.exp - b.exp;
    bool carry = false;  // r's bit 128
    if (r < d) {
        carry = (r >> 127) != 0;
        r <<= 1;
        --exp;
    }
    for (int i = 0; i < 128; ++i) {
        q <<= 1;
        if (carry || r >= d) {
            r -= d;  // (modulo 2^128: the true difference is below d)
            q |= 1;
        }
        carry = (r >> 127) != 0;
        r <<= 1;
    }
    return {a.sign != b.sign, exp, q};
}

// floor(sqrt(n)).
constexpr std::uint64_t isqrt(u128 n) {
    u128 root = 0, bit = u128{1} << 126;
    while (bit > n)
        bit >>= 2;
    while (bit != 0) {
        if (n >= root + bit) {
            n -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return static_cast<std::uint64_t>(root);
}

// sqrt(a), a >= 0: 64 bits by integer square root, then Newton steps.
constexpr Wide sqrt(Wide a) {
    if (a.is_zero()) return {};
    // a = m * 2^(2h + odd), m = sig / 2^127 in [1, 2).
    const std::int32_t h = a.exp >> 1;
    const bool odd = (a.exp & 1) != 0;
    // m * 2^odd * 2^126 (an integer: sig or sig / 2), whose root is
    // sqrt(m * 2^odd) * 2^63.
    const std::uint64_t s = isqrt(odd ? a.sig : a.sig >> 1);
    Wide g = normalized(false, h - 63 + 127, s);
    for (int i = 0; i < 2; ++i)
        g = scaled(add(g, div(a, g)), -1);
    return g;
}

}  // namespace wide
}  // namespace jitterbug::cpu::x87
