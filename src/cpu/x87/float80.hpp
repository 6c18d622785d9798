// Float80: the x87's double-extended format and its arithmetic, in software
// (SDM Vol. 1, 4.2.2 and 4.8; chapter 8). Every operation follows the x87,
// not IEEE 754 in general: precision control rounds the significand to 24,
// 53 or 64 bits while the exponent keeps its 15-bit range, unsupported
// encodings (unnormals, pseudo-NaNs, pseudo-infinities) are invalid
// operands, NaNs propagate by the x87's rules, and the six exception flags
// come out as the status word has them. The result is the same on every
// host: nothing here uses the host's floating point.
#pragma once

#include <cstdint>

namespace jitterbug::cpu::x87 {

struct Float80 {
    std::uint64_t significand = 0;    // bit 63: the explicit integer bit
    std::uint16_t sign_exponent = 0;  // bit 15: sign; bits 14-0: biased exponent

    bool sign() const { return (sign_exponent & 0x8000) != 0; }
    unsigned exponent() const { return sign_exponent & 0x7FFF; }
    bool operator==(const Float80&) const = default;
};

constexpr int kBias = 16383;
constexpr unsigned kMaxExponent = 0x7FFF;
constexpr std::uint64_t kIntegerBit = std::uint64_t{1} << 63;
constexpr std::uint64_t kQuietBit = std::uint64_t{1} << 62;

// The QNaN floating-point indefinite (SDM Vol. 1, Table 4-3).
constexpr Float80 kIndefinite{0xC000000000000000ull, 0xFFFF};

// Exception flags: the bits of the status word (SDM Vol. 1, 8.1.3.1) and
// of the control word's masks.
namespace exc {
constexpr std::uint16_t IE = 1u << 0;  // invalid operation
constexpr std::uint16_t DE = 1u << 1;  // denormal operand
constexpr std::uint16_t ZE = 1u << 2;  // zero divide
constexpr std::uint16_t OE = 1u << 3;  // overflow
constexpr std::uint16_t UE = 1u << 4;  // underflow
constexpr std::uint16_t PE = 1u << 5;  // precision (inexact)
constexpr std::uint16_t kAll = 0x3F;
}  // namespace exc

// Rounding control and precision control, as the control word holds them.
enum class Rounding : std::uint8_t { Nearest = 0, Down = 1, Up = 2, TowardZero = 3 };
enum class Precision : std::uint8_t { Single = 0, Reserved = 1, Double = 2, Extended = 3 };

// What an operation needs of the control word, and what it reports: the
// exceptions it raised and whether its result was rounded up in magnitude
// (C1 in the status word).
struct Env {
    std::uint16_t control = 0x037F;  // FNINIT's: all masked, extended, nearest
    std::uint16_t flags = 0;
    bool rounded_up = false;
    // A float32/float64 load found a denormal: the operation that uses the
    // value raises DE (only then: not when the other operand is a NaN).
    bool denormal_operand = false;

