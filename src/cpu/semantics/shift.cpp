// SHL/SAL, SHR, SAR, ROL, ROR by 1, CL and imm8.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

// Rotates change only CF and OF (SDM Vol. 2B, RCL/RCR/ROL/ROR).
constexpr std::uint32_t kRotateFlags = eflags::CF | eflags::OF;

template <Opcode Op8, std::uint32_t kFlags>
void shift(Emitter& e) {
    Place dst = e.place(0);
    e.check_writable(dst);
    const Value a = e.read(dst);
    const Operand& count_op = e.insn.op(1);
    if (count_op.kind == OperandKind::Immediate) {
        const unsigned count = count_op.imm & 31;
        const Value r = e.ir.emit(ir::sized(Op8, dst.bits), {a, ir::imm8(count)});
        e.write(dst, r);
        // A masked count of 0 changes nothing, flags included.
        if (count != 0) e.set_flags_from(r, kFlags);
        return;
    }
    const Value count = e.ir.and_(e.read(1, 8), ir::imm8(31));
    const Value r = e.ir.emit(ir::sized(Op8, dst.bits), {a, count});
    e.write(dst, r);
    const Value flags = e.ir.select(e.ir.is_zero(count), e.ir.get_arith_flags(), e.ir.flags_of(r));
    e.ir.set_arith_flags(flags, kFlags);
}

}  // namespace

void register_shift(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_SHL, shift<Opcode::Shl8, eflags::kArithmetic>);
    t.add(ZYDIS_MNEMONIC_SHR, shift<Opcode::Shr8, eflags::kArithmetic>);
    t.add(ZYDIS_MNEMONIC_SAR, shift<Opcode::Sar8, eflags::kArithmetic>);
    t.add(ZYDIS_MNEMONIC_ROL, shift<Opcode::Rol8, kRotateFlags>);
    t.add(ZYDIS_MNEMONIC_ROR, shift<Opcode::Ror8, kRotateFlags>);
}

}  // namespace jitterbug::cpu::semantics
