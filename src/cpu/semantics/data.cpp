// Data movement: MOV, MOVZX, MOVSX, LEA, XCHG, CBW/CWDE, CWD/CDQ, CMOVcc,
// SETcc, XLAT, LAHF, SAHF, BSWAP, NOP.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

void mov(Emitter& e) {
    const Operand& dst = e.insn.op(0);
    const Operand& src = e.insn.op(1);
    if (dst.kind == OperandKind::Control || dst.kind == OperandKind::Debug ||
        src.kind == OperandKind::Control || src.kind == OperandKind::Debug) {
        mov_control_or_debug(e);
        return;
    }
    if (dst.kind == OperandKind::Segment) {
        if (static_cast<SegReg>(dst.reg) == SegReg::Cs) {
            e.raise(vector::UD);  // MOV CS is invalid (SDM Vol. 2B, MOV)
            return;
        }
        const auto s = static_cast<SegReg>(dst.reg);
        e.load_segment(s, e.read(1, 16), s == SegReg::Ss);
        if (s == SegReg::Ss) e.end_block();  // the next instruction runs in the shadow
        return;
    }
    Place d = e.place(0);
    const Value v = e.read(1, d.bits);
    e.write(d, v);
}

void movzx(Emitter& e) {
    Place d = e.place(0);
    e.write(d, e.ir.resize(e.read(1), d.bits));
}

void movsx(Emitter& e) {
    Place d = e.place(0);
    e.write(d, e.ir.truncate(e.ir.sign_extend_32(e.read(1)), d.bits));
}

void lea(Emitter& e) {
    const Operand& m = e.insn.op(1);
    if (m.kind != OperandKind::Memory) {
        e.raise(vector::UD);
        return;
    }
    Place d = e.place(0);
    e.write(d, e.ir.truncate(e.effective_address(m.mem), d.bits));
}

// LDS/LES/LFS/LGS/LSS r, m16:16/32: offset then selector from memory; the
// segment register is loaded before the general register is written.
void load_far_pointer(Emitter& e) {
    const Operand& m = e.insn.op(1);
    if (m.kind != OperandKind::Memory) {
        e.raise(vector::UD);
        return;
    }
    SegReg s = SegReg::Ds;
    switch (static_cast<ZydisMnemonic>(e.insn.mnemonic)) {
        case ZYDIS_MNEMONIC_LES:
            s = SegReg::Es;
            break;
        case ZYDIS_MNEMONIC_LFS:
            s = SegReg::Fs;
            break;
        case ZYDIS_MNEMONIC_LGS:
            s = SegReg::Gs;
            break;
        case ZYDIS_MNEMONIC_LSS:
            s = SegReg::Ss;
            break;
        default:
            break;
    }
    Place d = e.place(0);
    const auto seg = static_cast<SegReg>(m.mem.segment);
    const Value ea = e.effective_address(m.mem);
    const Value offset = e.load(seg, ea, d.bits);
    Value sel_at = e.ir.add(ea, ir::imm32(d.bits / 8));
    if (e.address_size() == 16) sel_at = e.ir.and_(sel_at, ir::imm32(0xFFFF));
    const Value selector = e.load(seg, sel_at, 16);
    e.load_segment(s, selector, false);
    e.write(d, offset);
    if (s == SegReg::Ss) e.end_block();  // the stack width may have changed
}

void cbw(Emitter& e) {  // CBW / CWDE: AX = sext(AL) or EAX = sext(AX)
    const unsigned half = e.operand_size() / 2;
    const Value v = e.ir.sign_extend_32(e.ir.get_gpr(half, 0));
    e.ir.set_gpr(e.operand_size(), 0, e.ir.truncate(v, e.operand_size()));
}

void cwd(Emitter& e) {  // CWD / CDQ: DX:AX or EDX:EAX = sext(AX or EAX)
    const unsigned bits = e.operand_size();
    const Value a = e.ir.get_gpr(bits, 0);
    const Value sign = e.ir.emit(ir::sized(Opcode::Sar8, bits), {a, ir::imm8(bits - 1)});
    e.ir.set_gpr(bits, 2, sign);
}

void cmovcc(Emitter& e) {
    const int cc = condition_of(static_cast<ZydisMnemonic>(e.insn.mnemonic));
    Place d = e.place(0);
    // The source is read whatever the condition (SDM Vol. 2A, CMOVcc).
    const Value src = e.read(1, d.bits);
    const Value old = e.read(d);
    e.write(d, e.ir.select(e.ir.cond(static_cast<unsigned>(cc)), src, old));
}

void setcc(Emitter& e) {
    const int cc = condition_of(static_cast<ZydisMnemonic>(e.insn.mnemonic));
    Place d = e.place(0);
    e.write(d, e.ir.select(e.ir.cond(static_cast<unsigned>(cc)), ir::imm8(1), ir::imm8(0)));
}

void xlat(Emitter& e) {
    // AL = [seg:(E)BX + AL] (SDM Vol. 2B, XLAT)
    Value offset = e.ir.add(e.ir.get_gpr(32, 3), e.ir.zero_extend_32(e.ir.get_gpr(8, 0)));
    if (e.address_size() == 16) offset = e.ir.and_(offset, ir::imm32(0xFFFF));
    const auto seg = static_cast<SegReg>(e.insn.data_segment());
    e.ir.set_gpr(8, 0, e.load(seg, offset, 8));
}

void lahf(Emitter& e) {
    // AH = SF:ZF:0:AF:0:PF:1:CF — the low byte of EFLAGS as kept.
    e.ir.set_gpr(8, 4, e.ir.truncate(e.ir.get_eflags(), 8));
}