    Rounding rounding() const { return static_cast<Rounding>((control >> 10) & 3); }
    Precision precision() const { return static_cast<Precision>((control >> 8) & 3); }
    bool masked(std::uint16_t e) const { return (control & e) == e; }
    // An exception raised and unmasked: the instruction stores no result
    // (IE, DE, ZE) or a bias-adjusted one (OE, UE) and reports it.
    bool unmasked(std::uint16_t e) const { return (flags & e) && !masked(e); }
};

// Operand classes (SDM Vol. 1, 8.2.2 and Table 8-3).
enum class Class : std::uint8_t {
    Zero,
    Denormal,  // exponent 0 with a fraction, the integer bit clear or set (pseudo-denormal)
    Normal,
    Infinity,
    QuietNaN,
    SignalingNaN,
    Unsupported,  // unnormals, pseudo-NaNs and pseudo-infinities
};
Class classify(Float80 x);
inline bool is_nan(Float80 x) {
    const Class c = classify(x);
    return c == Class::QuietNaN || c == Class::SignalingNaN;
}

Float80 make(bool sign, unsigned exponent, std::uint64_t significand);
inline Float80 zero(bool sign) { return make(sign, 0, 0); }
inline Float80 infinity(bool sign) { return make(sign, kMaxExponent, kIntegerBit); }
inline Float80 negate(Float80 x) {
    return {x.significand, static_cast<std::uint16_t>(x.sign_exponent ^ 0x8000)};
}
inline Float80 absolute(Float80 x) {
    return {x.significand, static_cast<std::uint16_t>(x.sign_exponent & 0x7FFF)};
}

// The building blocks of the instructions built on these (transcendental):
// a NaN made quiet; the NaN result of an operation on NaNs (SDM Vol. 1,
// Table 4-7, x87 FPU column: a signalling one raises IE and is made quiet;
// of two, a QNaN wins over an SNaN, else the larger significand, else the
// positive one); IE and the indefinite; the result NaNs and unsupported
// encodings among two operands give (false when both are numbers); DE for
// a denormal operand, whatever the other (after NaNs and the invalid
// cases), true when unmasked: it stops the operation.
Float80 quieted(Float80 x);
Float80 propagate_nan(Float80 a, Float80 b, Env& env);
Float80 invalid(Env& env);
bool special_operands(Float80 a, Float80 b, Env& env, Float80& result);
bool denormal_stops(Float80 a, Float80 b, Env& env);

// Arithmetic, rounded by env's control word (precision control applies).
Float80 add(Float80 a, Float80 b, Env& env);
Float80 sub(Float80 a, Float80 b, Env& env);
Float80 mul(Float80 a, Float80 b, Env& env);
Float80 div(Float80 a, Float80 b, Env& env);
Float80 sqrt(Float80 a, Env& env);
// FRNDINT: to an integer by the rounding control (precision control does
// not apply).
Float80 round_to_integer(Float80 a, Env& env);

// sign * (hi:lo / 2^127) * 2^(exponent - kBias), hi's top bit set, rounded
// to 64 bits by the rounding control alone (no precision control): the
// constants and results computed wider.
Float80 round_wide(bool sign, std::int32_t exponent, std::uint64_t hi, std::uint64_t lo, Env& env);

// FSCALE: a * 2^trunc(b), rounded to 64 bits (no precision control).
Float80 scale(Float80 a, Float80 b, Env& env);
// FXTRACT: the unbiased exponent of a (as a value) and its significand
// (the same sign, exponent 0); a zero gives ZE and -infinity.
void extract(Float80 a, Env& env, Float80& exponent, Float80& significand);
// FPREM (toward zero) and FPREM1 (`ieee`: to nearest): the partial
// remainder of a / b. Reduces the exponent difference by at most 63 at a
// time: `partial` then (C2); otherwise `quotient` holds the quotient's low
// three bits.
Float80 remainder(Float80 a, Float80 b, bool ieee, Env& env, unsigned& quotient, bool& partial);

// Comparisons (FCOM, FUCOM): unordered when either is a NaN; `quiet`
// raises IE only for signalling NaNs (and unsupported encodings).
enum class Order : std::uint8_t { Less, Equal, Greater, Unordered };
Order compare(Float80 a, Float80 b, bool quiet, Env& env);

// Conversions. Loads are exact (a signalling NaN becomes quiet with IE, a
// denormal sets Env::denormal_operand); stores round by the rounding
// control alone. An arithmetic instruction's memory `operand` keeps a
// signalling NaN signalling: the operation raises IE, and picks between two
// NaNs, as it does for registers.
Float80 from_float32(std::uint32_t bits, Env& env, bool operand = false);
Float80 from_float64(std::uint64_t bits, Env& env, bool operand = false);
Float80 from_int64(std::int64_t v);
std::uint32_t to_float32(Float80 a, Env& env);
std::uint64_t to_float64(Float80 a, Env& env);
// FIST/FISTP to `bits` (16, 32 or 64), by the rounding control or (FISTTP)
// toward zero; out of range or NaN: IE and the integer indefinite
// (the most negative value).
std::int64_t to_int(Float80 a, unsigned bits, bool truncate, Env& env);

}  // namespace jitterbug::cpu::x87
