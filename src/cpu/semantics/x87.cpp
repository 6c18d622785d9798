// The x87 escape opcodes D8-DF and FXSAVE/FXRSTOR: decoded here (by
// opcode, ModR/M reg and, for register forms, rm: SDM Vol. 2, Appendix
// A.4) into an X87Instruction, which one call of the x87 helper carries
// out (src/cpu/x87/unit.cpp): the x87 is too irregular for IR.
#include "cpu/semantics/common.hpp"
#include "cpu/x87/instruction.hpp"

namespace jitterbug::cpu::semantics {

using x87::Form;
using x87::Op;
using x87::X87Instruction;

namespace {

// D8/DC, DA/DE memory forms and D8's register forms share this order.
constexpr Op kArithmetic[8] = {Op::Add, Op::Mul,  Op::Com, Op::ComP,
                               Op::Sub, Op::SubR, Op::Div, Op::DivR};

bool memory_form(unsigned opcode, unsigned reg, unsigned operand_size, X87Instruction& x) {
    const Form env = operand_size == 16 ? Form::Env16 : Form::Env32;
    switch (opcode) {
        case 0xD8:
        case 0xDC:
            x.op = kArithmetic[reg];
            x.form = opcode == 0xD8 ? Form::F32 : Form::F64;
            return true;
        case 0xDA:
        case 0xDE:
            x.op = kArithmetic[reg];
            x.form = opcode == 0xDA ? Form::I32 : Form::I16;
            return true;
        case 0xD9: {
            static constexpr Op kOps[8] = {Op::Ld,    Op::Nop,  Op::St,    Op::StP,
                                           Op::Ldenv, Op::Ldcw, Op::Stenv, Op::Stcw};
            if (reg == 1) return false;
            x.op = kOps[reg];
            x.form = reg < 4 ? Form::F32 : (reg == 5 || reg == 7) ? Form::Word : env;
            return true;
        }
        case 0xDB: {
            static constexpr Op kOps[8] = {Op::Ld,  Op::IstTP, Op::St,  Op::StP,
                                           Op::Nop, Op::Ld,    Op::Nop, Op::StP};
            if (reg == 4 || reg == 6) return false;
            x.op = kOps[reg];
            x.form = reg < 4 ? Form::I32 : Form::F80;
            return true;
        }
        case 0xDD: {
            static constexpr Op kOps[8] = {Op::Ld,    Op::IstTP, Op::St,   Op::StP,
                                           Op::Rstor, Op::Nop,   Op::Save, Op::Stsw};
            if (reg == 5) return false;
            x.op = kOps[reg];
            x.form = reg < 4 ? (reg == 1 ? Form::I64 : Form::F64) : reg == 7 ? Form::Word : env;
            return true;
        }
        default: {  // DF
            static constexpr Op kOps[8] = {Op::Ld, Op::IstTP, Op::St,  Op::StP,
                                           Op::Ld, Op::Ld,    Op::StP, Op::StP};
            static constexpr Form kForms[8] = {Form::I16, Form::I16, Form::I16, Form::I16,
                                               Form::Bcd, Form::I64, Form::Bcd, Form::I64};
            x.op = kOps[reg];
            x.form = kForms[reg];
            return true;
        }
    }
}

bool register_form(unsigned opcode, unsigned reg, unsigned rm, X87Instruction& x) {
    x.sti = rm;
    switch (opcode) {
        case 0xD8:
            x.op = kArithmetic[reg];
            return true;
        case 0xDC:
        case 0xDE: {
            // Into ST(i): DC E0+i is FSUBR ST(i), ST(0) (ST(0) - ST(i)), E8+i
            // FSUB; F0+i FDIVR, F8+i FDIV (SDM Vol. 2, FSUB and FDIV).
            static constexpr Op kOps[8] = {Op::Add,  Op::Mul, Op::Com,  Op::ComP,
                                           Op::SubR, Op::Sub, Op::DivR, Op::Div};
            if (opcode == 0xDE && reg == 3) {
                if (rm != 1) return false;
                x.op = Op::ComPP;  // DE D9
                return true;
            }
            x.op = kOps[reg];
            x.to_sti = reg != 2 && reg != 3;
            x.pop = opcode == 0xDE && x.to_sti;  // FADDP and the like
            return true;
        }
        case 0xD9:
            switch (reg) {
                case 0:
                    x.op = Op::Ld;
                    return true;
                case 1:
                    x.op = Op::Xch;
                    return true;
                case 2:
                    x.op = Op::Nop;
                    return rm == 0;
                case 3:
                    x.op = Op::StP;  // (D9 D8+i: an alias of FSTP ST(i))
                    return true;
                case 4: {
                    static constexpr Op kOps[8] = {Op::Chs, Op::Abs, Op::Nop, Op::Nop,
                                                   Op::Tst, Op::Xam, Op::Nop, Op::Nop};
                    x.op = kOps[rm];
                    return rm != 2 && rm != 3 && rm != 6 && rm != 7;
                }
                case 5:
                    x.op = Op::LdConst;
                    return rm != 7;
                case 6: {
                    static constexpr Op kOps[8] = {Op::F2xm1,  Op::Yl2x,  Op::Ptan,   Op::Patan,
                                                   Op::Xtract, Op::Prem1, Op::DecStp, Op::IncStp};
                    x.op = kOps[rm];
                    return true;
                }
                default: {
                    static constexpr Op kOps[8] = {Op::Prem,   Op::Yl2xp1, Op::Sqrt, Op::Sincos,
                                                   Op::Rndint, Op::Scale,  Op::Sin,  Op::Cos};
                    x.op = kOps[rm];
                    return true;
                }
            }
        case 0xDA:
            if (reg < 4) {
                x.op = Op::Cmov;
                x.form = static_cast<Form>(reg);  // B, E, BE, U
                return true;
            }
            x.op = Op::UComPP;
            return reg == 5 && rm == 1;
        case 0xDB:
            if (reg < 4) {
                x.op = Op::Cmov;
                x.form = static_cast<Form>(reg + 4);  // NB, NE, NBE, NU
                return true;
            }
            if (reg == 4) {
                // FENI, FDISI and FSETPM do nothing on a 387 or later.
                static constexpr Op kOps[8] = {Op::Nop, Op::Nop, Op::Clex, Op::Init,
                                               Op::Nop, Op::Nop, Op::Nop,  Op::Nop};
                x.op = kOps[rm];
                return rm <= 4;
            }
            if (reg == 5 || reg == 6) {
                x.op = reg == 5 ? Op::UComI : Op::ComI;
                return true;
            }
            return false;
        case 0xDD: {
            static constexpr Op kOps[8] = {Op::Free, Op::Xch,   Op::St,  Op::StP,
                                           Op::UCom, Op::UComP, Op::Nop, Op::Nop};
            x.op = kOps[reg];
            return reg < 6;
        }
        default:  // DF
            switch (reg) {
                case 0:
                    x.op = Op::FreeP;
                    return true;
                case 1:
                    x.op = Op::Xch;
                    return true;
                case 2:
                case 3:
                    x.op = Op::StP;
                    return true;
                case 4:
                    x.op = Op::StswAx;
                    return rm == 0;
                case 5:
                    x.op = Op::UComIP;
                    return true;
                case 6:
                    x.op = Op::ComIP;
                    return true;
                default:
                    return false;
            }
    }
}

const Operand* memory_operand_of(const Instruction& insn) {
    for (unsigned i = 0; i < insn.operand_count; ++i) {
        if (insn.op(i).kind == OperandKind::Memory) return &insn.op(i);
    }
    return nullptr;
}

// (The helper gets the instruction's EIP for FIP: translated code keeps
// EIP in the context only at block boundaries.)
void call_x87(Emitter& e, X87Instruction x, bool memory) {
    if (!memory) {
        e.ir.call(HelperId::x87, ir::imm32(x.pack()), ir::imm32(0), ir::imm32(e.eip()));
        return;
    }
    const Operand* m = memory_operand_of(e.insn);
    if (!m) {
        e.raise(vector::UD);
        return;
    }
    x.segment = m->mem.segment;
    const Value offset = e.effective_address(m->mem);
    e.ir.call(HelperId::x87, ir::imm32(x.pack()), offset, ir::imm32(e.eip()));
}

void fxsave(Emitter& e, Op op) {
    X87Instruction x;
    x.op = op;
    x.form = Form::FxState;
    call_x87(e, x, true);
}

}  // namespace

void x87_escape(Emitter& e) {
    const Instruction& in = e.insn;
    const unsigned opcode = in.opcode;
    X87Instruction x;
    const bool reg = in.modrm_mod == 3;
    const bool valid = reg ? register_form(opcode, in.modrm_reg, in.modrm_rm, x)
                           : memory_form(opcode, in.modrm_reg, e.operand_size(), x);
    if (!valid) {
        e.raise(vector::UD);
        return;
    }
    x.fop = static_cast<std::uint16_t>((opcode & 7) << 8 | in.modrm_mod << 6 | in.modrm_reg << 3 |
                                       in.modrm_rm);
    call_x87(e, x, !reg);
}

void register_x87(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_FXSAVE, [](Emitter& e) { fxsave(e, Op::Fxsave); });
    t.add(ZYDIS_MNEMONIC_FXRSTOR, [](Emitter& e) { fxsave(e, Op::Fxrstor); });
}

}  // namespace jitterbug::cpu::semantics
