// DAA, DAS, AAA, AAS, AAM, AAD (SDM Vol. 2A). Their defined results follow
// the SDM; the flags it leaves undefined follow what P6-and-later hardware
// computes, checked against the host CPU over every input (see
// docs/undefined-flags.md): DAA/DAS set OF when the adjustment flips the sign
// bit, AAA/AAS take SF, ZF, PF and OF from the 16-bit addition or subtraction
// of 0x106 to AX, AAM sets SF/ZF/PF from AL and clears the rest, AAD takes
// all flags from the 8-bit addition AL + AH * imm8.
#include "cpu/bcd_op.hpp"
#include "cpu/helpers/helpers.hpp"
#include "jit/ir/eval.hpp"

namespace jitterbug::cpu {

namespace {

namespace ev = ir::eval;
using eflags::AF;
using eflags::CF;
using eflags::OF;

std::uint32_t daa(std::uint32_t al, bool cf, bool af, std::uint32_t& flags) {
    const std::uint32_t old_al = al;
    bool new_cf = false;
    bool new_af = false;
    if ((al & 0xF) > 9 || af) {
        new_cf = cf || al + 6 > 0xFF;
        al = (al + 6) & 0xFF;
        new_af = true;
    }
    if (old_al > 0x99 || cf) {
        al = (al + 0x60) & 0xFF;
        new_cf = true;
    } else {
        new_cf = false;
    }
    flags = ev::szp<8>(al) | (new_cf ? CF : 0) | (new_af ? AF : 0);
    if (~old_al & al & 0x80) flags |= OF;
    return al;
}

std::uint32_t das(std::uint32_t al, bool cf, bool af, std::uint32_t& flags) {
    const std::uint32_t old_al = al;
    bool new_cf = false;
    bool new_af = false;
    if ((al & 0xF) > 9 || af) {
        new_cf = cf || al < 6;
        al = (al - 6) & 0xFF;
        new_af = true;
    }
    if (old_al > 0x99 || cf) {
        al = (al - 0x60) & 0xFF;
        new_cf = true;
    }
    flags = ev::szp<8>(al) | (new_cf ? CF : 0) | (new_af ? AF : 0);
    if (old_al & ~al & 0x80) flags |= OF;
    return al;
}

// AAA/AAS: AX +/- 0x106 when adjusting, flags of that 16-bit operation with
// CF = AF = 1; otherwise the flags of AX itself with CF = AF = 0. AL keeps
// its low nibble.
std::uint32_t ascii_adjust(std::uint32_t ax, bool add, bool adjust, std::uint32_t& flags) {
    const std::uint32_t delta = adjust ? 0x106 : 0;
    const ev::Out o = add ? ev::add<16>(ax, delta, 0) : ev::sub<16>(ax, delta, 0);
    flags = (o.flags & ~(CF | AF)) | (adjust ? CF | AF : 0);
    return (o.value & 0xFF00) | (o.value & 0x0F);
}

}  // namespace

std::uint64_t helper_bcd_adjust(CpuContext& ctx, std::uint32_t op, std::uint32_t imm,
                                std::uint32_t) {
    CpuState& st = ctx.state;
    std::uint32_t& eax = st.reg(Gpr::Eax);
    const std::uint32_t al = eax & 0xFF;
    const std::uint32_t ah = (eax >> 8) & 0xFF;
    const bool cf = st.eflags() & CF;
    const bool af = st.eflags() & AF;
    std::uint32_t flags = 0;
    std::uint32_t ax = eax & 0xFFFF;
    switch (static_cast<BcdOp>(op)) {
        case BcdOp::Daa:
            ax = (ax & 0xFF00) | daa(al, cf, af, flags);
            break;
        case BcdOp::Das:
            ax = (ax & 0xFF00) | das(al, cf, af, flags);
            break;
        case BcdOp::Aaa:
            ax = ascii_adjust(ax, true, (al & 0xF) > 9 || af, flags);
            break;
        case BcdOp::Aas:
            ax = ascii_adjust(ax, false, (al & 0xF) > 9 || af, flags);
            break;
        case BcdOp::Aam: {
            const std::uint32_t base = imm & 0xFF;
            if (base == 0) {
                runtime::raise_fault(ctx, vector::DE);
                return 0;
            }
            const std::uint32_t q = al / base;
            const std::uint32_t r = al % base;
            ax = (q << 8) | r;
            flags = ev::szp<8>(r);
            break;
        }
        case BcdOp::Aad: {
            const ev::Out o = ev::add<8>(al, (ah * (imm & 0xFF)) & 0xFF, 0);
            ax = o.value;
            flags = o.flags;
            break;
        }
    }
    eax = (eax & 0xFFFF0000u) | (ax & 0xFFFF);
    st.set_eflags((st.eflags() & ~eflags::kArithmetic) | flags);
    return 0;
}

// BOUND (SDM Vol. 2A): #BR unless lower <= index <= upper, signed.
std::uint64_t helper_bound(CpuContext& ctx, std::uint32_t index, std::uint32_t lower,
                           std::uint32_t upper) {
    const auto i = static_cast<std::int32_t>(index);
    if (i < static_cast<std::int32_t>(lower) || i > static_cast<std::int32_t>(upper)) {
        runtime::raise_fault(ctx, vector::BR);
    }
    return 0;
}

}  // namespace jitterbug::cpu
