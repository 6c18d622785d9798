// The soft-float against the host's x87: the same operation on the same
// 80-bit operands under the same control word (every rounding mode and
// precision, exceptions masked and unmasked), natively and in software;
// the result bits, the exception flags and C1 must agree. Operands come
// from every class the x87 knows (zeros, denormals and pseudo-denormals,
// normals at the ends of the exponent range and at rounding boundaries,
// infinities, quiet and signalling NaNs, unsupported encodings). Skipped
// on hosts without an x87.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ios>
#include <random>
#include <string>

#include "cpu/x87/float80.hpp"

using namespace jitterbug::cpu::x87;

namespace {

#if defined(__x86_64__) || defined(__i386__)
constexpr bool kHostX87 = true;
#else
constexpr bool kHostX87 = false;
#endif

enum class Op {
    Add,
    Sub,
    Mul,
    Div,
    Sqrt,
    Round,
    Compare,
    UnorderedCompare,
    StoreF32,
    StoreF64,
    Store16,
    Store32,
    Store64,
    Truncate32,
    LoadF32,
    LoadF64
};
const char* name(Op op) {
    static const char* const names[] = {"fadd",      "fsub",       "fmul",     "fdiv",
                                        "fsqrt",     "frndint",    "fcom",     "fucom",
                                        "fst m32",   "fst m64",    "fist m16", "fist m32",
                                        "fistp m64", "fisttp m32", "fld m32",  "fld m64"};
    return names[static_cast<int>(op)];
}

struct Outcome {
    Float80 value;        // ST(0) after the operation (or the stored bits, zero-extended)
    std::uint16_t flags;  // exception flags
    bool c1;
    unsigned condition;  // C3 C2 C0 for comparisons (as bits 2, 1, 0)
};

struct Image {  // FNSAVE's 32-bit format (108 bytes)
    std::uint16_t cw, pad0, sw, pad1, tw, pad2;
    std::uint32_t ip, cs_op, dp, ds;
    std::uint8_t st[8][10];
};
static_assert(sizeof(Image) == 108);

#if defined(__x86_64__) || defined(__i386__)
// Runs `op` on the host's x87 with ST(0) = a, ST(1) = b, or on memory
// operands, and reads back the state with FNSAVE (which does not trap on a
// pending unmasked exception).
Outcome host(Op op, Float80 a, Float80 b, std::uint64_t mem, std::uint16_t cw) {
    alignas(16) std::uint8_t ta[10], tb[10];
    std::memcpy(ta, &a.significand, 8);
    std::memcpy(ta + 8, &a.sign_exponent, 2);
    std::memcpy(tb, &b.significand, 8);
    std::memcpy(tb + 8, &b.sign_exponent, 2);
    alignas(16) Image image{};
    std::uint64_t out = 0;
    std::uint64_t in = mem;
    switch (op) {
#define BINARY(insn)                                                            \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn \
                     "\n\tfnsave %[img]"                                        \
                     : [img] "=m"(image)                                        \
                     : [a] "m"(ta), [b] "m"(tb), [cw] "m"(cw)                   \
                     : "memory");                                               \
    break
        case Op::Add:
            BINARY("fadd %%st(1), %%st");
        case Op::Sub:
            BINARY("fsub %%st(1), %%st");
        case Op::Mul:
            BINARY("fmul %%st(1), %%st");
        case Op::Div:
            BINARY("fdiv %%st(1), %%st");
        case Op::Sqrt:
            BINARY("fsqrt");
        case Op::Round:
            BINARY("frndint");
        case Op::Compare:
            BINARY("fcom %%st(1)");
        case Op::UnorderedCompare:
            BINARY("fucom %%st(1)");
#undef BINARY
#define STORE(insn)                                                             \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn \
                     " %[out]"                                                  \
                     "\n\tfnsave %[img]"                                        \
                     : [img] "=m"(image), [out] "+m"(out)                       \
                     : [a] "m"(ta), [b] "m"(tb), [cw] "m"(cw)                   \
                     : "memory");                                               \
    break
        case Op::StoreF32:
            STORE("fsts");
        case Op::StoreF64:
            STORE("fstl");
        case Op::Store16:
            STORE("fists");
        case Op::Store32:
            STORE("fistl");
        case Op::Store64:
            STORE("fistpll");
        case Op::Truncate32:
            STORE("fisttpl");
#undef STORE
#define LOAD(insn)                                                              \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\t" insn " %[in]\n\tfnsave %[img]" \
                     : [img] "=m"(image)                                        \
                     : [in] "m"(in), [cw] "m"(cw)                               \
                     : "memory");                                               \
    break
        case Op::LoadF32:
            LOAD("flds");
        case Op::LoadF64:
            LOAD("fldl");
