// SHLD, SHRD, BSF, BSR, BT, BTS, BTR, BTC, BSWAP.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

template <Opcode Op16>
void double_shift(Emitter& e) {
    Place dst = e.place(0);
    e.check_writable(dst);
    const unsigned bits = dst.bits;
    const Opcode op = static_cast<Opcode>(static_cast<unsigned>(Op16) + (bits == 32 ? 1 : 0));
    const Value a = e.read(dst);
    const Value b = e.read(1, bits);
    const Operand& count_op = e.insn.op(2);
    if (count_op.kind == OperandKind::Immediate) {
        const unsigned count = count_op.imm & 31;
        const Value r = e.ir.emit(op, {a, b, ir::imm8(count)});
        e.write(dst, r);
        if (count != 0) e.set_flags_from(r);
        return;
    }
    const Value count = e.ir.and_(e.read(2, 8), ir::imm8(31));
    const Value r = e.ir.emit(op, {a, b, count});
    e.write(dst, r);
    e.ir.set_arith_flags(e.ir.select(e.ir.is_zero(count), e.ir.get_arith_flags(), e.ir.flags_of(r)),
                         eflags::kArithmetic);
}

template <Opcode Op16>
void bit_scan(Emitter& e) {
    Place dst = e.place(0);
    const unsigned bits = dst.bits;
    const Opcode op = static_cast<Opcode>(static_cast<unsigned>(Op16) + (bits == 32 ? 1 : 0));
    const Value source = e.read(1, bits);
    const Value r = e.ir.emit(op, {source, e.read(dst)});
    e.write(dst, r);
    // ZF is defined; CF, OF, SF, AF and PF are undefined (SDM Vol. 2A, BSF).
    e.set_flags_from(r);
}

void bswap(Emitter& e) {
    if (e.operand_size() != 32) {
        // BSWAP of a 16-bit register is undefined; P6-family processors clear it.
        e.ir.set_gpr(16, e.insn.op(0).reg, ir::imm16(0));
        return;
    }
    e.write(0, e.ir.emit(Opcode::Bswap32, {e.read(0)}));
}

enum class BitOp { Test, Set, Reset, Complement };

// BT/BTS/BTR/BTC (SDM Vol. 2A, BT): CF = the selected bit. A register bit
// offset into memory addresses the bit string beyond the operand: the
// effective address moves by (offset >> log2(bits)) operands.
template <BitOp kind>
void bit_test(Emitter& e) {
    Place dst = e.place(0);
    const unsigned bits = dst.bits;
    const Operand& offset_op = e.insn.op(1);
    Value index;  // the bit number within the selected operand
    if (offset_op.kind == OperandKind::Immediate) {
        index = ir::imm_of_width(bits, offset_op.imm & (bits - 1));
    } else {
        const Value offset = e.read(1, bits);
        index = e.ir.and_(offset, ir::imm_of_width(bits, bits - 1));
        if (dst.kind == OperandKind::Memory) {
            const Value wide = e.ir.sign_extend_32(offset);
            const Value displacement = e.ir.emit(
                Opcode::Shl32, {e.ir.emit(Opcode::Sar32, {wide, ir::imm8(bits == 32 ? 5 : 4)}),
                                ir::imm8(bits == 32 ? 2 : 1)});
            Value ea = e.ir.add(dst.offset, displacement);
            if (e.address_size() == 16) ea = e.ir.and_(ea, ir::imm32(0xFFFF));
            dst.offset = ea;
        }
    }
    if (kind != BitOp::Test) e.check_writable(dst);
    const Value value = e.read(dst);
    const Value count = e.ir.truncate(index, 8);
    const Value bit =
        e.ir.and_(e.ir.sized_op(Opcode::Shr8, value, count), ir::imm_of_width(bits, 1));
    if constexpr (kind != BitOp::Test) {
        const Value mask = e.ir.sized_op(Opcode::Shl8, ir::imm_of_width(bits, 1), count);
        Value r;
        if constexpr (kind == BitOp::Set) r = e.ir.or_(value, mask);
        if constexpr (kind == BitOp::Reset) r = e.ir.and_(value, e.ir.sized_op(Opcode::Not8, mask));
        if constexpr (kind == BitOp::Complement) r = e.ir.xor_(value, mask);
        e.write(dst, r);
    }
    // Only CF is set; ZF is unaffected and OF, SF, AF, PF are undefined (left alone).
    e.ir.set_arith_flags(e.ir.emit(Opcode::FlagsFromU32, {e.ir.zero_extend_32(bit)}), eflags::CF);
}

}  // namespace

void register_bits(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_SHLD, double_shift<Opcode::Shld16>);
    t.add(ZYDIS_MNEMONIC_SHRD, double_shift<Opcode::Shrd16>);
    t.add(ZYDIS_MNEMONIC_BSF, bit_scan<Opcode::Bsf16>);
    t.add(ZYDIS_MNEMONIC_BSR, bit_scan<Opcode::Bsr16>);
    t.add(ZYDIS_MNEMONIC_BSWAP, bswap);
    t.add(ZYDIS_MNEMONIC_BT, bit_test<BitOp::Test>);
    t.add(ZYDIS_MNEMONIC_BTS, bit_test<BitOp::Set>);
    t.add(ZYDIS_MNEMONIC_BTR, bit_test<BitOp::Reset>);
    t.add(ZYDIS_MNEMONIC_BTC, bit_test<BitOp::Complement>);
}

}  // namespace jitterbug::cpu::semantics
