// The portable backend: executes IR directly. A block is compiled into a
// flat program of steps over numbered value slots: slot i holds the result
// of instruction i, and the constants follow. Each program has its own
// slots, the constants written into them once when it is made (a CPU runs
// one block at a time, and never a block within itself). An ALU op
// computes its flags only when a GetFlagsFromOp reads them.
#include <cstring>
#include <vector>

#include "cpu/cpu_context.hpp"
#include "cpu/runtime.hpp"
#include "jit/backend/backend.hpp"
#include "jit/ir/eval.hpp"

namespace jitterbug::jit {
namespace {

using ir::Opcode;
using ir::Type;
using ir::Value;
namespace ev = ir::eval;
namespace rt = cpu::runtime;

using Slot = std::uint16_t;
constexpr Slot kNoSlot = 0xFFFF;
constexpr std::size_t kMaxSlots = 0xFFF0;

struct Step {
    Opcode op{};
    Slot dst = kNoSlot;
    Slot flags = kNoSlot;  // where an ALU op stores its flags, if they are read
    std::array<Slot, 3> src{kNoSlot, kNoSlot, kNoSlot};
    std::uint32_t ref = 0;  // the immediate-only argument (register, segment, cond, helper)
};

class InterpProgram final : public CompiledCode {
  public:
    // The values while it runs: results, then the constants in place.
    mutable std::vector<std::uint64_t> slots;
    std::vector<Step> steps;
    ir::Terminal terminal;
    Slot cond = kNoSlot;
};

bool is_reference_type(Type t) {
    return t == Type::GprRef || t == Type::SegRef || t == Type::CondRef || t == Type::HelperRef;
}

std::unique_ptr<InterpProgram> build_program(const ir::Block& block) {
    const auto& insts = block.insts();
    if (insts.size() >= kMaxSlots / 2) return nullptr;
    auto prog = std::make_unique<InterpProgram>();
    prog->slots.assign(insts.size(), 0);
    auto slot_of = [&](const Value& v) -> Slot {
        if (!v.is_immediate()) return static_cast<Slot>(v.inst());
        prog->slots.push_back(v.imm());
        return static_cast<Slot>(prog->slots.size() - 1);
    };
    // Step index of each instruction, to attach flags to their producer.
    std::vector<std::size_t> step_of(insts.size(), SIZE_MAX);
    for (std::size_t i = 0; i < insts.size(); ++i) {
        const ir::Inst& inst = insts[i];
        if (inst.op == Opcode::GetFlagsFromOp) {
            const std::size_t producer = step_of[inst.args[0].inst()];
            if (producer != SIZE_MAX) prog->steps[producer].flags = static_cast<Slot>(i);
            continue;
        }
        Step s;
        s.op = inst.op;
        s.dst = static_cast<Slot>(i);
        unsigned n = 0;
        for (unsigned a = 0; a < inst.num_args(); ++a) {
            const Value& v = inst.args[a];
            if (is_reference_type(v.type())) {
                s.ref = static_cast<std::uint32_t>(v.imm());
            } else {
                s.src[n++] = slot_of(v);
            }
        }
        step_of[i] = prog->steps.size();
        prog->steps.push_back(s);
    }
    prog->terminal = block.terminal();
    if (prog->terminal.kind == ir::Terminal::Kind::Branch)
        prog->cond = slot_of(prog->terminal.cond);
    if (prog->slots.size() >= kMaxSlots) return nullptr;
    return prog;
}

std::uint32_t get_gpr8(const cpu::CpuState& s, unsigned r8) {
    const std::uint32_t full = s.gpr[r8 & 3];
    return (r8 >= 4 ? full >> 8 : full) & 0xFF;
}

void set_gpr8(cpu::CpuState& s, unsigned r8, std::uint32_t v) {
    std::uint32_t& full = s.gpr[r8 & 3];
    const unsigned shift = r8 >= 4 ? 8 : 0;
    full = (full & ~(0xFFu << shift)) | ((v & 0xFF) << shift);
}

class InterpreterBackend final : public Backend {
  public:
    std::string_view name() const override { return "interp"; }

