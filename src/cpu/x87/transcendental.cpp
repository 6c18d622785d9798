#include "cpu/x87/transcendental.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

#include "cpu/x87/wide.hpp"

namespace jitterbug::cpu::x87 {

namespace {

using namespace wide;

// The x87's constants, to 128 bits (those of its constant ROM: FLDPI,
// FLDLN2, FLDL2E).
constexpr Wide kPi = from_bits(1, 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull);
constexpr Wide kLn2 = from_bits(-1, 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull);
constexpr Wide kLog2e = from_bits(0, 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull);
constexpr Wide kOne = from_uint(1);

// The 66-bit pi of FSIN, FCOS, FSINCOS and FPTAN's argument reduction (SDM
// Vol. 1, 8.3.10): kPi's first 66 bits, pi66 = kPi66 / 2^64, so pi66 / 2
// = kPi66 / 2^65.
constexpr u128 kPi66 = (u128{0xc90fdaa22168c234ull} << 2) | 3;

// Series coefficients, built at compile time: sign * 1 / denominator(k).
template <std::size_t N, typename F>
constexpr std::array<Wide, N> coefficients(F term) {
    std::array<Wide, N> t{};
    for (std::size_t k = 0; k < N; ++k)
        t[k] = term(static_cast<std::uint64_t>(k));
    return t;
}

constexpr Wide reciprocal_factorial(std::uint64_t n) {
    Wide f = kOne;
    for (std::uint64_t i = 2; i <= n; ++i)
        f = div(f, from_uint(i));
    return f;
}

// sin r = r * sum (-1)^k r^2k / (2k+1)!, |r| <= pi/4: 17 terms reach 2^-132.
constexpr auto kSin = coefficients<17>([](std::uint64_t k) {
    Wide c = reciprocal_factorial(2 * k + 1);
    c.sign = (k & 1) != 0;
    return c;
});
// cos r = sum (-1)^k r^2k / (2k)!.
constexpr auto kCos = coefficients<18>([](std::uint64_t k) {
    Wide c = reciprocal_factorial(2 * k);
    c.sign = (k & 1) != 0;
    return c;
});
// e^t - 1 = t * sum t^n / (n+1)!, |t| <= ln 2: 32 terms reach 2^-134.
constexpr auto kExpm1 =
    coefficients<32>([](std::uint64_t n) { return reciprocal_factorial(n + 1); });
// atanh s = s * sum s^2k / (2k+1), |s| <= 0.1716 (3 - 2 sqrt 2): 26 terms.
constexpr auto kAtanh =
    coefficients<26>([](std::uint64_t k) { return div(kOne, from_uint(2 * k + 1)); });
// atan q = q * sum (-1)^k q^2k / (2k+1), |q| <= tan(pi/32): 20 terms.
constexpr auto kAtan = coefficients<20>([](std::uint64_t k) {
    Wide c = div(kOne, from_uint(2 * k + 1));
    c.sign = (k & 1) != 0;
    return c;
});

// sum c[k] z^k by Horner's rule.
template <std::size_t N>
Wide polynomial(const std::array<Wide, N>& c, Wide z) {
    Wide acc = c[N - 1];
    for (std::size_t k = N - 1; k-- > 0;)
        acc = add(mul(acc, z), c[k]);
    return acc;
}

// For |r| < 2^-60 the series' next term is below what 128 bits hold, so
// the sum would come out as exactly r (or 1): one unit of the last of the
// 128 bits toward zero keeps the side the true value lies on, which
// directed rounding of an exact-looking result needs.
constexpr std::int32_t kTinyExp = -60;
Wide toward_zero(Wide w) { return normalized(w.sign, w.exp, w.sig - 1); }

Wide sin_series(Wide r) {
    if (r.exp < kTinyExp) return toward_zero(r);
    return mul(r, polynomial(kSin, mul(r, r)));
}
Wide cos_series(Wide r) {
    if (r.exp < kTinyExp) return toward_zero(kOne);
    return polynomial(kCos, mul(r, r));
}
Wide expm1_series(Wide t) { return mul(t, polynomial(kExpm1, t)); }

// ln((1 + s) / (1 - s)) = 2 atanh s.
Wide ln_ratio(Wide s) { return scaled(mul(s, polynomial(kAtanh, mul(s, s))), 1); }

// ln a, a > 0: a = m * 2^e with m in [sqrt(1/2), sqrt 2); ln m = 2 atanh
// ((m - 1) / (m + 1)). Also returns e and ln m apart: log2 a = e + ln m *
// log2 e without ln 2's rounding in e.
void ln_parts(Wide a, std::int32_t& e, Wide& ln_m) {
    constexpr u128 kSqrt2 = (u128{0xb504f333f9de6484ull} << 64) | 0x597d89b3754abe9full;
    e = a.exp;
    Wide m{false, 0, a.sig};
    if (m.sig > kSqrt2) {
        m.exp = -1;
        ++e;
    }
    ln_m = ln_ratio(div(sub(m, kOne), add(m, kOne)));
}

// atan q, 0 <= q <= 1: three halvings of the angle (q / (1 + sqrt(1 +
// q^2))) bring q under tan(pi/32).
Wide atan_unit(Wide q) {
    if (q.exp < kTinyExp) return toward_zero(q);
    for (int i = 0; i < 3; ++i)
        q = div(q, add(kOne, wide::sqrt(add(kOne, mul(q, q)))));
    return scaled(mul(q, polynomial(kAtan, mul(q, q))), 3);
}

Wide from_int(std::int32_t v) {
    const Wide w = from_uint(static_cast<std::uint64_t>(v < 0 ? -static_cast<std::int64_t>(v) : v));
    return v < 0 ? negate(w) : w;
}

Wide to_wide(Float80 x) {
    const std::int32_t e = x.exponent() == 0 ? 1 : static_cast<std::int32_t>(x.exponent());
    return normalized(x.sign(), e - kBias - 63 + 127, x.significand);
}

// Rounds an inexact value to 64 bits (the lowest bit of the 128 stands in
// for the bits beyond).
Float80 round_inexact(Wide w, Env& env) {
    if (w.is_zero()) return zero(w.sign);
    return round_wide(w.sign, w.exp + kBias, static_cast<std::uint64_t>(w.sig >> 64),
                      static_cast<std::uint64_t>(w.sig) | 1, env);
}

// ... and a value that may be exact (FYL2X of a power of two): rounded as
// it is, but reported inexact all the same, as the hardware does (so a
// tiny result underflows).
Float80 round_value(Wide w, bool exact, Env& env) {
    if (!exact) return round_inexact(w, env);
    if (w.is_zero()) return zero(w.sign);
    const Float80 r = round_wide(w.sign, w.exp + kBias, static_cast<std::uint64_t>(w.sig >> 64),
                                 static_cast<std::uint64_t>(w.sig), env);
    env.flags |= exc::PE;
    if (r.exponent() == 0) env.flags |= exc::UE;
    return r;
}

// The operand checks common to FSIN, FCOS and FPTAN: true when `result`
// is decided (NaN, invalid, a DE that stops), false to compute.
bool trig_special(Float80 x, Env& env, Float80& result) {
    switch (classify(x)) {
        case Class::Unsupported:
        case Class::Infinity:
            result = invalid(env);
            return true;
        case Class::QuietNaN:
        case Class::SignalingNaN:
            result = propagate_nan(x, x, env);
            return true;
        default:
            break;
    }
    if (denormal_stops(x, x, env)) {
        result = x;
        return true;
    }
    return false;
}

bool in_trig_range(Float80 x) { return x.exponent() < kBias + 63; }

// |x| = quadrant * pi66/2 + r, |r| <= pi66/4, exactly: |x| = M * 2^E with
// E <= -1 (|x| < 2^63), so |x| * 2^65 is an integer N below 2^128, and N
// = k * kPi66 + rem; r = rem / 2^65.
struct Reduced {
    Wide r;
    unsigned quadrant = 0;
};

Reduced reduce(Float80 x) {
    const Wide w = absolute(to_wide(x));
    // w = sig * 2^(exp - 127); N = w * 2^65.
    const std::int32_t shift = w.exp - 127 + 65;
    if (shift <= -128) return {w, 0};
    // N's fraction bits (below 2^-65 of pi/4: tiny operands) are kept in
    // r by taking them out first.
    u128 n = 0;
    Wide fraction{};
    if (shift >= 0) {
        n = w.sig << shift;  // (shift <= 64 - ... : w < 2^63 keeps N below 2^128)
    } else {
        n = w.sig >> -shift;
        fraction = sub(w, normalized(false, 127 - 65, n));
    }
    u128 k = n / kPi66;
    u128 rem = n % kPi66;
    Wide r;
    if (rem > kPi66 / 2) {
        ++k;
        r = normalized(true, 127 - 65, kPi66 - rem);
    } else {
        r = normalized(false, 127 - 65, rem);
    }
    return {add(r, fraction), static_cast<unsigned>(k & 3)};
}

}  // namespace

bool sine(Float80 x, Env& env, Float80& result) {
    if (trig_special(x, env, result)) return true;
    if (!in_trig_range(x)) return false;
    if (classify(x) == Class::Zero) {
        result = x;
        return true;
    }
    const Reduced red = reduce(x);
    Wide v = (red.quadrant & 1) ? cos_series(red.r) : sin_series(red.r);
    if (red.quadrant & 2) v = negate(v);
    if (x.sign()) v = negate(v);
    result = round_inexact(v, env);
    return true;
}

bool cosine(Float80 x, Env& env, Float80& result) {
    if (trig_special(x, env, result)) return true;
    if (!in_trig_range(x)) return false;
    if (classify(x) == Class::Zero) {
        result = make(false, kBias, kIntegerBit);
        return true;
    }
    const Reduced red = reduce(x);
    Wide v = (red.quadrant & 1) ? sin_series(red.r) : cos_series(red.r);
    if (red.quadrant == 1 || red.quadrant == 2) v = negate(v);
    result = round_inexact(v, env);
    return true;
}

bool tangent(Float80 x, Env& env, Float80& result) {
    if (trig_special(x, env, result)) return true;
    if (!in_trig_range(x)) return false;
    if (classify(x) == Class::Zero) {
        result = x;
        return true;
    }
    const Reduced red = reduce(x);
    Wide v;
    if (red.r.exp < kTinyExp) {  // tan r = r + r^3/3: above r; cot r = 1/r - r/3: below 1/r
        v = (red.quadrant & 1) ? negate(toward_zero(div(kOne, red.r)))
                               : normalized(red.r.sign, red.r.exp, red.r.sig + 1);
    } else {
        const Wide s = sin_series(red.r);
        const Wide c = cos_series(red.r);
        v = (red.quadrant & 1) ? negate(div(c, s)) : div(s, c);
    }
    if (x.sign()) v = negate(v);
    result = round_inexact(v, env);
    return true;
}

Float80 f2xm1(Float80 x, Env& env) {
    switch (classify(x)) {
        case Class::Unsupported:
            return invalid(env);
        case Class::QuietNaN:
        case Class::SignalingNaN:
            return propagate_nan(x, x, env);
        case Class::Zero:
            return x;
        case Class::Infinity:
            return x.sign() ? make(true, kBias, kIntegerBit) : x;
        default:
            break;
    }
    if (denormal_stops(x, x, env)) return x;
    const Wide w = to_wide(x);
    if (smaller(kOne, w)) {  // out of range
        env.flags |= exc::PE;
        env.rounded_up = false;
        return x;
    }
    return round_inexact(expm1_series(mul(w, kLn2)), env);
}

Float80 yl2x(Float80 y, Float80 x, Env& env) {
    Float80 r;
    if (special_operands(y, x, env, r)) return r;
    const Class cx = classify(x);
    const Class cy = classify(y);
    const bool x_one = x == make(false, kBias, kIntegerBit);
    // Invalid: log of a negative number (zero excepted), 0 * log 1 or log
    // infinity, infinity * log 1.
    if ((x.sign() && cx != Class::Zero) ||
        (cy == Class::Zero && (cx == Class::Zero || cx == Class::Infinity)) ||
        (cy == Class::Infinity && x_one))
        return invalid(env);
    if (cx == Class::Zero) {  // log 0 = -infinity, before (and without) a denormal y's DE, as the
                              // hardware does
        if (cy != Class::Infinity) env.flags |= exc::ZE;
        return infinity(!y.sign());
    }
    if (denormal_stops(y, x, env)) return y;
    if (cx == Class::Infinity) return infinity(y.sign());
    // x finite, positive.
    const bool below_one = x.exponent() < kBias && cx != Class::Zero;
    if (cy == Class::Infinity) return infinity(below_one ? !y.sign() : y.sign());
    if (cy == Class::Zero) return zero(below_one ? !y.sign() : y.sign());
    std::int32_t e = 0;
    Wide ln_m;
    const Wide wx = to_wide(x);
    ln_parts(wx, e, ln_m);
    const bool exact = ln_m.is_zero();
    const Wide whole = from_int(e);
    const Wide log2x = add(whole, mul(ln_m, kLog2e));
    if (log2x.is_zero()) return zero(y.sign());
    return round_value(mul(to_wide(y), log2x), exact, env);
}

Float80 yl2xp1(Float80 y, Float80 x, Env& env) {
    Float80 r;
    if (special_operands(y, x, env, r)) return r;
    const Class cx = classify(x);
    const Class cy = classify(y);
    if ((cy == Class::Infinity && cx == Class::Zero) ||
        (cy == Class::Zero && cx == Class::Infinity) || (cx == Class::Infinity && x.sign()))
        return invalid(env);
    if (denormal_stops(y, x, env)) return y;
    if (cx == Class::Infinity) return infinity(y.sign());
    // The product's sign: y's, flipped for x below 0.
    const bool sign = y.sign() != x.sign();
    if (cx == Class::Zero || cy == Class::Zero) {
        if (cy == Class::Infinity) return infinity(sign);
        return zero(sign);
    }
    if (cy == Class::Infinity) return infinity(sign);
    const Wide wx = to_wide(x);
    Wide ln1p;
    if (smaller(wx, from_bits(-2, 0x95f619980c4336f7ull,
                              0x4d04ec99156a82c2ull))) {  // |x| < 1 - sqrt(2)/2
        ln1p = ln_ratio(div(wx, add(from_uint(2), wx)));
    } else {
        const Wide a = add(kOne, wx);
        if (a.is_zero() || a.sign) {  // x <= -1: undefined; the host returns x, inexact
            env.flags |= exc::PE;
            env.rounded_up = false;
            return x;
        }
        std::int32_t e = 0;
        Wide ln_m;
        ln_parts(a, e, ln_m);
        const Wide whole = from_int(e);
        ln1p = add(mul(whole, kLn2), ln_m);
    }
    return round_inexact(mul(to_wide(y), mul(ln1p, kLog2e)), env);
}

Float80 atan2(Float80 y, Float80 x, Env& env) {
    Float80 r;
    if (special_operands(y, x, env, r)) return r;
    if (denormal_stops(y, x, env)) return y;
    const Class cx = classify(x);
    const Class cy = classify(y);
    // The angle's magnitude, in the quadrant x gives.
    Wide angle;
    bool exact_zero = false;
    if (cy == Class::Zero) {
        if (x.sign()) {
            angle = kPi;
        } else {
            exact_zero = true;
        }
    } else if (cy == Class::Infinity) {
        if (cx == Class::Infinity) {
            angle = x.sign() ? mul(kPi, from_bits(-1, 0xc000000000000000ull, 0)) : scaled(kPi, -2);
        } else {
            angle = scaled(kPi, -1);
        }
    } else if (cx == Class::Zero) {
        angle = scaled(kPi, -1);
    } else if (cx == Class::Infinity) {
        if (x.sign()) {
            angle = kPi;
        } else {
            exact_zero = true;
        }
    } else {
        const Wide ay = absolute(to_wide(y));
        const Wide ax = absolute(to_wide(x));
        if (!smaller(ax, ay)) {
            angle = atan_unit(div(ay, ax));
        } else {
            angle = sub(scaled(kPi, -1), atan_unit(div(ax, ay)));
        }
        if (x.sign()) angle = sub(kPi, angle);
    }
    if (exact_zero) return zero(y.sign());
    if (y.sign()) angle = negate(angle);
    return round_inexact(angle, env);
}

}  // namespace jitterbug::cpu::x87
