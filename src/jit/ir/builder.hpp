// Builder: appends typed IR to a block. The semantics layer speaks to the IR
// only through this class.
#pragma once

#include <cassert>
#include <cstdint>

#include "cpu/cpu_state.hpp"
#include "cpu/helper_id.hpp"
#include "jit/ir/block.hpp"

namespace jitterbug::ir {

class Builder {
  public:
    explicit Builder(Block& block) : block_(block) {}

    Block& block() { return block_; }

    Value emit(Opcode op, std::initializer_list<Value> args) { return block_.append(op, args); }

    // ---- Guest registers ------------------------------------------------------
    // `index` is the register number in the operand's own encoding: 0-7 for
    // AL..BH when bits == 8, EAX..EDI / AX..DI otherwise.
    Value get_gpr(unsigned bits, unsigned index) {
        return emit(sized(Opcode::GetGpr8, bits), {gpr_ref(index)});
    }
    void set_gpr(unsigned bits, unsigned index, Value v) {
        emit(sized(Opcode::SetGpr8, bits), {gpr_ref(index), v});
    }
    Value get_reg32(cpu::Gpr r) { return get_gpr(32, static_cast<unsigned>(r)); }
    void set_reg32(cpu::Gpr r, Value v) { set_gpr(32, static_cast<unsigned>(r), v); }
    Value get_seg_base(cpu::SegReg s) { return emit(Opcode::GetSegBase, {seg_ref(s)}); }
    Value get_seg_selector(cpu::SegReg s) { return emit(Opcode::GetSegSelector, {seg_ref(s)}); }
    void set_seg_real(cpu::SegReg s, Value selector) {
        emit(Opcode::SetSegReal, {seg_ref(s), selector});
    }
    void set_eip(Value v) { emit(Opcode::SetEip, {v}); }

    // ---- Flags ------------------------------------------------------------------
    Value get_eflags() { return emit(Opcode::GetEflags, {}); }
    void set_eflags(Value v) { emit(Opcode::SetEflags, {v}); }
    Value get_arith_flags() { return emit(Opcode::GetArithFlags, {}); }
    void set_arith_flags(Value flags, std::uint32_t mask) {
        emit(Opcode::SetArithFlags, {flags, imm32(mask)});
    }
    Value flags_of(Value op_result) {
        assert(!op_result.is_immediate());
        return emit(Opcode::GetFlagsFromOp, {Value::result_of(Type::Opaque, op_result.inst())});
    }
    Value test_cond(unsigned cc, Value flags) {
        return emit(Opcode::TestCond, {Value::immediate(Type::CondRef, cc & 15), flags});
    }
    // The guest's current condition `cc`.
    Value cond(unsigned cc) { return test_cond(cc, get_arith_flags()); }
    Value carry_flag() { return cond(2); }

    // ---- Arithmetic by operand width ----------------------------------------------
    Value sized_op(Opcode op8, Value a, Value b) { return emit(sized(op8, width(a)), {a, b}); }
    Value sized_op(Opcode op8, Value a) { return emit(sized(op8, width(a)), {a}); }
    Value add(Value a, Value b) { return sized_op(Opcode::Add8, a, b); }
    Value sub(Value a, Value b) { return sized_op(Opcode::Sub8, a, b); }
    Value and_(Value a, Value b) { return sized_op(Opcode::And8, a, b); }
    Value or_(Value a, Value b) { return sized_op(Opcode::Or8, a, b); }
    Value xor_(Value a, Value b) { return sized_op(Opcode::Xor8, a, b); }
    Value adc(Value a, Value b, Value c) { return emit(sized(Opcode::Adc8, width(a)), {a, b, c}); }
    Value sbb(Value a, Value b, Value c) { return emit(sized(Opcode::Sbb8, width(a)), {a, b, c}); }
    Value select(Value c, Value a, Value b) {
        if (a.type() == Type::Flags) return emit(Opcode::SelectFlags, {c, a, b});
        return emit(sized(Opcode::Select8, width(a)), {c, a, b});
    }
    Value is_zero(Value a) { return sized_op(Opcode::IsZero8, a); }

    // ---- Width changes ----------------------------------------------------------
    Value zero_extend_32(Value v);
    Value sign_extend_32(Value v);
    Value truncate(Value v, unsigned bits);
    // Converts v to `bits` wide: zero-extending or truncating.
    Value resize(Value v, unsigned bits);

    // ---- Memory -------------------------------------------------------------------
    Value read_mem(unsigned bits, Value linear) {
        return emit(sized(Opcode::ReadMem8, bits), {linear});
    }
    void write_mem(unsigned bits, Value linear, Value v) {
        emit(sized(Opcode::WriteMem8, bits), {linear, v});
    }

    // ---- Runtime helpers -----------------------------------------------------------
    Value call(cpu::HelperId id, Value a = imm32(0), Value b = imm32(0), Value c = imm32(0)) {
        return emit(Opcode::CallHelper,
                    {Value::immediate(Type::HelperRef, static_cast<unsigned>(id)), a, b, c});
    }

    static unsigned width(Value v) { return bit_width(v.type()); }
    static Value gpr_ref(unsigned index) { return Value::immediate(Type::GprRef, index); }
    static Value seg_ref(cpu::SegReg s) {
        return Value::immediate(Type::SegRef, static_cast<unsigned>(s));
    }

  private:
    Block& block_;
};

}  // namespace jitterbug::ir
