#include "cpu/semantics/emitter.hpp"

#include "cpu/runtime.hpp"

namespace jitterbug::cpu::semantics {

using ir::Opcode;
using ir::Terminal;

Emitter::Emitter(ir::Builder& builder, const Instruction& instruction,
                 const LocationDescriptor& location, std::uint32_t eip)
    : ir(builder), insn(instruction), location_(location), eip_(eip) {}

std::uint32_t Emitter::next_eip() const {
    const std::uint32_t next = eip_ + insn.length;
    return location_.code32() ? next : (next & 0xFFFF);
}

// ---- Operands ----------------------------------------------------------------------

Place Emitter::place(unsigned i) {
    const Operand& op = insn.operands[i];
    Place p;
    p.kind = op.kind;
    p.bits = op.bits;
    switch (op.kind) {
        case OperandKind::Gpr:
        case OperandKind::Control:
        case OperandKind::Debug:
            p.reg = op.reg;
            break;
        case OperandKind::Segment:
            p.reg = op.reg;
            p.seg = static_cast<SegReg>(op.reg);
            break;
        case OperandKind::Memory:
            p.seg = static_cast<SegReg>(op.mem.segment);
            p.offset = effective_address(op.mem);
            break;
        case OperandKind::Immediate:
            p.imm = ir::imm32(op.imm);
            break;
        default:
            break;
    }
    return p;
}

Value Emitter::read(const Place& p, unsigned bits) {
    const unsigned width = bits ? bits : p.bits;
    switch (p.kind) {
        case OperandKind::Gpr:
            return ir.resize(ir.get_gpr(p.bits, p.reg), width);
        case OperandKind::Memory:
            if (p.write_checked)
                return ir.resize(ir.read_mem(p.bits, linear(p.seg, p.offset)), width);
            return ir.resize(load(p.seg, p.offset, p.bits), width);
        case OperandKind::Segment:
            return ir.resize(ir.get_seg_selector(p.seg), width);
        case OperandKind::Immediate:
            return ir::imm_of_width(width, p.imm.imm());
        default:
            return ir::imm_of_width(width, 0);
    }
}

void Emitter::write(const Place& p, Value v) {
    switch (p.kind) {
        case OperandKind::Gpr:
            ir.set_gpr(p.bits, p.reg, ir.resize(v, p.bits));
            break;
        case OperandKind::Memory:
            if (p.write_checked) {
                ir.write_mem(p.bits, linear(p.seg, p.offset), ir.resize(v, p.bits));
            } else {
                store(p.seg, p.offset, p.bits, ir.resize(v, p.bits));
            }
            break;
        default:
            break;
    }
}

void Emitter::check_writable(Place& p) {
    if (p.kind != OperandKind::Memory) return;
    check_segment(p.seg, p.offset, p.bits, true);
    p.write_checked = true;
}

// ---- Memory ------------------------------------------------------------------------

Value Emitter::effective_address(const MemoryOperand& m) {
    Value ea;
    if (m.base >= 0) ea = ir.get_gpr(32, static_cast<unsigned>(m.base));
    if (m.index >= 0) {
        Value idx = ir.get_gpr(32, static_cast<unsigned>(m.index));
        if (m.scale > 1) {
            const unsigned shift = m.scale == 2 ? 1 : m.scale == 4 ? 2 : 3;
            idx = ir.emit(Opcode::Shl32, {idx, ir::imm8(shift)});
        }
        ea = ea.empty() ? idx : ir.add(ea, idx);
    }
    if (ea.empty()) {
        ea = ir::imm32(m.displacement);
    } else if (m.displacement != 0) {
        ea = ir.add(ea, ir::imm32(m.displacement));
    }
    if (address_size() == 16) {
        if (ea.is_immediate()) return ir::imm32(ea.imm() & 0xFFFF);
        return ir.and_(ea, ir::imm32(0xFFFF));
    }
    return ea;
}

Value Emitter::linear(SegReg s, Value offset) {
    if (location_.flat() && (s == SegReg::Ds || s == SegReg::Es || s == SegReg::Ss)) return offset;
    return ir.add(ir.get_seg_base(s), offset);
}

void Emitter::check_segment(SegReg s, Value offset, unsigned bits, bool write) {
    ir.emit(Opcode::CheckSegment,
            {ir::Builder::seg_ref(s), offset,
             ir::imm32(runtime::segment_check_info(
                 bits / 8, write ? runtime::kAccessWrite : runtime::kAccessRead))});
}

Value Emitter::load(SegReg s, Value offset, unsigned bits) {
    check_segment(s, offset, bits, false);
    return ir.read_mem(bits, linear(s, offset));
}

void Emitter::store(SegReg s, Value offset, unsigned bits, Value v) {
    check_segment(s, offset, bits, true);
    ir.write_mem(bits, linear(s, offset), v);
}

// ---- Stack ---------------------------------------------------------------------------

Value Emitter::stack_pointer() {
    if (stack32()) return ir.get_reg32(Gpr::Esp);
    return ir.zero_extend_32(ir.get_gpr(16, static_cast<unsigned>(Gpr::Esp)));
}

void Emitter::set_stack_pointer(Value sp) {
    if (stack32()) {
        ir.set_reg32(Gpr::Esp, sp);
    } else {
        ir.set_gpr(16, static_cast<unsigned>(Gpr::Esp), ir.truncate(sp, 16));
    }
}

Value Emitter::adjust_stack_pointer(Value sp, std::int32_t delta) {
    Value v = ir.add(sp, ir::imm32(static_cast<std::uint32_t>(delta)));
    if (!stack32()) v = ir.and_(v, ir::imm32(0xFFFF));
    return v;
}

void Emitter::push(Value v) {
    const unsigned bits = ir::Builder::width(v);
    const Value sp = adjust_stack_pointer(stack_pointer(), -static_cast<std::int32_t>(bits / 8));
    store(SegReg::Ss, sp, bits, v);
    set_stack_pointer(sp);
}

Emitter::Popped Emitter::pop(unsigned bits) {
    const Value sp = stack_pointer();
    const Value v = load(SegReg::Ss, sp, bits);
    return {v, adjust_stack_pointer(sp, static_cast<std::int32_t>(bits / 8))};
}

// ---- Segment registers ---------------------------------------------------------------

void Emitter::load_segment(SegReg s, Value selector, bool shadow) {
    if (real_addressing()) {
        ir.set_seg_real(s, selector);
    } else {
        ir.call(HelperId::load_segment, ir::imm32(static_cast<unsigned>(s)),
                ir.zero_extend_32(selector));
    }
    if (shadow) ir.call(HelperId::inhibit_interrupts, ir::imm32(1));
    // Blocks of flat mode assume DS, ES and SS stay flat.
    if (location_.flat()) end_after_ = true;
}

// ---- Flags ----------------------------------------------------------------------------

void Emitter::set_flags_from(Value op_result, std::uint32_t mask) {
    ir.set_arith_flags(ir.flags_of(op_result), mask);
}

// ---- Ending the block -----------------------------------------------------------------

Value Emitter::mask_eip(Value v) {
    if (operand_size() == 32) return v;
    if (v.is_immediate()) return ir::imm32(v.imm() & 0xFFFF);
    return ir.and_(v, ir::imm32(0xFFFF));
}

void Emitter::jump(std::uint32_t target) {
    Terminal& t = ir.block().terminal();
    t.kind = Terminal::Kind::Link;
    t.target = target;
}

void Emitter::branch(Value cond, std::uint32_t taken, std::uint32_t not_taken) {
    Terminal& t = ir.block().terminal();
    t.kind = Terminal::Kind::Branch;
    t.cond = cond;
    t.target = taken;
    t.fallthrough = not_taken;
}

void Emitter::jump_indirect(Value target) {
    ir.set_eip(target);
    ir.block().terminal().kind = Terminal::Kind::Dispatch;
}

void Emitter::dispatch() { ir.block().terminal().kind = Terminal::Kind::Dispatch; }

void Emitter::end_block() { jump_indirect(ir::imm32(next_eip())); }

void Emitter::halt() {
    Terminal& t = ir.block().terminal();
    t.kind = Terminal::Kind::Halt;
    t.target = next_eip();
}

void Emitter::raise(std::uint8_t vector) {
    Terminal& t = ir.block().terminal();
    t.kind = Terminal::Kind::Raise;
    t.target = eip_;
    t.event = Event{EventKind::Fault, vector, false, 0, eip_};
}

void Emitter::raise(std::uint8_t vector, std::uint32_t error_code) {
    raise(vector);
    ir.block().terminal().event.has_error_code = true;
    ir.block().terminal().event.error_code = error_code;
}

void Emitter::software_interrupt(std::uint8_t vector) {
    Terminal& t = ir.block().terminal();
    t.kind = Terminal::Kind::Raise;
    t.target = eip_;
    t.event = Event{EventKind::SoftwareInterrupt, vector, false, 0, next_eip()};
}

bool Emitter::ended() const { return ir.block().terminal().kind != Terminal::Kind::None; }

}  // namespace jitterbug::cpu::semantics
