// CPUID, RDTSC, UD0/UD1/UD2, and the system instructions: control and
// debug registers, descriptor-table registers, LLDT/LTR, LMSW/SMSW/CLTS,
// INVLPG, INVD/WBINVD, LAR/LSL/VERR/VERW/ARPL, RDMSR/WRMSR,
// SYSENTER/SYSEXIT. Privilege is known at translation time (the block's
// CPL): an instruction for ring 0 only raises #GP(0) elsewhere.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

void cpuid(Emitter& e) { e.ir.call(HelperId::cpuid); }
void rdtsc(Emitter& e) { e.ir.call(HelperId::rdtsc); }
void ud(Emitter& e) { e.raise(vector::UD); }

// WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set, else nothing to wait
// for (no x87 exceptions are ever pending yet).
void fwait(Emitter& e) { e.ir.call(HelperId::fwait); }

// An instruction of ring 0 run elsewhere (virtual-8086 mode is ring 3):
// #GP(0), and true.
bool not_privileged(Emitter& e) {
    if (e.location().protected_mode() && e.location().cpl() != 0) {
        e.raise(vector::GP, 0);
        return true;
    }
    return false;
}

// Instructions of protected mode only: #UD in real and virtual-8086 mode, and true.
bool not_protected(Emitter& e) {
    if (e.real_addressing()) {
        e.raise(vector::UD);
        return true;
    }
    return false;
}

Value selector_operand(Emitter& e, unsigned i) { return e.ir.zero_extend_32(e.read(i, 16)); }

// MOV to and from CR0-CR4 and DR0-DR7 (the other operand is always a 32-bit GPR).
void mov_system(Emitter& e) {
    const Operand& dst = e.insn.op(0);
    const Operand& src = e.insn.op(1);
    if (not_privileged(e)) return;
    if (dst.kind == OperandKind::Control) {
        e.ir.call(HelperId::write_cr, ir::imm32(dst.reg), e.ir.get_gpr(32, src.reg));
        e.end_block();  // the mode, paging or the TLB may have changed
    } else if (dst.kind == OperandKind::Debug) {
        e.ir.call(HelperId::write_dr, ir::imm32(dst.reg), e.ir.get_gpr(32, src.reg));
        e.end_block();
    } else {
        const HelperId id =
            src.kind == OperandKind::Control ? HelperId::read_cr : HelperId::read_dr;
        const Value v = e.ir.call(id, ir::imm32(src.reg));
        e.ir.set_gpr(32, dst.reg, e.ir.truncate(v, 32));
    }
}

// The address of a memory-only operand, or #UD for a register.
bool memory_operand(Emitter& e, unsigned i, SegReg& seg, Value& offset) {
    const Operand& m = e.insn.op(i);
    if (m.kind != OperandKind::Memory) {
        e.raise(vector::UD);
        return false;
    }
    seg = static_cast<SegReg>(m.mem.segment);
    offset = e.effective_address(m.mem);
    return true;
}

Value offset_plus(Emitter& e, Value offset, std::uint32_t delta) {
    Value v = e.ir.add(offset, ir::imm32(delta));
    if (e.address_size() == 16) v = e.ir.and_(v, ir::imm32(0xFFFF));
    return v;
}

// LGDT/LIDT m16&32.
void load_table(Emitter& e, std::uint32_t which) {
    SegReg seg;
    Value ea;
    if (!memory_operand(e, 0, seg, ea) || not_privileged(e)) return;
    const Value limit = e.ir.zero_extend_32(e.load(seg, ea, 16));
    const Value base = e.load(seg, offset_plus(e, ea, 2), 32);
    const std::uint32_t size = e.operand_size() == 32 ? 0x80000000u : 0;
    e.ir.call(HelperId::load_table_register, ir::imm32(which | size), limit, base);
}
void lgdt(Emitter& e) { load_table(e, 0); }
void lidt(Emitter& e) { load_table(e, 1); }

// SGDT/SIDT m16&32: the limit, then the base (24 bits and a zero byte with
// a 16-bit operand size).
void store_table(Emitter& e, std::uint32_t which) {
    SegReg seg;
    Value ea;
    if (!memory_operand(e, 0, seg, ea)) return;
    const Value high_at = offset_plus(e, ea, 2);
    e.check_segment(seg, ea, 16, true);
    e.check_segment(seg, high_at, 32, true);
    const Value base_v =
        e.ir.truncate(e.ir.call(HelperId::read_table_register, ir::imm32(which)), 32);
    const Value limit_v =
        e.ir.truncate(e.ir.call(HelperId::read_table_register, ir::imm32(which + 1)), 16);
    const Value base = e.operand_size() == 32 ? base_v : e.ir.and_(base_v, ir::imm32(0xFFFFFF));
    e.ir.write_mem(16, e.linear(seg, ea), limit_v);
    e.ir.write_mem(32, e.linear(seg, high_at), base);
}
void sgdt(Emitter& e) { store_table(e, 0); }
void sidt(Emitter& e) { store_table(e, 2); }

// SLDT/STR: the selector; a 32-bit register gets it zero-extended.
void store_selector(Emitter& e, std::uint32_t which) {
    if (not_protected(e)) return;
    Place d = e.place(0);
    const Value v = e.ir.truncate(e.ir.call(HelperId::read_table_register, ir::imm32(which)), 32);
    e.write(d, e.ir.resize(v, d.bits));
}
void sldt(Emitter& e) { store_selector(e, 4); }
void str(Emitter& e) { store_selector(e, 5); }

