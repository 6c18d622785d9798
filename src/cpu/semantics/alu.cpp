// ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST, INC, DEC, NEG, NOT.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

enum class Carry { None, In };

// dst = dst op src; flags from the operation. `write_back` is false for CMP/TEST.
template <Opcode Op8, Carry carry, bool write_back>
void binary(Emitter& e) {
    Place dst = e.place(0);
    if (write_back) e.check_writable(dst);
    const Value a = e.read(dst);
    const Value b = e.read(1, dst.bits);
    Value r;
    if constexpr (carry == Carry::In) {
        r = e.ir.emit(ir::sized(Op8, dst.bits), {a, b, e.ir.carry_flag()});
    } else {
        r = e.ir.sized_op(Op8, a, b);
    }
    if (write_back) e.write(dst, r);
    e.set_flags_from(r);
}

template <Opcode Op8, std::uint32_t kFlags>
void unary(Emitter& e) {
    Place dst = e.place(0);
    e.check_writable(dst);
    const Value r = e.ir.sized_op(Op8, e.read(dst));
    e.write(dst, r);
    if (kFlags) e.set_flags_from(r, kFlags);
}

constexpr std::uint32_t kAllButCarry = eflags::kArithmetic & ~eflags::CF;

}  // namespace

void register_alu(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_ADD, binary<Opcode::Add8, Carry::None, true>);
    t.add(ZYDIS_MNEMONIC_OR, binary<Opcode::Or8, Carry::None, true>);
    t.add(ZYDIS_MNEMONIC_ADC, binary<Opcode::Adc8, Carry::In, true>);
    t.add(ZYDIS_MNEMONIC_SBB, binary<Opcode::Sbb8, Carry::In, true>);
    t.add(ZYDIS_MNEMONIC_AND, binary<Opcode::And8, Carry::None, true>);
    t.add(ZYDIS_MNEMONIC_SUB, binary<Opcode::Sub8, Carry::None, true>);
    t.add(ZYDIS_MNEMONIC_XOR, binary<Opcode::Xor8, Carry::None, true>);
    t.add(ZYDIS_MNEMONIC_CMP, binary<Opcode::Sub8, Carry::None, false>);
    t.add(ZYDIS_MNEMONIC_TEST, binary<Opcode::And8, Carry::None, false>);
    t.add(ZYDIS_MNEMONIC_INC, unary<Opcode::Inc8, kAllButCarry>);
    t.add(ZYDIS_MNEMONIC_DEC, unary<Opcode::Dec8, kAllButCarry>);
    t.add(ZYDIS_MNEMONIC_NEG, unary<Opcode::Neg8, eflags::kArithmetic>);
    t.add(ZYDIS_MNEMONIC_NOT, unary<Opcode::Not8, 0>);
}

}  // namespace jitterbug::cpu::semantics
