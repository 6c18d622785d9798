#include "cpu/x87/float80.hpp"

#include <cstdint>
#include <utility>

#include "cpu/x87/wide.hpp"

namespace jitterbug::cpu::x87 {

namespace {

// The bias adjustment of an unmasked overflow or underflow's result
// (SDM Vol. 1, 8.5.4 and 8.5.5).
constexpr int kBiasAdjust = 24576;

unsigned leading_zeros(std::uint64_t x) {
    return x ? static_cast<unsigned>(__builtin_clzll(x)) : 64;
}

u128 shift_right_jam(u128 v, unsigned n) {
    if (n == 0) return v;
    if (n >= 128) return v != 0;
    const u128 lost = v & ((u128{1} << n) - 1);
    return (v >> n) | (lost != 0);
}

// A finite nonzero value: sign, a biased exponent that may lie outside
// 1..0x7FFE, and a normalized significand (bit 63 set). Its value is
// significand * 2^(exponent - kBias - 63).
struct Unpacked {
    bool sign = false;
    std::int32_t exponent = 0;
    std::uint64_t significand = 0;
};

// (x is Normal or Denormal.)
Unpacked unpack(Float80 x) {
    Unpacked u{x.sign(), static_cast<std::int32_t>(x.exponent()), x.significand};
    if (u.exponent == 0) u.exponent = 1;  // denormals and pseudo-denormals
    const unsigned shift = leading_zeros(u.significand);
    u.significand <<= shift;
    u.exponent -= static_cast<std::int32_t>(shift);
    return u;
}

unsigned precision_bits(const Env& env) {
    switch (env.precision()) {
        case Precision::Single:
            return 24;
        case Precision::Double:
            return 53;
        default:
            return 64;
    }
}

// Rounds v at bit `pos` (the bits below go), by the rounding control, for
// a value of sign `sign`. v < 2^127, so a carry stays in range.
u128 round_at(u128 v, unsigned pos, bool sign, Rounding rc, bool& inexact, bool& up) {
    up = false;
    inexact = false;
    if (pos == 0) return v;
    const u128 unit = u128{1} << pos;
    const u128 dropped = v & (unit - 1);
    v -= dropped;
    if (dropped == 0) return v;
    inexact = true;
    const u128 half = unit >> 1;
    switch (rc) {
        case Rounding::Nearest:
            up = dropped > half || (dropped == half && (v & unit) != 0);
            break;
        case Rounding::Down:
            up = sign;
            break;
        case Rounding::Up:
            up = !sign;
            break;
        case Rounding::TowardZero:
            break;
    }
    if (up) v += unit;
    return v;
}

// The largest finite value with `bits` significand bits, or infinity,
// whichever the rounding control gives an overflow of sign `sign`.
bool overflow_to_infinity(Rounding rc, bool sign) {
    switch (rc) {
        case Rounding::Nearest:
            return true;
        case Rounding::Down:
            return sign;
        case Rounding::Up:
            return !sign;
        default:
            return false;
    }
}

// Rounds and packs sign * (v / 2^126) * 2^(exponent - kBias), v's integer
// bit at bit 126 (v normalized), to `bits` significand bits with the
// extended exponent range: overflow, underflow (tininess before rounding),
// denormal results and the unmasked responses (SDM Vol. 1, 4.9.1.4-6,
// 8.5.4-5).
Float80 round_pack(bool sign, std::int32_t exponent, u128 v, unsigned bits, Env& env) {
    const Rounding rc = env.rounding();
    const unsigned pos = 127 - bits;
    bool inexact = false, up = false;
    if (exponent < 1) {
        if (!env.masked(exc::UE)) {
            // Unmasked: the exponent wraps into range instead. Where even
            // that is not enough (only FSCALE gets there), the hardware gives
            // a zero, inexact.
            exponent += kBiasAdjust;
            env.flags |= exc::UE;
            if (exponent < 1) {
                env.flags |= exc::PE;
                env.rounded_up = false;
                return zero(sign);
            }
        } else {
            v = shift_right_jam(v, static_cast<unsigned>(1 - exponent));
            v = round_at(v, pos, sign, rc, inexact, up);
            if (inexact) env.flags |= exc::UE | exc::PE;
            env.rounded_up = up;
            const bool normal = (v >> 126) != 0;  // rounded up to the smallest normal
            return make(sign, normal ? 1 : 0, static_cast<std::uint64_t>(v >> 63));
        }
    }
    v = round_at(v, pos, sign, rc, inexact, up);
    if (v >> 127) {
        v >>= 1;
        ++exponent;
    }
    if (inexact) env.flags |= exc::PE;
    env.rounded_up = up;
    if (exponent >= static_cast<std::int32_t>(kMaxExponent)) {
        env.flags |= exc::OE;
        if (!env.masked(exc::OE)) {
            exponent -= kBiasAdjust;
            if (exponent >= static_cast<std::int32_t>(kMaxExponent)) {  // (as above: an infinity)
                env.flags |= exc::PE;
                env.rounded_up = true;
                return infinity(sign);
            }
        } else {
            env.flags |= exc::PE;
            if (overflow_to_infinity(rc, sign)) {
                env.rounded_up = true;
                return infinity(sign);
            }
            env.rounded_up = false;
            const std::uint64_t largest = ~std::uint64_t{0} << (64 - bits);
            return make(sign, kMaxExponent - 1, largest);
        }
    }
    return make(sign, static_cast<unsigned>(exponent), static_cast<std::uint64_t>(v >> 63));
}

Float80 round_pack(const Unpacked& u, Env& env) {
    return round_pack(u.sign, u.exponent, u128{u.significand} << 63, precision_bits(env), env);
}

}  // namespace

Float80 quieted(Float80 x) { return {x.significand | kQuietBit, x.sign_exponent}; }

Float80 propagate_nan(Float80 a, Float80 b, Env& env) {
    const Class ca = classify(a);
    const Class cb = classify(b);
    if (ca == Class::SignalingNaN || cb == Class::SignalingNaN) env.flags |= exc::IE;
    const bool na = ca == Class::QuietNaN || ca == Class::SignalingNaN;
    const bool nb = cb == Class::QuietNaN || cb == Class::SignalingNaN;
    if (na && nb) {
        if (ca != cb) return quieted(ca == Class::QuietNaN ? a : b);
        const std::uint64_t sa = a.significand | kQuietBit;
        const std::uint64_t sb = b.significand | kQuietBit;
        if (sa != sb) return quieted(sa > sb ? a : b);
        return quieted(a.sign() ? b : a);
    }
    return quieted(na ? a : b);
}

Float80 invalid(Env& env) {
    env.flags |= exc::IE;
    return kIndefinite;
}

bool special_operands(Float80 a, Float80 b, Env& env, Float80& result) {
    if (classify(a) == Class::Unsupported || classify(b) == Class::Unsupported) {
        result = invalid(env);
        return true;
    }
    if (is_nan(a) || is_nan(b)) {
        result = propagate_nan(a, b, env);
        return true;
    }
    return false;
}

bool denormal_stops(Float80 a, Float80 b, Env& env) {
    if (classify(a) != Class::Denormal && classify(b) != Class::Denormal && !env.denormal_operand)
        return false;
    env.flags |= exc::DE;
    return !env.masked(exc::DE);
}

namespace {

// The sign of an exact zero sum (SDM Vol. 1, 4.8.3.2... Table 8-?): the
// operands' when they agree, else + (- when rounding down).
bool zero_sum_sign(bool sa, bool sb, Rounding rc) { return sa == sb ? sa : rc == Rounding::Down; }

Float80 add_magnitudes(Float80 a, bool sign_b, Float80 b, Env& env) {
    const bool sa = a.sign();
    const Class ca = classify(a);
    const Class cb = classify(b);
    if (ca == Class::Infinity && cb == Class::Infinity && sa != sign_b) return invalid(env);
    if (denormal_stops(a, b, env)) return a;
    if (ca == Class::Infinity || cb == Class::Infinity) {
        return infinity(ca == Class::Infinity ? sa : sign_b);
    }
    if (ca == Class::Zero && cb == Class::Zero)
        return zero(zero_sum_sign(sa, sign_b, env.rounding()));
    if (cb == Class::Zero) return round_pack(unpack(a), env);
    if (ca == Class::Zero) {
        Unpacked u = unpack(b);
        u.sign = sign_b;
        return round_pack(u, env);
    }
    Unpacked x = unpack(a);
    Unpacked y = unpack(b);
    y.sign = sign_b;
    if (x.exponent < y.exponent || (x.exponent == y.exponent && x.significand < y.significand)) {
        std::swap(x, y);
    }
    // Integer bits at bit 126 (bit 127 takes a carry).
    const u128 vx = u128{x.significand} << 63;
    const u128 vy =
        shift_right_jam(u128{y.significand} << 63, static_cast<unsigned>(x.exponent - y.exponent));
    std::int32_t exponent = x.exponent;
    u128 v;
    if (x.sign == y.sign) {
        v = vx + vy;
        if (v >> 127) {
            v = shift_right_jam(v, 1);
            ++exponent;
        }
    } else {
        v = vx - vy;
        if (v == 0) return zero(env.rounding() == Rounding::Down);
        unsigned shift = 0;
        while (!((v << shift) >> 126))
            ++shift;  // (cancellation: exact)
        v <<= shift;
        exponent -= static_cast<std::int32_t>(shift);
    }
    return round_pack(x.sign, exponent, v, precision_bits(env), env);
}

// |x| with 64 fraction bits (the bits below jammed), for |x| < 2^63.
u128 fixed_point(const Unpacked& x) {
    const std::int32_t shift = x.exponent - kBias + 1;  // x = m * 2^(shift - 64)
    if (shift >= 0) return u128{x.significand} << shift;
    return shift_right_jam(u128{x.significand}, static_cast<unsigned>(-shift));
}

// An integer magnitude as a Float80 (zero keeps its sign).
Float80 from_magnitude(bool sign, std::uint64_t m) {
    if (m == 0) return zero(sign);
    const unsigned lz = leading_zeros(m);
    return make(sign, static_cast<unsigned>(kBias + 63 - static_cast<int>(lz)), m << lz);
}

}  // namespace

Class classify(Float80 x) {
    const unsigned e = x.exponent();
    const std::uint64_t m = x.significand;
    if (e == 0) return m == 0 ? Class::Zero : Class::Denormal;
    if (!(m & kIntegerBit)) return Class::Unsupported;  // unnormal, pseudo-NaN, pseudo-infinity
    if (e == kMaxExponent) {
        if (m == kIntegerBit) return Class::Infinity;
        return (m & kQuietBit) ? Class::QuietNaN : Class::SignalingNaN;
    }
    return Class::Normal;
}

Float80 make(bool sign, unsigned exponent, std::uint64_t significand) {
    return {significand, static_cast<std::uint16_t>((sign ? 0x8000 : 0) | (exponent & 0x7FFF))};
}

Float80 add(Float80 a, Float80 b, Env& env) {
    Float80 r;
    if (special_operands(a, b, env, r)) return r;
    return add_magnitudes(a, b.sign(), b, env);
}

Float80 sub(Float80 a, Float80 b, Env& env) {
    Float80 r;
    if (special_operands(a, b, env, r)) return r;
    return add_magnitudes(a, !b.sign(), b, env);
}

Float80 mul(Float80 a, Float80 b, Env& env) {
    Float80 r;
    if (special_operands(a, b, env, r)) return r;
    const bool sign = a.sign() != b.sign();
    const Class ca = classify(a);
    const Class cb = classify(b);
    const bool a_inf = ca == Class::Infinity, b_inf = cb == Class::Infinity;
    if ((a_inf && cb == Class::Zero) || (b_inf && ca == Class::Zero)) return invalid(env);
    if (denormal_stops(a, b, env)) return a;
    if (a_inf || b_inf) return infinity(sign);
    if (ca == Class::Zero || cb == Class::Zero) return zero(sign);
    const Unpacked x = unpack(a);
    const Unpacked y = unpack(b);
    u128 p = u128{x.significand} * y.significand;  // in [2^126, 2^128)
    std::int32_t exponent = x.exponent + y.exponent - kBias;
    if (p >> 127) {
        p = shift_right_jam(p, 1);
        ++exponent;
    }
    return round_pack(sign, exponent, p, precision_bits(env), env);
}

Float80 div(Float80 a, Float80 b, Env& env) {
    Float80 r;
    if (special_operands(a, b, env, r)) return r;
    const bool sign = a.sign() != b.sign();
    const Class ca = classify(a);
    const Class cb = classify(b);
    if ((ca == Class::Infinity && cb == Class::Infinity) ||
        (ca == Class::Zero && cb == Class::Zero)) {
        return invalid(env);
    }
    if (cb == Class::Zero && ca != Class::Infinity) {
        // (Before DE: a denormal divided by zero raises ZE alone.)
        env.flags |= exc::ZE;
        return infinity(sign);
    }
    if (denormal_stops(a, b, env)) return a;
    if (ca == Class::Infinity) return infinity(sign);
    if (cb == Class::Infinity) return zero(sign);
    if (ca == Class::Zero) return zero(sign);
    const Unpacked x = unpack(a);
    const Unpacked y = unpack(b);
    std::int32_t exponent = x.exponent - y.exponent + kBias;
    u128 dividend = u128{x.significand} << 63;
    if (x.significand < y.significand) {
        dividend <<= 1;
        --exponent;
    }
    const std::uint64_t q = static_cast<std::uint64_t>(dividend / y.significand);  // bit 63 set
    const u128 rem = dividend % y.significand;
    const u128 low = (rem << 64) / y.significand;  // the next 64 bits
    const bool sticky = ((rem << 64) % y.significand) != 0;
    const u128 v = (u128{q} << 63) | static_cast<std::uint64_t>(low >> 1) | ((low & 1) | sticky);
    return round_pack(sign, exponent, v, precision_bits(env), env);
}

Float80 sqrt(Float80 a, Env& env) {
    const Class c = classify(a);
    switch (c) {
        case Class::Unsupported:
            return invalid(env);
        case Class::QuietNaN:
        case Class::SignalingNaN:
            return propagate_nan(a, a, env);
        case Class::Zero:
            return a;
        case Class::Infinity:
            return a.sign() ? invalid(env) : a;
        default:
            break;
    }
    if (a.sign()) return invalid(env);
    if (denormal_stops(a, a, env)) return a;
    const Unpacked x = unpack(a);
    // value = m * 2^(e - 63), e = exponent - kBias; the root of m * 2^k with
    // k even: 64 or 63 bits of shift.
    const std::int32_t e = x.exponent - kBias;
    const bool odd = ((e - 63) & 1) != 0;
    const u128 n = u128{x.significand} << (odd ? 63 : 64);
    const u128 root = wide::isqrt(n);  // 64 bits, the top one set
    const u128 rem = n - root * root;
    // The next bit is 1 when rem > root (an exact half is impossible).
    const bool half = rem > root;
    const u128 v = (root << 63) | (half ? (u128{1} << 62) | 1 : (rem != 0 ? 1 : 0));
    // value = n * 2^(e - 63 - shift), so its root is root * 2^((e - 63 - shift) / 2).
    const std::int32_t shift = odd ? 63 : 64;
    const std::int32_t root_exp = (e - 63 - shift) / 2;
    return round_pack(false, root_exp + 63 + kBias, v, precision_bits(env), env);
}

Float80 round_to_integer(Float80 a, Env& env) {
    const Class c = classify(a);
    switch (c) {
        case Class::Unsupported:
            return invalid(env);
        case Class::QuietNaN:
        case Class::SignalingNaN:
            return propagate_nan(a, a, env);
        case Class::Zero:
        case Class::Infinity:
            return a;
        default:
            break;
    }
    if (denormal_stops(a, a, env)) return a;
    const Unpacked x = unpack(a);
    if (x.exponent - kBias >= 63) return a;  // an integer already
    bool inexact = false, up = false;
    const u128 f = round_at(fixed_point(x), 64, x.sign, env.rounding(), inexact, up);
    if (inexact) env.flags |= exc::PE;
    env.rounded_up = up;
    return from_magnitude(x.sign, static_cast<std::uint64_t>(f >> 64));
}

Float80 scale(Float80 a, Float80 b, Env& env) {
    Float80 r;
    if (special_operands(a, b, env, r)) return r;
    const Class ca = classify(a);
    const Class cb = classify(b);
    if (cb == Class::Infinity) {
        const bool up = !b.sign();
        if ((ca == Class::Zero && up) || (ca == Class::Infinity && !up)) return invalid(env);
        if (denormal_stops(a, b, env)) return a;
        if (ca == Class::Zero || ca == Class::Infinity) return a;
        return up ? infinity(a.sign()) : zero(a.sign());
    }
    if (denormal_stops(a, b, env)) return a;
    if (ca == Class::Zero || ca == Class::Infinity) return a;
    // trunc(b), kept within a range that overflows or underflows any a.
    std::int32_t n = 0;
    if (cb != Class::Zero) {
        const Unpacked y = unpack(b);
        const std::int32_t e = y.exponent - kBias;
        std::int64_t magnitude = 0;
        if (e >= 0)
            magnitude = e >= 20 ? (1 << 20) : static_cast<std::int64_t>(y.significand >> (63 - e));
        n = static_cast<std::int32_t>(y.sign ? -magnitude : magnitude);
    }
    const Unpacked x = unpack(a);
    return round_pack(x.sign, x.exponent + n, u128{x.significand} << 63, 64, env);
}

void extract(Float80 a, Env& env, Float80& exponent, Float80& significand) {
    const Class c = classify(a);
    switch (c) {
        case Class::Unsupported:
            exponent = significand = invalid(env);
            return;
        case Class::QuietNaN:
        case Class::SignalingNaN:
            exponent = significand = propagate_nan(a, a, env);
            return;
        case Class::Zero:
            env.flags |= exc::ZE;
            exponent = infinity(true);
            significand = a;
            return;
        case Class::Infinity:
            exponent = infinity(false);
            significand = a;
            return;
        default:
            break;
    }
    if (denormal_stops(a, a, env)) {
        exponent = significand = a;
        return;
    }
    const Unpacked x = unpack(a);
    exponent = from_int64(x.exponent - kBias);
    significand = make(x.sign, kBias, x.significand);
}

namespace {

// A nonnegative value v * 2^(exponent - kBias - 63) (v nonzero, below
// 2^65), normalized and packed exactly (it fits: remainders never round).
Float80 pack_exact(bool sign, std::int32_t exponent, u128 v, Env& env) {
    v <<= 62;  // v * 2^-64 in round_pack's form, one exponent up
    ++exponent;
    while (!(v >> 126)) {
        v <<= 1;
        --exponent;
    }
    return round_pack(sign, exponent, v, 64, env);
}

}  // namespace

Float80 remainder(Float80 a, Float80 b, bool ieee, Env& env, unsigned& quotient, bool& partial) {
    quotient = 0;
    partial = false;
    Float80 r;
    if (special_operands(a, b, env, r)) return r;
    const Class ca = classify(a);
    const Class cb = classify(b);
    if (ca == Class::Infinity || cb == Class::Zero) return invalid(env);
    if (denormal_stops(a, b, env)) return a;
    if (ca == Class::Zero || cb == Class::Infinity) return a;
    const Unpacked x = unpack(a);
    const Unpacked y = unpack(b);
    const std::int32_t d = x.exponent - y.exponent;
    if (d < 0) {
        // |a| < |b|: a quotient of 0, or for FPREM1 1 when |a| > |b| / 2,
        // that is when d = -1 and ma > mb (a tie goes to the even 0).
        if (!ieee || d < -1 || x.significand <= y.significand)
            return pack_exact(x.sign, x.exponent, x.significand, env);
        quotient = 1;
        return pack_exact(!x.sign, x.exponent, (u128{y.significand} << 1) - x.significand, env);
    }
    // The quotient's bits this round: all d of them, or (a partial
    // remainder) enough to bring the exponent difference below 64.
    std::int32_t bits = d;
    if (d >= 64) {
        partial = true;
        bits = 32 + ((d - 32) & 31);
    }
    const u128 dividend = u128{x.significand} << bits;
    u128 q = dividend / y.significand;
    u128 rem = dividend % y.significand;
    bool sign = x.sign;
    if (ieee && !partial) {
        const u128 twice = rem << 1;
        if (twice > y.significand || (twice == y.significand && (q & 1))) {
            ++q;
            rem = y.significand - rem;
            sign = !sign;
        }
    }
    quotient = static_cast<unsigned>(q & 7);
    if (rem == 0) return zero(x.sign);
    // rem is in units of b's last significand bit, scaled by what is left
    // of the exponent difference.
    return pack_exact(sign, y.exponent + (d - bits), rem, env);
}

Float80 round_wide(bool sign, std::int32_t exponent, std::uint64_t hi, std::uint64_t lo, Env& env) {
    const u128 v = shift_right_jam((u128{hi} << 64) | lo, 1);
    return round_pack(sign, exponent, v, 64, env);
}

Order compare(Float80 a, Float80 b, bool quiet, Env& env) {
    const Class ca = classify(a);
    const Class cb = classify(b);
    if (ca == Class::Unsupported || cb == Class::Unsupported) {
        env.flags |= exc::IE;
        return Order::Unordered;
    }
    if (is_nan(a) || is_nan(b)) {
        if (!quiet || ca == Class::SignalingNaN || cb == Class::SignalingNaN) env.flags |= exc::IE;
        return Order::Unordered;
    }
    // (An unmasked DE does not stop a comparison: the condition codes are set.)
    if (ca == Class::Denormal || cb == Class::Denormal || env.denormal_operand)
        env.flags |= exc::DE;
    if (ca == Class::Zero && cb == Class::Zero) return Order::Equal;
    if (a.sign() != b.sign()) return a.sign() ? Order::Less : Order::Greater;
    // Same sign: compare magnitudes (infinities and zeros order themselves).
    const auto magnitude = [](Float80 x, Class c) {
        if (c == Class::Zero) return u128{0};
        if (c == Class::Infinity) return ~u128{0};
        const Unpacked u = unpack(x);
        return (u128{static_cast<std::uint32_t>(u.exponent + 65536)} << 64) | u.significand;
    };
    const u128 ma = magnitude(a, ca);
    const u128 mb = magnitude(b, cb);
    if (ma == mb) return Order::Equal;
    return (ma < mb) != a.sign() ? Order::Less : Order::Greater;
}

namespace {

// An IEEE binary format (float32: 8 exponent, 23 fraction bits; float64:
// 11 and 52) widened exactly. A signalling NaN loaded (not an arithmetic
// operand, which keeps it for the operation) raises IE and is quietened.
Float80 from_binary(std::uint64_t bits, unsigned exp_bits, unsigned frac_bits, Env& env,
                    bool operand) {
    const bool sign = (bits >> (exp_bits + frac_bits)) & 1;
    const unsigned max_e = (1u << exp_bits) - 1;
    const int bias = static_cast<int>(max_e >> 1);
    const unsigned e = static_cast<unsigned>(bits >> frac_bits) & max_e;
    const std::uint64_t frac = bits & ((std::uint64_t{1} << frac_bits) - 1);
    const unsigned shift = 63 - frac_bits;
    if (e == max_e) {
        if (frac == 0) return infinity(sign);
        const Float80 nan = make(sign, kMaxExponent, kIntegerBit | (frac << shift));
        if (operand) return nan;
        if (!(frac >> (frac_bits - 1) & 1)) env.flags |= exc::IE;
        return quieted(nan);
    }
    if (e == 0) {
        if (frac == 0) return zero(sign);
        env.denormal_operand = true;
        // value = frac * 2^(1 - bias - frac_bits), normalized to bit 63.
        const unsigned lz = leading_zeros(frac);
        return make(sign,
                    static_cast<unsigned>(kBias + 1 - bias - static_cast<int>(frac_bits) + 63 -
                                          static_cast<int>(lz)),
                    frac << lz);
    }
    return make(sign, static_cast<unsigned>(static_cast<int>(e) - bias + kBias),
                kIntegerBit | (frac << shift));
}

}  // namespace

Float80 from_float32(std::uint32_t bits, Env& env, bool operand) {
    return from_binary(bits, 8, 23, env, operand);
}

Float80 from_float64(std::uint64_t bits, Env& env, bool operand) {
    return from_binary(bits, 11, 52, env, operand);
}

Float80 from_int64(std::int64_t v) {
    const bool sign = v < 0;
    return from_magnitude(sign,
                          sign ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v));
}

