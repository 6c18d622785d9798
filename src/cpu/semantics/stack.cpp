// PUSH, POP, PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE.
#include <vector>

#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

void push(Emitter& e) {
    const unsigned bits = e.operand_size();
    // A segment register with a 32-bit operand size: the SDM allows a 16-bit
    // move or the zero-extended selector; like the host, push the latter.
    e.push(e.read(0, bits));
}

void pop(Emitter& e) {
    const Operand& op = e.insn.op(0);
    const unsigned bits = e.operand_size();
    const Emitter::Popped p = e.pop(bits);
    switch (op.kind) {
        case OperandKind::Segment: {
            const auto s = static_cast<SegReg>(op.reg);
            e.load_segment(s, e.ir.truncate(p.value, 16), s == SegReg::Ss);
            e.set_stack_pointer(p.new_sp);
            if (s == SegReg::Ss) e.end_block();  // the next instruction runs in the shadow
            return;
        }
        case OperandKind::Memory: {
            // The destination's address is computed with the stack pointer
            // already incremented (SDM Vol. 2B, POP), and written before the
            // stack pointer is committed so that a fault leaves it unchanged.
            MemoryOperand m = op.mem;
            Value ea;
            if (m.base == static_cast<int>(Gpr::Esp)) {
                m.base = -1;
                Value rest = e.effective_address(m);
                Value esp = e.ir.add(e.ir.get_reg32(Gpr::Esp), ir::imm32(bits / 8));
                ea = e.ir.add(esp, rest);
                if (e.address_size() == 16) ea = e.ir.and_(ea, ir::imm32(0xFFFF));
            } else {
                ea = e.effective_address(m);
            }
            e.store(static_cast<SegReg>(m.segment), ea, bits, p.value);
            e.set_stack_pointer(p.new_sp);
            return;
        }
        default:
            e.set_stack_pointer(p.new_sp);
            e.write(0, p.value);  // after the stack pointer: POP ESP loads the popped value
            return;
    }
}

// PUSHA: every slot is checked before the first store (SDM Vol. 2B, PUSHA:
// #SS if the start or the end of the frame is outside the stack segment).
void pusha(Emitter& e) {
    const unsigned bits = e.operand_size();
    const unsigned bytes = bits / 8;
    const Value sp = e.stack_pointer();
    std::array<Value, 8> slots;
    for (unsigned r = 0; r < 8; ++r) {
        slots[r] = e.adjust_stack_pointer(sp, -static_cast<std::int32_t>(bytes * (r + 1)));
        e.check_segment(SegReg::Ss, slots[r], bits, true);
    }
    // EAX, ECX, EDX, EBX, the original ESP, EBP, ESI, EDI; the register last.
    for (unsigned r = 0; r < 8; ++r) {
        const Value v = r == 4 ? e.ir.truncate(sp, bits) : e.ir.get_gpr(bits, r);
        e.ir.write_mem(bits, e.linear(SegReg::Ss, slots[r]), v);
    }
    e.set_stack_pointer(slots[7]);
}

void popa(Emitter& e) {
    const unsigned bits = e.operand_size();
    const unsigned bytes = bits / 8;
    const Value sp = e.stack_pointer();
    std::array<Value, 8> v;
    for (unsigned k = 0; k < 8; ++k) {
        const Value slot = e.adjust_stack_pointer(sp, static_cast<std::int32_t>(bytes * k));
        v[7 - k] = e.load(SegReg::Ss, slot, bits);
    }
    for (unsigned r = 0; r < 8; ++r) {
        if (r != 4) e.ir.set_gpr(bits, r, v[r]);  // the stored ESP is discarded
    }
    e.set_stack_pointer(e.adjust_stack_pointer(sp, static_cast<std::int32_t>(bytes * 8)));
}

void pushf(Emitter& e) {
    const unsigned bits = e.operand_size();
    if (e.location().v86()) e.ir.call(HelperId::v86_sensitive);
    // VM and RF are cleared in the pushed image (SDM Vol. 2B, PUSHF).
    Value f = e.ir.and_(e.ir.get_eflags(), ir::imm32(~(eflags::VM | eflags::RF)));
    e.push(e.ir.truncate(f, bits));
}

