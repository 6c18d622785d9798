// SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR by 1, CL and imm8.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

// Rotates change only CF and OF (SDM Vol. 2B, RCL/RCR/ROL/ROR).
constexpr std::uint32_t kRotateFlags = eflags::CF | eflags::OF;

template <Opcode Op8, std::uint32_t kFlags, bool kThroughCarry>
void shift(Emitter& e) {
    Place dst = e.place(0);
    e.check_writable(dst);
    const Value a = e.read(dst);
    const Operand& count_op = e.insn.op(1);
    const bool immediate = count_op.kind == OperandKind::Immediate;
    const Value count =
        immediate ? ir::imm8(count_op.imm & 31) : e.ir.and_(e.read(1, 8), ir::imm8(31));
    const Opcode op = ir::sized(Op8, dst.bits);
    const Value r =
        kThroughCarry ? e.ir.emit(op, {a, count, e.ir.carry_flag()}) : e.ir.emit(op, {a, count});
    e.write(dst, r);
    if (immediate) {
        // A masked count of 0 changes nothing, flags included.
        if (count.imm() != 0) e.set_flags_from(r, kFlags);
        return;
    }
    const Value flags = e.ir.select(e.ir.is_zero(count), e.ir.get_arith_flags(), e.ir.flags_of(r));
    e.ir.set_arith_flags(flags, kFlags);
}

}  // namespace

void register_shift(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_SHL, shift<Opcode::Shl8, eflags::kArithmetic, false>);
    t.add(ZYDIS_MNEMONIC_SHR, shift<Opcode::Shr8, eflags::kArithmetic, false>);
    t.add(ZYDIS_MNEMONIC_SAR, shift<Opcode::Sar8, eflags::kArithmetic, false>);
    t.add(ZYDIS_MNEMONIC_ROL, shift<Opcode::Rol8, kRotateFlags, false>);
    t.add(ZYDIS_MNEMONIC_ROR, shift<Opcode::Ror8, kRotateFlags, false>);
    t.add(ZYDIS_MNEMONIC_RCL, shift<Opcode::Rcl8, kRotateFlags, true>);
    t.add(ZYDIS_MNEMONIC_RCR, shift<Opcode::Rcr8, kRotateFlags, true>);
}

}  // namespace jitterbug::cpu::semantics
