// IN and OUT, by imm8 and by DX. The block ends after each: a device may
// have raised an interrupt or asked the machine to stop.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

Value port_of(Emitter& e, const Operand& op) {
    if (op.kind == OperandKind::Immediate) return ir::imm32(op.imm & 0xFF);
    return e.ir.zero_extend_32(e.ir.get_gpr(16, 2));  // DX
}

void in(Emitter& e) {
    const unsigned bits = e.insn.op(0).bits;
    const Value v = e.ir.call(HelperId::io_in, port_of(e, e.insn.op(1)), ir::imm32(bits / 8));
    e.ir.set_gpr(bits, 0, e.ir.truncate(v, bits));
    e.end_block();
}

void out(Emitter& e) {
    const unsigned bits = e.insn.op(1).bits;
    const Value v = e.ir.zero_extend_32(e.ir.get_gpr(bits, 0));
    e.ir.call(HelperId::io_out, port_of(e, e.insn.op(0)), ir::imm32(bits / 8), v);
    e.end_block();
}

}  // namespace

void register_io(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_IN, in);
    t.add(ZYDIS_MNEMONIC_OUT, out);
}

}  // namespace jitterbug::cpu::semantics