#undef LOAD
    }
    Outcome o{};
    const bool stored = op >= Op::StoreF32 && op <= Op::Truncate32;
    if (stored) {
        o.value = Float80{out, 0};
    } else {
        const unsigned top = (image.sw >> 11) & 7;
        (void)top;  // FNSAVE stores ST(0) first
        std::memcpy(&o.value.significand, image.st[0], 8);
        std::memcpy(&o.value.sign_exponent, image.st[0] + 8, 2);
    }
    o.flags = image.sw & exc::kAll;
    o.c1 = (image.sw >> 9) & 1;
    o.condition = ((image.sw >> 14) & 1) << 2 | ((image.sw >> 10) & 1) << 1 | ((image.sw >> 8) & 1);
    return o;
}
#endif

// The same in software, as the x87 would leave ST(0).
Outcome soft(Op op, Float80 a, Float80 b, std::uint64_t mem, std::uint16_t cw) {
    Env env;
    env.control = cw;
    Outcome o{};
    Float80 r = a;
    bool write = true;
    switch (op) {
        case Op::Add:
            r = add(a, b, env);
            break;
        case Op::Sub:
            r = sub(a, b, env);
            break;
        case Op::Mul:
            r = mul(a, b, env);
            break;
        case Op::Div:
            r = div(a, b, env);
            break;
        case Op::Sqrt:
            r = sqrt(a, env);
            break;
        case Op::Round:
            r = round_to_integer(a, env);
            break;
        case Op::Compare:
        case Op::UnorderedCompare: {
            const Order order = compare(a, b, op == Op::UnorderedCompare, env);
            // C3 C2 C0: 000 greater, 001 less, 100 equal, 111 unordered.
            o.condition = order == Order::Greater ? 0
                          : order == Order::Less  ? 1
                          : order == Order::Equal ? 4
                                                  : 7;
            write = false;
            break;
        }
        case Op::StoreF32:
            o.value = Float80{to_float32(a, env), 0};
            break;
        case Op::StoreF64:
            o.value = Float80{to_float64(a, env), 0};
            break;
        case Op::Store16:
        case Op::Store32:
        case Op::Store64:
        case Op::Truncate32: {
            const unsigned bits = op == Op::Store16 ? 16 : op == Op::Store64 ? 64 : 32;
            const std::int64_t v = to_int(a, bits, op == Op::Truncate32, env);
            o.value = Float80{
                bits == 64 ? static_cast<std::uint64_t>(v)
                           : static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << bits) - 1),
                0};
            break;
        }
        case Op::LoadF32:
            r = from_float32(static_cast<std::uint32_t>(mem), env);
            if (env.denormal_operand) env.flags |= exc::DE;  // (FLD raises it)
            break;
        case Op::LoadF64:
            r = from_float64(mem, env);
            if (env.denormal_operand) env.flags |= exc::DE;
            break;
    }
    const bool stored = op >= Op::StoreF32 && op <= Op::Truncate32;
    if (stored) {
        // An unmasked exception stores nothing.
        if (env.unmasked(exc::IE) || env.unmasked(exc::OE) || env.unmasked(exc::UE) ||
            env.unmasked(exc::DE))
            o.value = Float80{0, 0};
    } else if (write) {
        // An unmasked IE, DE or ZE leaves the destination as it was.
        const bool keep = env.unmasked(exc::IE) || env.unmasked(exc::DE) || env.unmasked(exc::ZE);
        o.value = keep ? (op == Op::LoadF32 || op == Op::LoadF64 ? Float80{} : a) : r;
    } else {
        o.value = a;
    }
    o.flags = env.flags;
    o.c1 = env.rounded_up;
    return o;
}

// Operands of every class, biased towards the edges.
class Operands {
  public:
    explicit Operands(std::uint32_t seed) : rng_(seed) {}
    std::uint64_t bits() { return rng_(); }
    unsigned below(unsigned n) { return static_cast<unsigned>(rng_() % n); }

