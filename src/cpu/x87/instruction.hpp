// X87Instruction: how the semantics hand an x87 instruction to the runtime
// (one call of the x87 helper): what it does, on which register, with
// which memory operand. Packed into the helper's arguments.
#pragma once

#include <cstdint>

namespace jitterbug::cpu::x87 {

enum class Op : std::uint8_t {
    // ST(0) = ST(0) op source, or (to_sti) ST(i) = ST(i) op ST(0); then a pop.
    Add,
    Mul,
    Sub,
    SubR,
    Div,
    DivR,
    // Comparisons of ST(0) with the source: condition codes or (ComI)
    // EFLAGS; pops: one (P) or two (PP).
    Com,
    ComP,
    ComPP,
    UCom,
    UComP,
    UComPP,
    ComI,
    ComIP,
    UComI,
    UComIP,
    Tst,
    Xam,
    // Loads, stores and moves.
    Ld,       // push the source (memory or ST(i))
    St,       // ST(0) to memory or ST(i)
    StP,      // the same, then pop
    IstTP,    // FISTTP: toward zero, then pop
    LdConst,  // push constant number sti (FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ)
    Xch,
    Cmov,  // ST(0) = ST(i) when condition (form) holds
    Chs,
    Abs,
    Free,
    FreeP,
    IncStp,
    DecStp,
    Nop,
    // Arithmetic on ST(0) (and ST(1)).
    Sqrt,
    Rndint,
    Scale,
    Xtract,
    Prem,
    Prem1,
    F2xm1,
    Yl2x,
    Yl2xp1,
    Ptan,
    Patan,
    Sin,
    Cos,
    Sincos,
    // Control.
    Init,
    Clex,
    Ldcw,
    Stcw,
    Stsw,
    StswAx,
    Ldenv,
    Stenv,
    Save,
    Rstor,
    Fxsave,
    Fxrstor,
    Count
};

// The memory operand's format (Register: none).
enum class Form : std::uint8_t {
    Register,
    F32,
    F64,
    F80,
    I16,
    I32,
    I64,
    Bcd,
    Word,     // FLDCW, FSTCW, FSTSW
    Env16,    // FLDENV/FSTENV/FSAVE/FRSTOR with a 16-bit operand size
    Env32,    // ... with a 32-bit one
    FxState,  // FXSAVE/FXRSTOR's 512 bytes
};

struct X87Instruction {
    Op op = Op::Nop;
    unsigned sti = 0;     // the register operand ST(i), or the constant, or FCMOV's condition
    bool to_sti = false;  // arithmetic into ST(i) rather than ST(0)
    bool pop = false;     // FADDP and the like: a pop after arithmetic into ST(i)
    Form form = Form::Register;
    std::uint16_t fop = 0;  // the 11-bit opcode FSTENV reports
    unsigned segment = 3;   // the memory operand's SegReg

    std::uint32_t pack() const {
        return static_cast<std::uint32_t>(op) | (sti & 7) << 8 | (to_sti ? 1u : 0u) << 11 |
               static_cast<std::uint32_t>(form) << 12 | std::uint32_t{fop & 0x7FFu} << 16 |
               (pop ? 1u : 0u) << 27 | (segment & 7) << 28;
    }
    static X87Instruction unpack(std::uint32_t v) {
        return {static_cast<Op>(v & 0xFF),
                (v >> 8) & 7,
                ((v >> 11) & 1) != 0,
                ((v >> 27) & 1) != 0,
                static_cast<Form>((v >> 12) & 0xF),
                static_cast<std::uint16_t>((v >> 16) & 0x7FF),
                (v >> 28) & 7};
    }
};

}  // namespace jitterbug::cpu::x87