namespace {

// A binary interchange format a store rounds to.
struct Format {
    unsigned significand_bits;  // with the implicit bit
    int bias;
    unsigned exponent_bits;
};
constexpr Format kSingle{24, 127, 8};
constexpr Format kDouble{53, 1023, 11};

std::uint64_t pack_format(const Format& f, bool sign, std::uint64_t exponent, std::uint64_t frac) {
    const unsigned total = f.significand_bits + f.exponent_bits;  // 32 or 64 bits with the sign
    return (std::uint64_t{sign} << (total - 1)) | (exponent << (f.significand_bits - 1)) | frac;
}

// FST to a narrower format: rounding control only; the format's own
// exponent range, denormals, overflow and underflow.
std::uint64_t to_format(Float80 a, const Format& f, Env& env) {
    const Class c = classify(a);
    const std::uint64_t max_exp = (std::uint64_t{1} << f.exponent_bits) - 1;
    const unsigned frac_bits = f.significand_bits - 1;
    const std::uint64_t quiet = std::uint64_t{1} << (frac_bits - 1);
    switch (c) {
        case Class::Unsupported:
            env.flags |= exc::IE;
            return pack_format(f, true, max_exp, quiet);  // the indefinite
        case Class::QuietNaN:
        case Class::SignalingNaN:
            if (c == Class::SignalingNaN) env.flags |= exc::IE;
            return pack_format(
                f, a.sign(), max_exp,
                ((a.significand & ~kIntegerBit) >> (64 - f.significand_bits)) | quiet);
        case Class::Zero:
            return pack_format(f, a.sign(), 0, 0);
        case Class::Infinity:
            return pack_format(f, a.sign(), max_exp, 0);
        default:
            break;
    }
    const Unpacked x = unpack(a);
    // The format's biased exponent; below 1 a denormal.
    std::int32_t exponent = x.exponent - kBias + f.bias;
    u128 v = u128{x.significand} << 63;
    const unsigned pos = 127 - f.significand_bits;
    bool inexact = false, up = false;
    const Rounding rc = env.rounding();
    if (exponent < 1) {
        // Tiny (before rounding). Unmasked, the underflow stores nothing
        // and reports UE alone; masked, a denormal (or zero) is stored.
        if (!env.masked(exc::UE)) {
            env.flags |= exc::UE;
            return 0;
        }
        v = shift_right_jam(v, static_cast<unsigned>(1 - exponent));
        v = round_at(v, pos, x.sign, rc, inexact, up);
        if (inexact) env.flags |= exc::UE | exc::PE;
        env.rounded_up = up;
        const bool normal = (v >> 126) != 0;
        const std::uint64_t m = static_cast<std::uint64_t>(v >> pos);
        return pack_format(f, x.sign, normal ? 1 : 0, m & ((std::uint64_t{1} << frac_bits) - 1));
    }
    v = round_at(v, pos, x.sign, rc, inexact, up);
    if (v >> 127) {
        v >>= 1;
        ++exponent;
    }
    if (inexact) env.flags |= exc::PE;
    env.rounded_up = up;
    if (exponent >= static_cast<std::int32_t>(max_exp)) {
        if (!env.masked(exc::OE)) {  // unmasked: nothing stored, OE alone
            env.flags = static_cast<std::uint16_t>((env.flags & ~exc::PE) | exc::OE);
            env.rounded_up = false;
            return 0;
        }
        env.flags |= exc::OE | exc::PE;
        if (overflow_to_infinity(rc, x.sign)) {
            env.rounded_up = true;
            return pack_format(f, x.sign, max_exp, 0);
        }
        env.rounded_up = false;
        return pack_format(f, x.sign, max_exp - 1, (std::uint64_t{1} << frac_bits) - 1);
    }
    const std::uint64_t m = static_cast<std::uint64_t>(v >> pos);
    return pack_format(f, x.sign, static_cast<std::uint64_t>(exponent),
                       m & ((std::uint64_t{1} << frac_bits) - 1));
}

}  // namespace

