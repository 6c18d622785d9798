// Control transfer: JMP, Jcc, JCXZ/JECXZ, LOOP/LOOPE/LOOPNE, CALL, RET,
// far transfers, IRET, INT n, INT3, INTO, HLT.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

bool is_far(const Emitter& e) {
    const Operand& op = e.insn.op(0);
    return op.kind == OperandKind::FarPointer ||
           (op.kind == OperandKind::Memory && op.bits == e.operand_size() + 16);
}

// Selector and offset of a far operand (ptr16:16/32 or m16:16/32).
std::pair<Value, Value> far_target(Emitter& e) {
    const Operand& op = e.insn.op(0);
    if (op.kind == OperandKind::FarPointer) {
        return {ir::imm32(op.selector), ir::imm32(op.imm)};
    }
    const auto seg = static_cast<SegReg>(op.mem.segment);
    const Value ea = e.effective_address(op.mem);
    const unsigned bits = e.operand_size();
    const Value offset = e.ir.zero_extend_32(e.load(seg, ea, bits));
    Value sel_at = e.ir.add(ea, ir::imm32(bits / 8));
    if (e.address_size() == 16) sel_at = e.ir.and_(sel_at, ir::imm32(0xFFFF));
    const Value selector = e.ir.zero_extend_32(e.load(seg, sel_at, 16));
    return {selector, offset};
}

// The first argument of far JMP and CALL: the selector, with the operand
// size in bit 16.
Value selector_with_operand_size(Emitter& e, Value selector) {
    if (e.operand_size() != 32) return selector;
    if (selector.is_immediate()) return ir::imm32(selector.imm() | 0x10000u);
    return e.ir.or_(selector, ir::imm32(0x10000u));
}

// Operand size in bit 31 of the far-transfer helpers' last argument.
Value with_operand_size(Emitter& e, std::uint32_t v) {
    return ir::imm32(v | (e.operand_size() == 32 ? 0x80000000u : 0));
}

void jmp(Emitter& e) {
    if (e.insn.relative) {
        e.jump(e.insn.branch_target);
        return;
    }
    if (is_far(e)) {
        const auto [sel, off] = far_target(e);
        e.ir.call(HelperId::far_jump, selector_with_operand_size(e, sel), off,
                  ir::imm32(e.next_eip()));
        e.dispatch();
        return;
    }
    e.jump_indirect(e.mask_eip(e.ir.zero_extend_32(e.read(0, e.operand_size()))));
}

void jcc(Emitter& e) {
    const int cc = condition_of(static_cast<ZydisMnemonic>(e.insn.mnemonic));
    e.branch(e.ir.cond(static_cast<unsigned>(cc)), e.insn.branch_target, e.next_eip());
}

void jcxz(Emitter& e) {
    e.branch(e.ir.is_zero(count_register(e)), e.insn.branch_target, e.next_eip());
}

void loop(Emitter& e) {
    const Value count = e.ir.and_(e.ir.add(count_register(e), ir::imm32(0xFFFFFFFF)),
                                  ir::imm32(e.address_size() == 16 ? 0xFFFF : 0xFFFFFFFF));
    set_count_register(e, count);
    Value go = e.ir.emit(Opcode::LogicalNot1, {e.ir.is_zero(count)});
    const auto m = static_cast<ZydisMnemonic>(e.insn.mnemonic);
    if (m == ZYDIS_MNEMONIC_LOOPE) go = e.ir.emit(Opcode::LogicalAnd1, {go, e.ir.cond(4)});
    if (m == ZYDIS_MNEMONIC_LOOPNE) go = e.ir.emit(Opcode::LogicalAnd1, {go, e.ir.cond(5)});
    e.branch(go, e.insn.branch_target, e.next_eip());
}

void call(Emitter& e) {
    const unsigned bits = e.operand_size();
    if (e.insn.relative) {
        e.push(ir::imm_of_width(bits, e.next_eip()));
        e.jump(e.insn.branch_target);
        return;
    }
    if (is_far(e)) {
        const auto [sel, off] = far_target(e);
        e.ir.call(HelperId::far_call, selector_with_operand_size(e, sel), off,
                  ir::imm32(e.next_eip()));
        e.dispatch();
        return;
    }
    // The target is read before the return address is pushed.
    const Value target = e.mask_eip(e.ir.zero_extend_32(e.read(0, bits)));
    e.push(ir::imm_of_width(bits, e.next_eip()));
    e.jump_indirect(target);
}