    bool compile(const ir::Block& block, TranslationBlock& tb) override {
        auto prog = build_program(block);
        if (!prog) return false;
        tb.code = std::move(prog);
        return true;
    }

    void flush() override {}

    BlockExit execute(cpu::CpuContext& ctx, const TranslationBlock& tb) override {
        const auto& prog = static_cast<const InterpProgram&>(*tb.code);
        return run(ctx, prog, prog.slots.data());
    }

  private:
    static BlockExit run(cpu::CpuContext& ctx, const InterpProgram& prog, std::uint64_t* v);
};

// Stores an ALU result and, when they are read, its flags.
#define ALU_OUT(expr)                                   \
    do {                                                \
        const auto o = (expr);                          \
        v[s->dst] = o.value;                            \
        if (s->flags != kNoSlot) v[s->flags] = o.flags; \
    } while (0)

#define SIZED(Name, fn)                     \
    L_##Name##8 : ALU_OUT((fn<8>)(A, B));   \
    NEXT;                                   \
    L_##Name##16 : ALU_OUT((fn<16>)(A, B)); \
    NEXT;                                   \
    L_##Name##32 : ALU_OUT((fn<32>)(A, B)); \
    NEXT;

#define SIZED_UNARY(Name, fn)            \
    L_##Name##8 : ALU_OUT((fn<8>)(A));   \
    NEXT;                                \
    L_##Name##16 : ALU_OUT((fn<16>)(A)); \
    NEXT;                                \
    L_##Name##32 : ALU_OUT((fn<32>)(A)); \
    NEXT;

template <unsigned Bits>
ev::Out add2(std::uint32_t a, std::uint32_t b) {
    return ev::add<Bits>(a, b, 0);
}
template <unsigned Bits>
ev::Out sub2(std::uint32_t a, std::uint32_t b) {
    return ev::sub<Bits>(a, b, 0);
}
template <unsigned Bits>
ev::Out and2(std::uint32_t a, std::uint32_t b) {
    return ev::logic<Bits>(a & b);
}
template <unsigned Bits>
ev::Out or2(std::uint32_t a, std::uint32_t b) {
    return ev::logic<Bits>(a | b);
}
template <unsigned Bits>
ev::Out xor2(std::uint32_t a, std::uint32_t b) {
    return ev::logic<Bits>(a ^ b);
}
template <unsigned Bits>
ev::Out not1(std::uint32_t a) {
    return {~a & ev::kMask<Bits>, 0};
}

// Shifts and rotates: a masked count of 0 leaves the value and produces no
// flags; the flags slot (if read) then holds 0 and the semantics select the
// old flags instead.
template <unsigned Bits, ev::Out (*Fn)(std::uint32_t, unsigned)>
ev::Out shift(std::uint32_t a, std::uint32_t count) {
    const unsigned c = count & 31;
    if (c == 0) return {a & ev::kMask<Bits>, 0};
    return Fn(a, c);
}
template <unsigned Bits, ev::Out (*Fn)(std::uint32_t, unsigned, bool)>
ev::Out rotate_carry(std::uint32_t a, std::uint32_t count, std::uint32_t carry) {
    const unsigned c = count & 31;
    if (c == 0) return {a & ev::kMask<Bits>, 0};
    return Fn(a, c, (carry & 1) != 0);
}
template <unsigned Bits, ev::Out (*Fn)(std::uint32_t, std::uint32_t, unsigned)>
ev::Out shift3(std::uint32_t a, std::uint32_t b, std::uint32_t count) {
    const unsigned c = count & 31;
    if (c == 0) return {a & ev::kMask<Bits>, 0};
    return Fn(a, b, c);
}
template <unsigned Bits>
ev::Out shl2(std::uint32_t a, std::uint32_t c) {
    return shift<Bits, ev::shl<Bits>>(a, c);
}
template <unsigned Bits>
ev::Out shr2(std::uint32_t a, std::uint32_t c) {
    return shift<Bits, ev::shr<Bits>>(a, c);
}
template <unsigned Bits>
ev::Out sar2(std::uint32_t a, std::uint32_t c) {
    return shift<Bits, ev::sar<Bits>>(a, c);
}
template <unsigned Bits>
ev::Out rol2(std::uint32_t a, std::uint32_t c) {
    return shift<Bits, ev::rol<Bits>>(a, c);
}
template <unsigned Bits>
ev::Out ror2(std::uint32_t a, std::uint32_t c) {
    return shift<Bits, ev::ror<Bits>>(a, c);
}

BlockExit InterpreterBackend::run(cpu::CpuContext& ctx, const InterpProgram& prog,
                                  std::uint64_t* v) {
    cpu::CpuState& st = ctx.state;
    std::uint32_t insn_eip = st.eip;
    std::uint32_t started = 0;  // BeginInstruction markers passed
    const Step* s = prog.steps.data();
    const Step* const end = s + prog.steps.size();

    // Threaded code (labels as values: GCC and Clang, on every host we
    // build for): each step's handler jumps straight to the next one's, an
    // indirect jump per handler predicting far better than one shared by a
    // switch (13% of the time of Linux's boot on the interpreter).
    static const void* const kHandlers[] = {
#define OPCODE(name, ...) &&L_##name,
#include "jit/ir/opcodes.inc"
#undef OPCODE
    };
#define NEXT                                              \
    do {                                                  \
        if (++s == end) goto done;                        \
        goto* kHandlers[static_cast<std::size_t>(s->op)]; \
    } while (0)
#define DISPATCH_FIRST()     \
    if (s == end) goto done; \
    goto* kHandlers[static_cast<std::size_t>(s->op)];

#define A static_cast<std::uint32_t>(v[s->src[0]])
#define B static_cast<std::uint32_t>(v[s->src[1]])
#define C static_cast<std::uint32_t>(v[s->src[2]])
    DISPATCH_FIRST() {
    L_BeginInstruction:
        insn_eip = A;
        ++started;
        NEXT;
    L_ExitIf:
        if (A & 1) {
            st.eip = B;
            ctx.instructions += started;
            return {ExitReason::Next};
        }
        NEXT;

    L_GetGpr8:
        v[s->dst] = get_gpr8(st, s->ref);
        NEXT;
    L_GetGpr16:
        v[s->dst] = st.gpr[s->ref] & 0xFFFF;
        NEXT;
    L_GetGpr32:
        v[s->dst] = st.gpr[s->ref];
        NEXT;
    L_SetGpr8:
        set_gpr8(st, s->ref, A);
        NEXT;
    L_SetGpr16:
        st.gpr[s->ref] = (st.gpr[s->ref] & 0xFFFF0000u) | (A & 0xFFFF);
        NEXT;
    L_SetGpr32:
        st.gpr[s->ref] = A;
        NEXT;
    L_GetSegSelector:
        v[s->dst] = st.seg[s->ref].selector;
        NEXT;
    L_GetSegBase:
        v[s->dst] = st.seg[s->ref].base;
        NEXT;
    L_SetSegReal:
        st.seg[s->ref].selector = static_cast<std::uint16_t>(A);
        st.seg[s->ref].base = (A & 0xFFFF) << 4;
        NEXT;
    L_SetEip:
        st.eip = A;
        NEXT;

    L_GetEflags:
        v[s->dst] = st.eflags();
        NEXT;
    L_SetEflags:
        st.set_eflags(A);
        NEXT;
    L_GetArithFlags:
        v[s->dst] = st.flags_status & cpu::eflags::kArithmetic;
        NEXT;
    L_SetArithFlags:
        st.flags_status = (st.flags_status & ~B) | (A & B);
        NEXT;
    L_GetFlagsFromOp:
        NEXT;  // folded into the producer
    L_FlagsFromU32:
        v[s->dst] = A & cpu::eflags::kArithmetic;
        NEXT;
    L_FlagsToU32:
        v[s->dst] = A;
        NEXT;
    L_TestCond:
        v[s->dst] = ev::test_cond(s->ref, A);
        NEXT;

        SIZED(Add, add2)
        SIZED(Sub, sub2)
        SIZED(And, and2)
        SIZED(Or, or2)
        SIZED(Xor, xor2)
    L_Adc8:
        ALU_OUT(ev::add<8>(A, B, C & 1));
        NEXT;
    L_Adc16:
        ALU_OUT(ev::add<16>(A, B, C & 1));
        NEXT;
    L_Adc32:
        ALU_OUT(ev::add<32>(A, B, C & 1));
        NEXT;
    L_Sbb8:
        ALU_OUT(ev::sub<8>(A, B, C & 1));
        NEXT;
    L_Sbb16:
        ALU_OUT(ev::sub<16>(A, B, C & 1));
        NEXT;
    L_Sbb32:
        ALU_OUT(ev::sub<32>(A, B, C & 1));
        NEXT;
        SIZED_UNARY(Inc, ev::inc)
        SIZED_UNARY(Dec, ev::dec)
        SIZED_UNARY(Neg, ev::neg)
        SIZED_UNARY(Not, not1)
        SIZED(Shl, shl2)
        SIZED(Shr, shr2)
        SIZED(Sar, sar2)
        SIZED(Rol, rol2)
        SIZED(Ror, ror2)
    L_Rcl8:
        ALU_OUT((rotate_carry<8, ev::rcl<8>>(A, B, C)));
        NEXT;
    L_Rcl16:
        ALU_OUT((rotate_carry<16, ev::rcl<16>>(A, B, C)));
        NEXT;
    L_Rcl32:
        ALU_OUT((rotate_carry<32, ev::rcl<32>>(A, B, C)));
        NEXT;
    L_Rcr8:
        ALU_OUT((rotate_carry<8, ev::rcr<8>>(A, B, C)));
        NEXT;
    L_Rcr16:
        ALU_OUT((rotate_carry<16, ev::rcr<16>>(A, B, C)));
        NEXT;
    L_Rcr32:
        ALU_OUT((rotate_carry<32, ev::rcr<32>>(A, B, C)));
        NEXT;
    L_Shld16:
        ALU_OUT((shift3<16, ev::shld<16>>(A, B, C)));
        NEXT;
    L_Shld32:
        ALU_OUT((shift3<32, ev::shld<32>>(A, B, C)));
        NEXT;
    L_Shrd16:
        ALU_OUT((shift3<16, ev::shrd<16>>(A, B, C)));
        NEXT;
    L_Shrd32:
        ALU_OUT((shift3<32, ev::shrd<32>>(A, B, C)));
        NEXT;
    L_Bsf16:
        ALU_OUT(ev::bsf<16>(A, B));
        NEXT;
    L_Bsf32:
        ALU_OUT(ev::bsf<32>(A, B));
        NEXT;
    L_Bsr16:
        ALU_OUT(ev::bsr<16>(A, B));
        NEXT;
    L_Bsr32:
        ALU_OUT(ev::bsr<32>(A, B));
        NEXT;
    L_Bswap32:
        v[s->dst] = __builtin_bswap32(A);
        NEXT;
        SIZED(Mul, ev::mul)
        SIZED(Imul, ev::imul)

    L_ZeroExtend8To16:
    L_ZeroExtend8To32:
    L_ZeroExtend16To32:
    L_ZeroExtend32To64:
        v[s->dst] = v[s->src[0]];
        NEXT;
    L_SignExtend8To16:
        v[s->dst] = static_cast<std::uint16_t>(static_cast<std::int8_t>(A));
        NEXT;
    L_SignExtend8To32:
        v[s->dst] = static_cast<std::uint32_t>(static_cast<std::int8_t>(A));
        NEXT;
    L_SignExtend16To32:
        v[s->dst] = static_cast<std::uint32_t>(static_cast<std::int16_t>(A));
        NEXT;
    L_Truncate16To8:
    L_Truncate32To8:
        v[s->dst] = A & 0xFF;
        NEXT;
    L_Truncate32To16:
        v[s->dst] = A & 0xFFFF;
        NEXT;
    L_Truncate64To32:
        v[s->dst] = A;
        NEXT;
    L_High32Of64:
        v[s->dst] = v[s->src[0]] >> 32;
        NEXT;
    L_Pack32To64:
        v[s->dst] = std::uint64_t{A} | (std::uint64_t{B} << 32);
        NEXT;

    L_IsZero8:
    L_IsZero16:
    L_IsZero32:
        v[s->dst] = A == 0;
        NEXT;
    L_LogicalNot1:
        v[s->dst] = !(A & 1);
        NEXT;
    L_LogicalAnd1:
        v[s->dst] = (A & B) & 1;
        NEXT;
    L_LogicalOr1:
        v[s->dst] = (A | B) & 1;
        NEXT;
    L_Select8:
    L_Select16:
    L_Select32:
    L_SelectFlags:
        v[s->dst] = (A & 1) ? v[s->src[1]] : v[s->src[2]];
        NEXT;

    L_CheckSegment:
        rt::check_segment(ctx, s->ref, A, B);
        if (ctx.abort_instruction) goto abort;
        NEXT;
    L_ReadMem8:
    L_ReadMem16:
    L_ReadMem32 : {
        const unsigned size =
            1u << (static_cast<unsigned>(s->op) - static_cast<unsigned>(Opcode::ReadMem8));
        v[s->dst] = rt::read(ctx, A, size);
        if (ctx.abort_instruction) goto abort;
        NEXT;
    }
    L_WriteMem8:
    L_WriteMem16:
    L_WriteMem32 : {
        const unsigned size =
            1u << (static_cast<unsigned>(s->op) - static_cast<unsigned>(Opcode::WriteMem8));
        rt::write(ctx, A, size, B);
        if (ctx.abort_instruction) goto abort;
        NEXT;
    }
    L_CallHelper:
        v[s->dst] = rt::helpers()[s->ref](ctx, A, B, C);
        if (ctx.abort_instruction) goto abort;
        NEXT;
    }
#undef A
#undef B
#undef C
done :

{
    const ir::Terminal& t = prog.terminal;
    ctx.instructions += started;
    switch (t.kind) {
        case ir::Terminal::Kind::Link:
            st.eip = t.target;
            return {ExitReason::Next};
        case ir::Terminal::Kind::Branch:
            st.eip = (v[prog.cond] & 1) ? t.target : t.fallthrough;
            return {ExitReason::Next};
        case ir::Terminal::Kind::Dispatch:
            return {ExitReason::Next};
        case ir::Terminal::Kind::Halt:
            st.eip = t.target;
            return {ExitReason::Halt};
        case ir::Terminal::Kind::Raise:
            st.eip = t.target;
            rt::raise(ctx, t.event);
            // Faults do not retire their instruction; traps and INT n do.
            if (t.event.kind == cpu::EventKind::Fault && started > 0) --ctx.instructions;
            return {ExitReason::Abort};
        case ir::Terminal::Kind::None:
            break;
    }
    return {ExitReason::Next};
}

abort:
    st.eip = insn_eip;
    ctx.instructions += started == 0 ? 0 : started - 1;
    return {ExitReason::Abort};
}

#undef NEXT
#undef DISPATCH_FIRST
#undef SIZED
#undef SIZED_UNARY
#undef ALU_OUT

}  // namespace

std::unique_ptr<Backend> make_interpreter_backend() {
    return std::make_unique<InterpreterBackend>();
}

}  // namespace jitterbug::jit