void lldt(Emitter& e) {
    if (not_protected(e) || not_privileged(e)) return;
    e.ir.call(HelperId::lldt, selector_operand(e, 0));
}

void ltr(Emitter& e) {
    if (not_protected(e) || not_privileged(e)) return;
    e.ir.call(HelperId::ltr, selector_operand(e, 0));
}

void lmsw(Emitter& e) {
    if (not_privileged(e)) return;
    e.ir.call(HelperId::lmsw, selector_operand(e, 0));
    e.end_block();
}

// SMSW: all of CR0 into a 32-bit register, its low word elsewhere.
void smsw(Emitter& e) {
    Place d = e.place(0);
    const Value cr0 = e.ir.truncate(e.ir.call(HelperId::read_cr, ir::imm32(0)), 32);
    e.write(d, e.ir.resize(cr0, d.bits));
}

void clts(Emitter& e) {
    if (not_privileged(e)) return;
    e.ir.call(HelperId::clts);
}

void invlpg(Emitter& e) {
    SegReg seg;
    Value ea;
    if (!memory_operand(e, 0, seg, ea) || not_privileged(e)) return;
    e.ir.call(HelperId::invlpg, e.linear(seg, ea));
    e.end_block();
}

// INVD/WBINVD: there are no caches to write back.
void invalidate_caches(Emitter& e) { (void)not_privileged(e); }

void lar_lsl(Emitter& e, std::uint32_t kind) {
    if (not_protected(e)) return;
    const unsigned bits = e.insn.op(0).bits;
    e.ir.call(HelperId::access_rights, selector_operand(e, 1), ir::imm32(kind | (bits << 8)),
              ir::imm32(e.insn.op(0).reg));
}
void lar(Emitter& e) { lar_lsl(e, 0); }
void lsl(Emitter& e) { lar_lsl(e, 1); }

void verify(Emitter& e, std::uint32_t write) {
    if (not_protected(e)) return;
    e.ir.call(HelperId::verify_segment, selector_operand(e, 0), ir::imm32(write));
}
void verr(Emitter& e) { verify(e, 0); }
void verw(Emitter& e) { verify(e, 1); }

void arpl(Emitter& e) {
    if (not_protected(e)) return;
    Place d = e.place(0);
    e.check_writable(d);
    const Value dest = e.ir.zero_extend_32(e.read(d));
    const Value src = e.ir.zero_extend_32(e.read(1, 16));
    const Value v = e.ir.call(HelperId::arpl, dest, src);
    e.write(d, e.ir.truncate(v, 16));
}

void rdmsr(Emitter& e) {
    if (not_privileged(e)) return;
    e.ir.call(HelperId::rdmsr);
}

void wrmsr(Emitter& e) {
    if (not_privileged(e)) return;
    e.ir.call(HelperId::wrmsr);
    e.end_block();  // (EFER.NXE changes paging)
}

void sysenter(Emitter& e) {
    e.ir.call(HelperId::sysenter);
    e.dispatch();
}

void sysexit(Emitter& e) {
    e.ir.call(HelperId::sysexit);
    e.dispatch();
}

}  // namespace

void mov_control_or_debug(Emitter& e) { mov_system(e); }

void register_system(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_CPUID, cpuid);
    t.add(ZYDIS_MNEMONIC_RDTSC, rdtsc);
    t.add(ZYDIS_MNEMONIC_UD0, ud);
    t.add(ZYDIS_MNEMONIC_UD1, ud);
    t.add(ZYDIS_MNEMONIC_UD2, ud);
    t.add(ZYDIS_MNEMONIC_FWAIT, fwait);
    t.add(ZYDIS_MNEMONIC_LGDT, lgdt);
    t.add(ZYDIS_MNEMONIC_LIDT, lidt);
    t.add(ZYDIS_MNEMONIC_SGDT, sgdt);
    t.add(ZYDIS_MNEMONIC_SIDT, sidt);
    t.add(ZYDIS_MNEMONIC_SLDT, sldt);
    t.add(ZYDIS_MNEMONIC_STR, str);
    t.add(ZYDIS_MNEMONIC_LLDT, lldt);
    t.add(ZYDIS_MNEMONIC_LTR, ltr);
    t.add(ZYDIS_MNEMONIC_LMSW, lmsw);
    t.add(ZYDIS_MNEMONIC_SMSW, smsw);
    t.add(ZYDIS_MNEMONIC_CLTS, clts);
    t.add(ZYDIS_MNEMONIC_INVLPG, invlpg);
    t.add(ZYDIS_MNEMONIC_INVD, invalidate_caches);
    t.add(ZYDIS_MNEMONIC_WBINVD, invalidate_caches);
    t.add(ZYDIS_MNEMONIC_LAR, lar);
    t.add(ZYDIS_MNEMONIC_LSL, lsl);
    t.add(ZYDIS_MNEMONIC_VERR, verr);
    t.add(ZYDIS_MNEMONIC_VERW, verw);
    t.add(ZYDIS_MNEMONIC_ARPL, arpl);
    t.add(ZYDIS_MNEMONIC_RDMSR, rdmsr);
    t.add(ZYDIS_MNEMONIC_WRMSR, wrmsr);
    t.add(ZYDIS_MNEMONIC_SYSENTER, sysenter);
    t.add(ZYDIS_MNEMONIC_SYSEXIT, sysexit);
}

}  // namespace jitterbug::cpu::semantics
