// XCHG, XADD, CMPXCHG, CMPXCHG8B. One CPU runs at a time, so LOCK needs
// nothing more than the single read-modify-write these already are.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

void xchg(Emitter& e) {
    // A memory operand is written first: its fault leaves both unchanged.
    const bool first_is_memory = e.insn.op(0).kind == OperandKind::Memory;
    Place a = e.place(first_is_memory ? 0 : 1);
    Place b = e.place(first_is_memory ? 1 : 0);
    e.check_writable(a);
    const Value va = e.read(a);
    const Value vb = e.read(b, a.bits);
    e.write(a, vb);
    e.write(b, va);
}

// XADD r/m, r: r/m = r/m + r, r = old r/m, flags of the addition.
void xadd(Emitter& e) {
    Place dst = e.place(0);
    Place src = e.place(1);
    e.check_writable(dst);
    const Value d = e.read(dst);
    const Value s = e.read(src);
    const Value sum = e.ir.add(d, s);
    if (dst.kind == OperandKind::Memory) {
        e.write(dst, sum);  // the store can fault: before any register write
        e.write(src, d);
    } else {
        e.write(src, d);
        e.write(dst, sum);  // last: XADD r, r with one register keeps the sum
    }
    e.set_flags_from(sum);
}

// CMPXCHG r/m, r (SDM Vol. 2A): compare the accumulator with r/m; equal:
// r/m = r, else accumulator = r/m. The destination is written either way.
void cmpxchg(Emitter& e) {
    Place dst = e.place(0);
    const unsigned bits = dst.bits;
    e.check_writable(dst);
    const Value d = e.read(dst);
    const Value src = e.read(1, bits);
    const Value acc = e.ir.get_gpr(bits, 0);
    const Value diff = e.ir.sub(acc, d);
    const Value equal = e.ir.is_zero(diff);
    const Value new_dst = e.ir.select(equal, src, d);
    const Value new_acc = e.ir.select(equal, acc, d);
    if (dst.kind == OperandKind::Memory) {
        e.write(dst, new_dst);
        e.ir.set_gpr(bits, 0, new_acc);
    } else {
        e.ir.set_gpr(bits, 0, new_acc);
        e.write(dst, new_dst);  // last: it may be the accumulator itself
    }
    e.set_flags_from(diff);
}

// CMPXCHG8B m64: compare EDX:EAX with m64; equal: m64 = ECX:EBX, ZF = 1;
// else EDX:EAX = m64, ZF = 0. Only ZF changes.
void cmpxchg8b(Emitter& e) {
    const Operand& m = e.insn.op(0);
    if (m.kind != OperandKind::Memory) {
        e.raise(vector::UD);
        return;
    }
    Place lo = e.place(0);
    lo.bits = 32;
    Place hi = lo;
    hi.offset = e.ir.add(lo.offset, ir::imm32(4));
    if (e.address_size() == 16) hi.offset = e.ir.and_(hi.offset, ir::imm32(0xFFFF));
    e.check_writable(lo);
    e.check_writable(hi);
    const Value mem_lo = e.read(lo);
    const Value mem_hi = e.read(hi);
    const Value eax = e.ir.get_reg32(Gpr::Eax);
    const Value edx = e.ir.get_reg32(Gpr::Edx);
    const Value equal = e.ir.is_zero(e.ir.or_(e.ir.xor_(mem_lo, eax), e.ir.xor_(mem_hi, edx)));
    e.write(lo, e.ir.select(equal, e.ir.get_reg32(Gpr::Ebx), mem_lo));
    e.write(hi, e.ir.select(equal, e.ir.get_reg32(Gpr::Ecx), mem_hi));
    e.ir.set_reg32(Gpr::Eax, e.ir.select(equal, eax, mem_lo));
    e.ir.set_reg32(Gpr::Edx, e.ir.select(equal, edx, mem_hi));
    const Value zf = e.ir.select(equal, ir::imm32(eflags::ZF), ir::imm32(0));
    e.ir.set_arith_flags(e.ir.emit(Opcode::FlagsFromU32, {zf}), eflags::ZF);
}

}  // namespace

void register_exchange(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_XCHG, xchg);
    t.add(ZYDIS_MNEMONIC_XADD, xadd);
    t.add(ZYDIS_MNEMONIC_CMPXCHG, cmpxchg);
    t.add(ZYDIS_MNEMONIC_CMPXCHG8B, cmpxchg8b);
}

}  // namespace jitterbug::cpu::semantics