    Float80 next() {
        const bool sign = below(2);
        switch (below(16)) {
            case 0:
                return zero(sign);
            case 1:  // denormal
                return make(sign, 0, bits() >> below(64) & ~kIntegerBit);
            case 2:  // pseudo-denormal
                return make(sign, 0, bits() | kIntegerBit);
            case 3:
                return infinity(sign);
            case 4:  // QNaN
                return make(sign, kMaxExponent, bits() | kIntegerBit | kQuietBit);
            case 5: {  // SNaN
                std::uint64_t m = (bits() | kIntegerBit) & ~kQuietBit;
                if (m == kIntegerBit) m |= 1;
                return make(sign, kMaxExponent, m);
            }
            case 6:  // unsupported: unnormal, pseudo-NaN, pseudo-infinity
                return make(sign, below(2) ? kMaxExponent : 1 + below(kMaxExponent - 1),
                            bits() & ~kIntegerBit);
            case 7:  // near the bottom of the range
                return make(sign, 1 + below(70), bits() | kIntegerBit);
            case 8:  // near the top
                return make(sign, kMaxExponent - 1 - below(70), bits() | kIntegerBit);
            case 9: {  // at a rounding boundary of 24, 53 or 64 bits
                static constexpr unsigned kCuts[] = {40, 11, 1};
                const unsigned cut = kCuts[below(3)];
                std::uint64_t m = (bits() | kIntegerBit) & ~((std::uint64_t{1} << cut) - 1);
                const unsigned tail = below(4);
                if (tail == 1) m |= std::uint64_t{1} << (cut - 1);        // exactly half
                if (tail == 2) m |= (std::uint64_t{1} << (cut - 1)) | 1;  // just above
                if (tail == 3) m |= (std::uint64_t{1} << (cut - 1)) - 1;  // just below
                return make(sign, kBias - 64 + below(128), m);
            }
            case 10: {  // a small integer or half-integer
                const std::int64_t v = static_cast<std::int64_t>(bits() % 2000) - 1000;
                Float80 x = from_int64(v);
                if (below(2) && v != 0) x.sign_exponent -= 1;
                return x;
            }
            case 11:  // near the integer ranges
                return make(sign, kBias + 14 + below(52), bits() | kIntegerBit);
            default:
                return make(sign, kBias - 200 + below(400), bits() | kIntegerBit);
        }
    }

  private:
    std::mt19937_64 rng_;
};

std::string hex(Float80 x) {
    char text[40];
    std::snprintf(text, sizeof text, "%04x:%016llx", x.sign_exponent,
                  static_cast<unsigned long long>(x.significand));
    return text;
}

struct Tally {
    unsigned cases = 0, mismatches = 0;
};

void check_op(Op op, unsigned count, Tally& tally) {
    Operands gen(static_cast<std::uint32_t>(op) * 7919 + 17);
    for (unsigned i = 0; i < count; ++i) {
        const Float80 a = gen.next();
        const Float80 b = gen.next();
        std::uint64_t mem = gen.bits();
        if (op == Op::LoadF32) {
            mem &= 0xFFFFFFFF;
            if (gen.below(4) == 0) mem &= 0x807FFFFF;  // a denormal or zero
            if (gen.below(4) == 0) mem |= 0x7F800000;  // infinities and NaNs
        } else if (op == Op::LoadF64) {
            if (gen.below(4) == 0) mem &= 0x800FFFFFFFFFFFFFull;
            if (gen.below(4) == 0) mem |= 0x7FF0000000000000ull;
        }
        // Precision 24, 53 or 64 bits; each rounding; masked, or some unmasked.
        static constexpr std::uint16_t kPc[] = {0x000, 0x200, 0x300};
        std::uint16_t cw =
            static_cast<std::uint16_t>(0x0040 | kPc[gen.below(3)] | gen.below(4) << 10);
        cw |= gen.below(3) == 0 ? static_cast<std::uint16_t>(gen.bits() & exc::kAll) : exc::kAll;
        ++tally.cases;
#if defined(__x86_64__) || defined(__i386__)
        const Outcome want = host(op, a, b, mem, cw);
        const Outcome got = soft(op, a, b, mem, cw);
        const bool compare = op == Op::Compare || op == Op::UnorderedCompare;
        // (A load an unmasked exception stopped leaves ST(0) empty: no value.)
        const bool load = op == Op::LoadF32 || op == Op::LoadF64;
        const bool stopped = load && (want.flags & ~cw & (exc::IE | exc::DE)) != 0;
        const bool same = (stopped || got.value == want.value) && got.flags == want.flags &&
                          (compare ? got.condition == want.condition : got.c1 == want.c1);
        if (!same) {
            if (++tally.mismatches <= 12) {
                MESSAGE(name(op) << " a=" << hex(a) << " b=" << hex(b) << " mem=" << std::hex << mem
                                 << " cw=" << cw << std::dec << ": host " << hex(want.value)
                                 << " flags " << want.flags << " c1 " << want.c1 << " cc "
                                 << want.condition << ", soft " << hex(got.value) << " flags "
                                 << got.flags << " c1 " << got.c1 << " cc " << got.condition);
            }
        }
#endif
    }
}

}  // namespace

TEST_SUITE("x87") {
    TEST_CASE("the soft-float gives the host x87's results and flags for every class of operand") {
        if (!kHostX87) {
            MESSAGE("skipped: this host has no x87 to compare with");
            return;
        }
        const unsigned count = std::getenv("JITTERBUG_LONG_TESTS") ? 2000000 : 20000;
        Tally total;
        for (int op = 0; op <= static_cast<int>(Op::LoadF64); ++op) {
            Tally t;
            check_op(static_cast<Op>(op), count, t);
            CAPTURE(name(static_cast<Op>(op)));
            CHECK(t.mismatches == 0);
            total.cases += t.cases;
            total.mismatches += t.mismatches;
        }
        MESSAGE(total.cases << " cases, " << total.mismatches << " mismatches");
    }
}