void popf(Emitter& e) {
    const unsigned bits = e.operand_size();
    const Emitter::Popped p = e.pop(bits);
    // The rules for IF, IOPL, VM and the reserved bits live in the helper.
    e.ir.call(HelperId::write_eflags, e.ir.zero_extend_32(p.value), ir::imm32(bits));
    e.set_stack_pointer(p.new_sp);
    e.end_block();  // TF and IF may have changed
}

void leave(Emitter& e) {
    const unsigned bits = e.operand_size();
    Value frame = e.ir.get_reg32(Gpr::Ebp);
    if (!e.stack32()) frame = e.ir.and_(frame, ir::imm32(0xFFFF));
    const Value saved = e.load(SegReg::Ss, frame, bits);
    e.set_stack_pointer(e.adjust_stack_pointer(frame, static_cast<std::int32_t>(bits / 8)));
    e.ir.set_gpr(bits, static_cast<unsigned>(Gpr::Ebp), saved);
}

void enter(Emitter& e) {
    // SDM Vol. 2A, ENTER: push EBP; copy `level - 1` frame pointers from the
    // enclosing frame; push the new frame pointer; allocate `size` bytes. The
    // old frame is read first and every slot checked before the first store,
    // so a fault changes nothing.
    const unsigned bits = e.operand_size();
    const auto bytes = static_cast<std::int32_t>(bits / 8);
    const std::uint32_t size = e.insn.op(0).imm & 0xFFFF;
    const unsigned level = e.insn.op(1).imm & 31;
    const Value sp = e.stack_pointer();
    Value ebp = e.ir.get_reg32(Gpr::Ebp);
    if (!e.stack32()) ebp = e.ir.and_(ebp, ir::imm32(0xFFFF));
    std::vector<Value> values{e.ir.truncate(ebp, bits)};
    const Value frame = e.adjust_stack_pointer(sp, -bytes);
    if (level > 0) {
        for (unsigned i = 1; i < level; ++i) {
            const Value from = e.adjust_stack_pointer(ebp, -bytes * static_cast<std::int32_t>(i));
            values.push_back(e.load(SegReg::Ss, from, bits));
        }
        values.push_back(e.ir.truncate(frame, bits));
    }
    std::vector<Value> slots;
    for (std::size_t k = 0; k < values.size(); ++k) {
        slots.push_back(e.adjust_stack_pointer(sp, -bytes * static_cast<std::int32_t>(k + 1)));
        e.check_segment(SegReg::Ss, slots.back(), bits, true);
    }
    const auto pushed = static_cast<std::int32_t>(values.size()) * bytes;
    const Value new_sp = e.adjust_stack_pointer(sp, -pushed - static_cast<std::int32_t>(size));
    // #SS when the allocated frame ends outside the stack segment.
    e.check_segment(SegReg::Ss, new_sp, 8, true);
    for (std::size_t k = 0; k < values.size(); ++k) {
        e.ir.write_mem(bits, e.linear(SegReg::Ss, slots[k]), values[k]);
    }
    e.ir.set_gpr(bits, static_cast<unsigned>(Gpr::Ebp), e.ir.truncate(frame, bits));
    e.set_stack_pointer(new_sp);
}

}  // namespace

void register_stack(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_PUSH, push);
    t.add(ZYDIS_MNEMONIC_POP, pop);
    t.add(ZYDIS_MNEMONIC_PUSHA, pusha);
    t.add(ZYDIS_MNEMONIC_PUSHAD, pusha);
    t.add(ZYDIS_MNEMONIC_POPA, popa);
    t.add(ZYDIS_MNEMONIC_POPAD, popa);
    t.add(ZYDIS_MNEMONIC_PUSHF, pushf);
    t.add(ZYDIS_MNEMONIC_PUSHFD, pushf);
    t.add(ZYDIS_MNEMONIC_POPF, popf);
    t.add(ZYDIS_MNEMONIC_POPFD, popf);
    t.add(ZYDIS_MNEMONIC_LEAVE, leave);
    t.add(ZYDIS_MNEMONIC_ENTER, enter);
}

}  // namespace jitterbug::cpu::semantics
