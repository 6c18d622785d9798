// MUL, IMUL (one, two and three operands), DIV, IDIV.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

// The accumulator forms: AX = AL * src, DX:AX = AX * src, EDX:EAX = EAX * src.
template <Opcode Op8>
void multiply_accumulator(Emitter& e) {
    const Value src = e.read(0);
    const unsigned bits = ir::Builder::width(src);
    const Value product = e.ir.emit(ir::sized(Op8, bits), {e.ir.get_gpr(bits, 0), src});
    switch (bits) {
        case 8:
            e.ir.set_gpr(16, 0, product);
            break;
        case 16:
            e.ir.set_gpr(16, 0, e.ir.truncate(product, 16));
            e.ir.set_gpr(16, 2,
                         e.ir.truncate(e.ir.emit(Opcode::Shr32, {product, ir::imm8(16)}), 16));
            break;
        default:
            e.ir.set_gpr(32, 0, e.ir.emit(Opcode::Truncate64To32, {product}));
            e.ir.set_gpr(32, 2, e.ir.emit(Opcode::High32Of64, {product}));
            break;
    }
    // SF, ZF, AF and PF are undefined and stay as they were (as the hardware does).
    e.set_flags_from(product, eflags::CF | eflags::OF);
}

void imul(Emitter& e) {
    if (e.insn.operand_count == 1) {
        multiply_accumulator<Opcode::Imul8>(e);
        return;
    }
    // IMUL r, r/m and IMUL r, r/m, imm: the truncated product; CF = OF =
    // "the product did not fit".
    Place dst = e.place(0);
    const unsigned bits = dst.bits;
    const Value a = e.read(1, bits);
    const Value b = e.insn.operand_count == 3 ? e.read(2, bits) : e.read(dst);
    const Value product = e.ir.emit(ir::sized(Opcode::Imul8, bits), {a, b});
    e.write(dst, e.ir.truncate(product, bits));
    e.set_flags_from(product, eflags::CF | eflags::OF);
}

// DIV/IDIV: the runtime divides and raises #DE on a zero divisor or a
// quotient that does not fit; flags are undefined and left unchanged.
template <bool is_signed>
void divide(Emitter& e) {
    const Value divisor = e.ir.zero_extend_32(e.read(0));
    const unsigned bits = e.insn.op(0).bits;
    switch (bits) {
        case 8: {
            const Value r = e.ir.call(is_signed ? HelperId::idiv8 : HelperId::div8,
                                      e.ir.zero_extend_32(e.ir.get_gpr(16, 0)), divisor);
            e.ir.set_gpr(16, 0, e.ir.truncate(r, 16));
            break;
        }
        case 16: {
            const Value dx_ax = e.ir.or_(
                e.ir.emit(Opcode::Shl32, {e.ir.zero_extend_32(e.ir.get_gpr(16, 2)), ir::imm8(16)}),
                e.ir.zero_extend_32(e.ir.get_gpr(16, 0)));
            const Value r =
                e.ir.call(is_signed ? HelperId::idiv16 : HelperId::div16, dx_ax, divisor);
            const Value r32 = e.ir.truncate(r, 32);
            e.ir.set_gpr(16, 0, e.ir.truncate(r32, 16));
            e.ir.set_gpr(16, 2, e.ir.truncate(e.ir.emit(Opcode::Shr32, {r32, ir::imm8(16)}), 16));
            break;
        }
        default:
            // The helper reads EDX:EAX and writes the quotient and remainder.
            e.ir.call(is_signed ? HelperId::idiv32 : HelperId::div32, divisor);
            break;
    }
}

}  // namespace

void register_muldiv(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_MUL, multiply_accumulator<Opcode::Mul8>);
    t.add(ZYDIS_MNEMONIC_IMUL, imul);
    t.add(ZYDIS_MNEMONIC_DIV, divide<false>);
    t.add(ZYDIS_MNEMONIC_IDIV, divide<true>);
}

}  // namespace jitterbug::cpu::semantics