std::uint32_t to_float32(Float80 a, Env& env) {
    return static_cast<std::uint32_t>(to_format(a, kSingle, env));
}
std::uint64_t to_float64(Float80 a, Env& env) { return to_format(a, kDouble, env); }

std::int64_t to_int(Float80 a, unsigned bits, bool truncate, Env& env) {
    const std::int64_t indefinite = bits == 64 ? INT64_MIN : -(std::int64_t{1} << (bits - 1));
    const Class c = classify(a);
    if (c == Class::Zero) return 0;
    if (c != Class::Normal && c != Class::Denormal) {
        env.flags |= exc::IE;
        return indefinite;
    }
    const Unpacked x = unpack(a);
    if (x.exponent - kBias >= 63) {  // 2^63 or more: out of every range
        env.flags |= exc::IE;
        return indefinite;
    }
    bool inexact = false, up = false;
    const Rounding rc = truncate ? Rounding::TowardZero : env.rounding();
    const u128 f = round_at(fixed_point(x), 64, x.sign, rc, inexact, up);
    const u128 magnitude = f >> 64;
    const u128 limit = u128{1} << (bits - 1);  // |the most negative value|
    if (magnitude > limit || (magnitude == limit && !x.sign)) {
        env.flags |= exc::IE;
        return indefinite;
    }
    if (inexact) env.flags |= exc::PE;
    env.rounded_up = up;
    const std::uint64_t m = static_cast<std::uint64_t>(magnitude);
    return x.sign ? static_cast<std::int64_t>(0 - m) : static_cast<std::int64_t>(m);
}

}  // namespace jitterbug::cpu::x87