void ret(Emitter& e) {
    const unsigned bits = e.operand_size();
    const std::uint32_t release = e.insn.operand_count > 0 ? (e.insn.op(0).imm & 0xFFFF) : 0;
    if (e.insn.opcode == 0xCA || e.insn.opcode == 0xCB) {  // RETF
        e.ir.call(HelperId::far_return, with_operand_size(e, release));
        e.dispatch();
        return;
    }
    const Emitter::Popped p = e.pop(bits);
    Value sp = p.new_sp;
    if (release) sp = e.adjust_stack_pointer(sp, static_cast<std::int32_t>(release));
    e.set_stack_pointer(sp);
    e.jump_indirect(e.ir.zero_extend_32(p.value));
}

void iret(Emitter& e) {
    e.ir.call(HelperId::iret, with_operand_size(e, 0), ir::imm32(e.next_eip()));
    e.dispatch();
}

void int_n(Emitter& e) {
    if (e.location().v86()) e.ir.call(HelperId::v86_sensitive);
    e.software_interrupt(static_cast<std::uint8_t>(e.insn.op(0).imm));
}
void int3(Emitter& e) { e.software_interrupt(vector::BP); }

void into(Emitter& e) {
    // INT 4 if OF is set; the helper raises it as a software interrupt.
    e.ir.call(HelperId::into, ir::imm32(e.next_eip()));
    e.jump(e.next_eip());
}

// BOUND r, m16&16 / m32&32: #BR when the signed index is outside the bounds.
void bound(Emitter& e) {
    const Operand& m = e.insn.op(1);
    if (m.kind != OperandKind::Memory) {
        e.raise(vector::UD);
        return;
    }
    const unsigned bits = e.operand_size();
    const auto seg = static_cast<SegReg>(m.mem.segment);
    const Value ea = e.effective_address(m.mem);
    Value upper_at = e.ir.add(ea, ir::imm32(bits / 8));
    if (e.address_size() == 16) upper_at = e.ir.and_(upper_at, ir::imm32(0xFFFF));
    const Value lower = e.ir.sign_extend_32(e.load(seg, ea, bits));
    const Value upper = e.ir.sign_extend_32(e.load(seg, upper_at, bits));
    const Value index = e.ir.sign_extend_32(e.read(0, bits));
    e.ir.call(HelperId::bound, index, lower, upper);
}

// INT1 (ICEBP, F1): a debug exception reported as a trap, delivered without
// the gate-DPL check of INT n.
void int1(Emitter& e) {
    ir::Terminal& t = e.ir.block().terminal();
    t.kind = ir::Terminal::Kind::Raise;
    t.target = e.eip();
    t.event = Event{EventKind::Trap, vector::DB, false, 0, e.next_eip()};
}

void hlt(Emitter& e) {
    if (e.location().protected_mode() && e.location().cpl() != 0) {
        e.raise(vector::GP, 0);  // privileged (SDM Vol. 2A, HLT)
        return;
    }
    e.halt();
}

}  // namespace

void register_control(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_JMP, jmp);
    for (int m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; ++m) {
        const auto mn = static_cast<ZydisMnemonic>(m);
        if (condition_of(mn) >= 0 && ZydisMnemonicGetString(mn)[0] == 'j') t.add(mn, jcc);
    }
    t.add(ZYDIS_MNEMONIC_JCXZ, jcxz);
    t.add(ZYDIS_MNEMONIC_JECXZ, jcxz);
    t.add(ZYDIS_MNEMONIC_LOOP, loop);
    t.add(ZYDIS_MNEMONIC_LOOPE, loop);
    t.add(ZYDIS_MNEMONIC_LOOPNE, loop);
    t.add(ZYDIS_MNEMONIC_CALL, call);
    t.add(ZYDIS_MNEMONIC_RET, ret);
    t.add(ZYDIS_MNEMONIC_IRET, iret);
    t.add(ZYDIS_MNEMONIC_IRETD, iret);
    t.add(ZYDIS_MNEMONIC_INT, int_n);
    t.add(ZYDIS_MNEMONIC_INT3, int3);
    t.add(ZYDIS_MNEMONIC_INTO, into);
    t.add(ZYDIS_MNEMONIC_INT1, int1);
    t.add(ZYDIS_MNEMONIC_BOUND, bound);
    t.add(ZYDIS_MNEMONIC_HLT, hlt);
}

}  // namespace jitterbug::cpu::semantics
