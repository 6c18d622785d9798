// The reference semantics of the IR's pure operations: results and status
// flags, computed portably. The interpreter executes with these, and the
// tests hold the JIT (whose flags come from the host CPU) to them.
#pragma once

#include <cstdint>

#include "cpu/cpu_state.hpp"

namespace jitterbug::ir::eval {

using cpu::eflags::AF;
using cpu::eflags::CF;
using cpu::eflags::OF;
using cpu::eflags::PF;
using cpu::eflags::SF;
using cpu::eflags::ZF;

template <unsigned Bits>
constexpr std::uint32_t kMask = Bits == 32 ? 0xFFFFFFFFu : (1u << Bits) - 1;
template <unsigned Bits>
constexpr std::uint32_t kSign = 1u << (Bits - 1);

template <unsigned Bits>
constexpr std::int64_t sign_extend_to_64(std::uint32_t a) {
    return static_cast<std::int64_t>(static_cast<std::int32_t>(a << (32 - Bits)) >> (32 - Bits));
}

// SF, ZF and PF of a result (PF: even parity of the low byte).
template <unsigned Bits>
constexpr std::uint32_t szp(std::uint32_t r) {
    std::uint32_t f = 0;
    if ((r & kMask<Bits>) == 0) f |= ZF;
    if (r & kSign<Bits>) f |= SF;
    if (!(__builtin_parity(r & 0xFF))) f |= PF;
    return f;
}

struct Out {
    std::uint32_t value;
    std::uint32_t flags;
};

template <unsigned Bits>
constexpr Out add(std::uint32_t a, std::uint32_t b, std::uint32_t carry) {
    const std::uint64_t wide = std::uint64_t{a} + b + carry;
    const std::uint32_t r = static_cast<std::uint32_t>(wide) & kMask<Bits>;
    std::uint32_t f = szp<Bits>(r);
    if (wide > kMask<Bits>) f |= CF;
    if ((a ^ r) & (b ^ r) & kSign<Bits>) f |= OF;
    if ((a ^ b ^ r) & 0x10) f |= AF;
    return {r, f};
}

template <unsigned Bits>
constexpr Out sub(std::uint32_t a, std::uint32_t b, std::uint32_t borrow) {
    const std::uint32_t r = (a - b - borrow) & kMask<Bits>;
    std::uint32_t f = szp<Bits>(r);
    if (std::uint64_t{a} < std::uint64_t{b} + borrow) f |= CF;
    if ((a ^ b) & (a ^ r) & kSign<Bits>) f |= OF;
    if ((a ^ b ^ r) & 0x10) f |= AF;
    return {r, f};
}

// AND/OR/XOR: CF = OF = 0; AF is undefined and cleared, as Intel and AMD
// processors do.
template <unsigned Bits>
constexpr Out logic(std::uint32_t r) {
    r &= kMask<Bits>;
    return {r, szp<Bits>(r)};
}

// INC/DEC: flags of ADD/SUB with 1; CF is not produced (reported as 0).
template <unsigned Bits>
constexpr Out inc(std::uint32_t a) {
    Out o = add<Bits>(a, 1, 0);
    o.flags &= ~CF;
    return o;
}
template <unsigned Bits>
constexpr Out dec(std::uint32_t a) {
    Out o = sub<Bits>(a, 1, 0);
    o.flags &= ~CF;
    return o;
}

template <unsigned Bits>
constexpr Out neg(std::uint32_t a) {
    return sub<Bits>(0, a & kMask<Bits>, 0);
}

// Shifts with the count already masked to 5 bits and nonzero. Flags for a
// count of 0 are not produced (the semantics keep the old ones). The SDM
// leaves OF undefined for counts above 1 and AF undefined always; these
// follow the hardware (checked against the host over every 8- and 32-bit
// input): OF by the last-step rule for every count, AF set.
template <unsigned Bits>
constexpr Out shl(std::uint32_t a, unsigned count) {
    a &= kMask<Bits>;
    const std::uint64_t wide = std::uint64_t{a} << count;
    const std::uint32_t r = static_cast<std::uint32_t>(wide) & kMask<Bits>;
    std::uint32_t f = szp<Bits>(r);
    const bool cf = (wide >> Bits) & 1;
    if (cf) f |= CF;
    if (((r & kSign<Bits>) != 0) != cf) f |= OF;
    return {r, f | AF};
}

template <unsigned Bits>
constexpr Out shr(std::uint32_t a, unsigned count) {
    a &= kMask<Bits>;
    const std::uint32_t r = a >> count;
    std::uint32_t f = szp<Bits>(r);
    if ((a >> (count - 1)) & 1) f |= CF;
    if ((a >> (count - 1)) & kSign<Bits>) f |= OF;  // the sign before the last step
    return {r, f | AF};
}

template <unsigned Bits>
constexpr Out sar(std::uint32_t a, unsigned count) {
    const std::int64_t s = sign_extend_to_64<Bits>(a);
    const std::uint32_t r = static_cast<std::uint32_t>(s >> count) & kMask<Bits>;
    std::uint32_t f = szp<Bits>(r);
    if ((s >> (count - 1)) & 1) f |= CF;
    return {r, f | AF};
}

// Rotates change only CF and OF; the other bits of `flags` are 0 and are
// masked off by the semantics.
template <unsigned Bits>
constexpr Out rol(std::uint32_t a, unsigned count) {
    a &= kMask<Bits>;
    const unsigned c = count % Bits;
    const std::uint32_t r = c == 0 ? a : ((a << c) | (a >> (Bits - c))) & kMask<Bits>;
    std::uint32_t f = 0;
    if (r & 1) f |= CF;
    if (((r & kSign<Bits>) != 0) != ((r & 1) != 0)) f |= OF;
    return {r, f};
}

template <unsigned Bits>
constexpr Out ror(std::uint32_t a, unsigned count) {
    a &= kMask<Bits>;
    const unsigned c = count % Bits;
    const std::uint32_t r = c == 0 ? a : ((a >> c) | (a << (Bits - c))) & kMask<Bits>;
    std::uint32_t f = 0;
    if (r & kSign<Bits>) f |= CF;
    if (((r >> (Bits - 1)) ^ (r >> (Bits - 2))) & 1) f |= OF;
    return {r, f};
}

// RCL/RCR with the count masked to 5 bits and nonzero (SDM Vol. 2B, RCL):
// the rotation is over Bits + 1 bits including CF. Only CF and OF are
// produced; OF is defined for a count of 1 only (computed by the same rule
// for other counts, as the processors do).
template <unsigned Bits>
constexpr Out rcl(std::uint32_t a, unsigned count, bool carry) {
    const unsigned n = Bits == 32 ? count : count % (Bits + 1);
    std::uint64_t v = (std::uint64_t{carry} << Bits) | (a & kMask<Bits>);  // Bits+1 bits
    const std::uint64_t width_mask = (std::uint64_t{1} << (Bits + 1)) - 1;
    if (n != 0) v = ((v << n) | (v >> (Bits + 1 - n))) & width_mask;
    const std::uint32_t r = static_cast<std::uint32_t>(v) & kMask<Bits>;
    const bool cf = (v >> Bits) & 1;
    std::uint32_t f = cf ? CF : 0;
    if (((r & kSign<Bits>) != 0) != cf) f |= OF;
    return {r, f};
}

template <unsigned Bits>
constexpr Out rcr(std::uint32_t a, unsigned count, bool carry) {
    const unsigned n = Bits == 32 ? count : count % (Bits + 1);
    std::uint64_t v = (std::uint64_t{carry} << Bits) | (a & kMask<Bits>);
    const std::uint64_t width_mask = (std::uint64_t{1} << (Bits + 1)) - 1;
    if (n != 0) v = ((v >> n) | (v << (Bits + 1 - n))) & width_mask;
    const std::uint32_t r = static_cast<std::uint32_t>(v) & kMask<Bits>;
    const bool cf = (v >> Bits) & 1;
    std::uint32_t f = cf ? CF : 0;
    // OF = the XOR of the two most significant bits of the result.
    if (((r >> (Bits - 1)) ^ (r >> (Bits - 2))) & 1) f |= OF;
    return {r, f};
}

// SHLD/SHRD with the count masked to 5 bits and nonzero. The 16-bit forms
// with counts above 16 have undefined results; like the hardware, SHLD
// shifts through a:b:b and SHRD through b:b:a (48 bits). OF and AF, undefined
// in the SDM beyond a count of 1, follow the hardware: AF set; OF = MSB XOR
// CF after SHLD, and the XOR of the two top result bits after SHRD.
template <unsigned Bits>
constexpr Out shld(std::uint32_t a, std::uint32_t b, unsigned count) {
    std::uint32_t r;
    bool cf;
    if constexpr (Bits == 32) {
        r = (a << count) | (b >> (32 - count));
        cf = (a >> (32 - count)) & 1;
    } else {
        const std::uint64_t v =
            (std::uint64_t{a & 0xFFFF} << 32) | (std::uint64_t{b & 0xFFFF} << 16) | (b & 0xFFFF);
        r = static_cast<std::uint32_t>(v >> (32 - count)) & 0xFFFF;
        cf = count <= 16 && ((v >> (48 - count)) & 1);
    }
    std::uint32_t f = szp<Bits>(r) | AF;
    if (cf) f |= CF;
    // At a count of 16 the hardware reports OF = CF, past it CF = OF = 0.
    if (Bits == 16 && count >= 16) {
        if (cf) f |= OF;
    } else if (((r & kSign<Bits>) != 0) != cf) {
        f |= OF;
    }
    return {r, f};
}

template <unsigned Bits>
constexpr Out shrd(std::uint32_t a, std::uint32_t b, unsigned count) {
    std::uint32_t r;
    bool cf;
    if constexpr (Bits == 32) {
        r = (a >> count) | (b << (32 - count));
        cf = (a >> (count - 1)) & 1;
    } else {
        const std::uint64_t v =
            (std::uint64_t{b & 0xFFFF} << 32) | (std::uint64_t{b & 0xFFFF} << 16) | (a & 0xFFFF);
        r = static_cast<std::uint32_t>(v >> count) & 0xFFFF;
        cf = count <= 16 && ((v >> (count - 1)) & 1);
    }
    std::uint32_t f = szp<Bits>(r) | AF;
    if (cf) f |= CF;
    if (((r >> (Bits - 1)) ^ (r >> (Bits - 2))) & 1) f |= OF;
    return {r, f};
}

// BSF/BSR: ZF = (source == 0), when the destination keeps its old value.
// CF, OF, SF, AF and PF are undefined; the hardware clears them but for PF,
// which follows the result (and is set with ZF for a zero source).
template <unsigned Bits>
constexpr Out bsf(std::uint32_t source, std::uint32_t old) {
    source &= kMask<Bits>;
    if (source == 0) return {old & kMask<Bits>, ZF | PF};
    const auto r = static_cast<std::uint32_t>(__builtin_ctz(source));
    return {r, szp<8>(r) & PF};
}

template <unsigned Bits>
constexpr Out bsr(std::uint32_t source, std::uint32_t old) {
    source &= kMask<Bits>;
    if (source == 0) return {old & kMask<Bits>, ZF | PF};
    const auto r = static_cast<std::uint32_t>(31 - __builtin_clz(source));
    return {r, szp<8>(r) & PF};
}

// Widening multiplies. CF = OF = upper half significant. SF, ZF, AF and PF
// are undefined: the semantics leave them unchanged, as the hardware does
// (docs/undefined-flags.md); the values here are reported but not written.
struct WideOut {
    std::uint64_t value;
    std::uint32_t flags;
};

template <unsigned Bits>
constexpr WideOut mul(std::uint32_t a, std::uint32_t b) {
    const std::uint64_t p = std::uint64_t{a & kMask<Bits>} * (b & kMask<Bits>);
    std::uint32_t f = szp<Bits>(static_cast<std::uint32_t>(p));
    if ((p >> Bits) != 0) f |= CF | OF;
    return {p, f};
}

template <unsigned Bits>
constexpr WideOut imul(std::uint32_t a, std::uint32_t b) {
    const std::int64_t p = sign_extend_to_64<Bits>(a) * sign_extend_to_64<Bits>(b);
    std::uint32_t f = szp<Bits>(static_cast<std::uint32_t>(p));
    if (p != sign_extend_to_64<Bits>(static_cast<std::uint32_t>(p))) f |= CF | OF;
    const std::uint64_t mask2 =
        Bits == 32 ? ~std::uint64_t{0} : (std::uint64_t{1} << (2 * Bits)) - 1;
    return {static_cast<std::uint64_t>(p) & mask2, f};
}

// x86 condition codes (SDM Vol. 2, Appendix B.1.4.7) on a status-flag image.
constexpr bool test_cond(unsigned cc, std::uint32_t f) {
    bool r = false;
    switch (cc >> 1) {
        case 0:
            r = f & OF;
            break;
        case 1:
            r = f & CF;
            break;
        case 2:
            r = f & ZF;
            break;
        case 3:
            r = f & (CF | ZF);
            break;
        case 4:
            r = f & SF;
            break;
        case 5:
            r = f & PF;
            break;
        case 6:
            r = ((f & SF) != 0) != ((f & OF) != 0);
            break;
        case 7:
            r = (f & ZF) || (((f & SF) != 0) != ((f & OF) != 0));
            break;
    }
    return (cc & 1) ? !r : r;
}

}  // namespace jitterbug::ir::eval