void sahf(Emitter& e) {
    const Value ah = e.ir.zero_extend_32(e.ir.get_gpr(8, 4));
    e.ir.set_arith_flags(e.ir.emit(Opcode::FlagsFromU32, {ah}),
                         eflags::SF | eflags::ZF | eflags::AF | eflags::PF | eflags::CF);
}

void nop(Emitter&) {}

}  // namespace

int condition_of(ZydisMnemonic m) {
    switch (m) {
        case ZYDIS_MNEMONIC_JO:
        case ZYDIS_MNEMONIC_SETO:
        case ZYDIS_MNEMONIC_CMOVO:
            return 0;
        case ZYDIS_MNEMONIC_JNO:
        case ZYDIS_MNEMONIC_SETNO:
        case ZYDIS_MNEMONIC_CMOVNO:
            return 1;
        case ZYDIS_MNEMONIC_JB:
        case ZYDIS_MNEMONIC_SETB:
        case ZYDIS_MNEMONIC_CMOVB:
            return 2;
        case ZYDIS_MNEMONIC_JNB:
        case ZYDIS_MNEMONIC_SETNB:
        case ZYDIS_MNEMONIC_CMOVNB:
            return 3;
        case ZYDIS_MNEMONIC_JZ:
        case ZYDIS_MNEMONIC_SETZ:
        case ZYDIS_MNEMONIC_CMOVZ:
            return 4;
        case ZYDIS_MNEMONIC_JNZ:
        case ZYDIS_MNEMONIC_SETNZ:
        case ZYDIS_MNEMONIC_CMOVNZ:
            return 5;
        case ZYDIS_MNEMONIC_JBE:
        case ZYDIS_MNEMONIC_SETBE:
        case ZYDIS_MNEMONIC_CMOVBE:
            return 6;
        case ZYDIS_MNEMONIC_JNBE:
        case ZYDIS_MNEMONIC_SETNBE:
        case ZYDIS_MNEMONIC_CMOVNBE:
            return 7;
        case ZYDIS_MNEMONIC_JS:
        case ZYDIS_MNEMONIC_SETS:
        case ZYDIS_MNEMONIC_CMOVS:
            return 8;
        case ZYDIS_MNEMONIC_JNS:
        case ZYDIS_MNEMONIC_SETNS:
        case ZYDIS_MNEMONIC_CMOVNS:
            return 9;
        case ZYDIS_MNEMONIC_JP:
        case ZYDIS_MNEMONIC_SETP:
        case ZYDIS_MNEMONIC_CMOVP:
            return 10;
        case ZYDIS_MNEMONIC_JNP:
        case ZYDIS_MNEMONIC_SETNP:
        case ZYDIS_MNEMONIC_CMOVNP:
            return 11;
        case ZYDIS_MNEMONIC_JL:
        case ZYDIS_MNEMONIC_SETL:
        case ZYDIS_MNEMONIC_CMOVL:
            return 12;
        case ZYDIS_MNEMONIC_JNL:
        case ZYDIS_MNEMONIC_SETNL:
        case ZYDIS_MNEMONIC_CMOVNL:
            return 13;
        case ZYDIS_MNEMONIC_JLE:
        case ZYDIS_MNEMONIC_SETLE:
        case ZYDIS_MNEMONIC_CMOVLE:
            return 14;
        case ZYDIS_MNEMONIC_JNLE:
        case ZYDIS_MNEMONIC_SETNLE:
        case ZYDIS_MNEMONIC_CMOVNLE:
            return 15;
        default:
            return -1;
    }
}

void register_data(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_MOV, mov);
    t.add(ZYDIS_MNEMONIC_MOVZX, movzx);
    t.add(ZYDIS_MNEMONIC_MOVSX, movsx);
    t.add(ZYDIS_MNEMONIC_LEA, lea);
    for (auto m : {ZYDIS_MNEMONIC_LDS, ZYDIS_MNEMONIC_LES, ZYDIS_MNEMONIC_LFS, ZYDIS_MNEMONIC_LGS,
                   ZYDIS_MNEMONIC_LSS}) {
        t.add(m, load_far_pointer);
    }
    t.add(ZYDIS_MNEMONIC_CBW, cbw);
    t.add(ZYDIS_MNEMONIC_CWDE, cbw);
    t.add(ZYDIS_MNEMONIC_CWD, cwd);
    t.add(ZYDIS_MNEMONIC_CDQ, cwd);
    t.add(ZYDIS_MNEMONIC_XLAT, xlat);
    t.add(ZYDIS_MNEMONIC_LAHF, lahf);
    t.add(ZYDIS_MNEMONIC_SAHF, sahf);
    t.add(ZYDIS_MNEMONIC_NOP, nop);
    t.add(ZYDIS_MNEMONIC_PAUSE, nop);
    // Hint NOPs (0F 18-1F) that later processors gave meaning to.
    t.add(ZYDIS_MNEMONIC_ENDBR32, nop);
    t.add(ZYDIS_MNEMONIC_ENDBR64, nop);
    for (int m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; ++m) {
        const auto mn = static_cast<ZydisMnemonic>(m);
        if (condition_of(mn) < 0) continue;
        const char* name = ZydisMnemonicGetString(mn);
        if (name[0] == 's') t.add(mn, setcc);
        if (name[0] == 'c') t.add(mn, cmovcc);
    }
}

}  // namespace jitterbug::cpu::semantics
