// Forwarding and constant folding, in one sweep: reads of guest state the
// block already knows become the known value; pure operations whose inputs
// are all constants become constants (their flags too).
#include <array>
#include <optional>

#include "cpu/helper_id.hpp"
#include "jit/ir/eval.hpp"
#include "jit/passes/compact.hpp"
#include "jit/passes/passes.hpp"

namespace jitterbug::jit {
namespace {

using ir::Opcode;
using ir::Type;
using ir::Value;
namespace ev = ir::eval;

struct Folded {
    std::uint64_t value;
    std::optional<std::uint32_t> flags;  // the op's status flags, when it has them
};

Folded from(ev::Out o) { return {o.value, o.flags}; }

// The value (and flags) of a pure operation on constants, when we know how.
std::optional<Folded> fold(const ir::Inst& inst) {
    const auto a = static_cast<std::uint32_t>(inst.args[0].imm());
    const auto b = static_cast<std::uint32_t>(inst.args[1].imm());
    const auto c = static_cast<std::uint32_t>(inst.args[2].imm());
    switch (inst.op) {
#define SIZED(Name, expr8, expr16, expr32) \
    case Opcode::Name##8:                  \
        return from(expr8);                \
    case Opcode::Name##16:                 \
        return from(expr16);               \
    case Opcode::Name##32:                 \
        return from(expr32);
        SIZED(Add, ev::add<8>(a, b, 0), ev::add<16>(a, b, 0), ev::add<32>(a, b, 0))
        SIZED(Sub, ev::sub<8>(a, b, 0), ev::sub<16>(a, b, 0), ev::sub<32>(a, b, 0))
        SIZED(Adc, ev::add<8>(a, b, c & 1), ev::add<16>(a, b, c & 1), ev::add<32>(a, b, c & 1))
        SIZED(Sbb, ev::sub<8>(a, b, c & 1), ev::sub<16>(a, b, c & 1), ev::sub<32>(a, b, c & 1))
        SIZED(And, ev::logic<8>(a & b), ev::logic<16>(a & b), ev::logic<32>(a & b))
        SIZED(Or, ev::logic<8>(a | b), ev::logic<16>(a | b), ev::logic<32>(a | b))
        SIZED(Xor, ev::logic<8>(a ^ b), ev::logic<16>(a ^ b), ev::logic<32>(a ^ b))
        SIZED(Inc, ev::inc<8>(a), ev::inc<16>(a), ev::inc<32>(a))
        SIZED(Dec, ev::dec<8>(a), ev::dec<16>(a), ev::dec<32>(a))
#undef SIZED
        case Opcode::Shl32:
            if ((b & 31) == 0) return Folded{a, std::nullopt};
            return from(ev::shl<32>(a, b & 31));
        case Opcode::Shr32:
            if ((b & 31) == 0) return Folded{a, std::nullopt};
            return from(ev::shr<32>(a, b & 31));
        case Opcode::Not8:
            return Folded{~a & 0xFFu, std::nullopt};
        case Opcode::Not16:
            return Folded{~a & 0xFFFFu, std::nullopt};
        case Opcode::Not32:
            return Folded{~a, std::nullopt};
        case Opcode::ZeroExtend8To16:
        case Opcode::ZeroExtend8To32:
        case Opcode::ZeroExtend16To32:
        case Opcode::ZeroExtend32To64:
            return Folded{inst.args[0].imm(), std::nullopt};
        case Opcode::SignExtend8To16:
            return Folded{static_cast<std::uint16_t>(static_cast<std::int8_t>(a)), std::nullopt};
        case Opcode::SignExtend8To32:
            return Folded{static_cast<std::uint32_t>(static_cast<std::int8_t>(a)), std::nullopt};
        case Opcode::SignExtend16To32:
            return Folded{static_cast<std::uint32_t>(static_cast<std::int16_t>(a)), std::nullopt};
        case Opcode::Truncate16To8:
        case Opcode::Truncate32To8:
            return Folded{a & 0xFFu, std::nullopt};
        case Opcode::Truncate32To16:
            return Folded{a & 0xFFFFu, std::nullopt};
        case Opcode::Truncate64To32:
            return Folded{a, std::nullopt};
        case Opcode::High32Of64:
            return Folded{inst.args[0].imm() >> 32, std::nullopt};
        case Opcode::IsZero8:
        case Opcode::IsZero16:
        case Opcode::IsZero32:
            return Folded{a == 0 ? 1u : 0u, std::nullopt};
        case Opcode::LogicalNot1:
            return Folded{(a & 1) ^ 1u, std::nullopt};
        case Opcode::LogicalAnd1:
            return Folded{a & b & 1, std::nullopt};
        case Opcode::LogicalOr1:
            return Folded{(a | b) & 1, std::nullopt};
        case Opcode::Select8:
        case Opcode::Select16:
        case Opcode::Select32:
        case Opcode::SelectFlags:
            return Folded{(a & 1) ? inst.args[1].imm() : inst.args[2].imm(), std::nullopt};
        case Opcode::FlagsFromU32:
        case Opcode::FlagsToU32:
            return Folded{a & cpu::eflags::kArithmetic, std::nullopt};
        default:
            return std::nullopt;
    }
}

bool all_constant(const ir::Inst& inst) {
    const ir::OpcodeInfo& oi = ir::info(inst.op);
    for (unsigned k = 0; k < oi.num_args; ++k) {
        const Type t = oi.args[k];
        if (t == Type::GprRef || t == Type::SegRef || t == Type::CondRef || t == Type::HelperRef)
            continue;
        if (!inst.args[k].is_immediate()) return false;
    }
    return true;
}

// x op identity -> x, when the op's flags are not wanted.
std::optional<Value> identity(const ir::Inst& inst) {
    const Value& x = inst.args[0];
    const Value& y = inst.args[1];
    auto imm_is = [](const Value& v, std::uint64_t k) { return v.is_immediate() && v.imm() == k; };
    switch (inst.op) {
        case Opcode::Add32:
        case Opcode::Or32:
        case Opcode::Xor32:
            if (imm_is(y, 0)) return x;
            if (imm_is(x, 0)) return y;
            return std::nullopt;
        case Opcode::Sub32:
        case Opcode::Shl32:
        case Opcode::Shr32:
        case Opcode::Sar32:
            if (imm_is(y, 0)) return x;
            return std::nullopt;
        case Opcode::And32:
            if (imm_is(y, 0xFFFFFFFF)) return x;
            if (imm_is(x, 0xFFFFFFFF)) return y;
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

}  // namespace

namespace {
// The status flags condition code `cc` reads.
std::uint32_t condition_flags(unsigned cc) {
    using namespace cpu::eflags;
    switch (cc >> 1) {
        case 0:
            return OF;
        case 1:
            return CF;
        case 2:
            return ZF;
        case 3:
            return CF | ZF;
        case 4:
            return SF;
        case 5:
            return PF;
        case 6:
            return SF | OF;
        default:
            return ZF | SF | OF;
    }
}
}  // namespace

void forward_and_fold(ir::Block& block) {
    auto& insts = block.insts();
    const std::size_t n = insts.size();
    std::vector<Value> replacement(n);
    std::vector<std::optional<std::uint32_t>> folded_flags(n);
    std::vector<bool> flags_read(n, false);  // an ALU op whose flags a GetFlagsFromOp reads
    for (const ir::Inst& inst : insts) {
        if (inst.op == Opcode::GetFlagsFromOp) flags_read[inst.args[0].inst()] = true;
    }

    // What the block knows of guest state: the full 32-bit registers, the
    // segment bases and the status flags.
    std::array<Value, 8> gpr{};
    std::array<Value, 6> seg_base{};
    Value status;
    // The last partial write of the status flags since `status` was lost:
    // a condition on only the flags it wrote can read its value instead.
    Value partial;
    std::uint32_t partial_mask = 0;
    // GetArithFlags results read after that partial write (and the write).
    std::vector<Value> partial_at(n);
    std::vector<std::uint32_t> partial_mask_at(n, 0);
    auto forget = [&] {
        gpr.fill(Value{});
        seg_base.fill(Value{});
        status = Value{};
        partial = Value{};
    };
    auto rewrite = [&](Value& v) {
        if (!v.empty() && !v.is_immediate() && !replacement[v.inst()].empty())
            v = replacement[v.inst()];
    };

    for (std::size_t i = 0; i < n; ++i) {
        ir::Inst& inst = insts[i];
        // GetFlagsFromOp names its producer, not a value: it stays.
        if (inst.op != Opcode::GetFlagsFromOp) {
            for (unsigned a = 0; a < inst.num_args(); ++a)
                rewrite(inst.args[a]);
        }
        const auto ref = static_cast<unsigned>(inst.args[0].imm());
        const auto self = [&](Type t) { return Value::result_of(t, static_cast<ir::InstRef>(i)); };
        if (inst.op == Opcode::TestCond) {
            // A condition on flags a partial write (INC, DEC, ...) just wrote
            // reads that write's value (then often the host's flags).
            const Value& f = inst.args[1];
            if (!f.is_immediate() && insts[f.inst()].op == Opcode::GetArithFlags &&
                !partial_at[f.inst()].empty() &&
                (condition_flags(ref) & ~partial_mask_at[f.inst()]) == 0) {
                inst.args[1] = partial_at[f.inst()];
            }
        }
        switch (inst.op) {
            case Opcode::GetGpr32:
                if (!gpr[ref].empty()) {
                    replacement[i] = gpr[ref];
                } else {
                    gpr[ref] = self(Type::U32);
                }
                break;
            case Opcode::GetGpr16:
                if (!gpr[ref].empty()) {  // the low half of a known register
                    inst.op = Opcode::Truncate32To16;
                    inst.args[0] = gpr[ref];
                    if (gpr[ref].is_immediate()) replacement[i] = ir::imm16(gpr[ref].imm());
                }
                break;
            case Opcode::GetGpr8:
                if (ref < 4 && !gpr[ref].empty()) {
                    inst.op = Opcode::Truncate32To8;
                    inst.args[0] = gpr[ref];
                    if (gpr[ref].is_immediate()) replacement[i] = ir::imm8(gpr[ref].imm());
                }
                break;
            case Opcode::SetGpr32:
                gpr[ref] = inst.args[1];
                break;
            case Opcode::SetGpr16:
                gpr[ref] = Value{};
                break;
            case Opcode::SetGpr8:
                gpr[ref & 3] = Value{};
                break;
            case Opcode::GetSegBase:
                if (!seg_base[ref].empty()) {
                    replacement[i] = seg_base[ref];
                } else {
                    seg_base[ref] = self(Type::U32);
                }
                break;
            case Opcode::SetSegReal:
                seg_base[ref] = Value{};
                break;
            case Opcode::GetArithFlags:
                if (!status.empty()) {
                    replacement[i] = status;
                } else {
                    status = self(Type::Flags);
                    partial_at[i] = partial;
                    partial_mask_at[i] = partial_mask;
                }
                break;
            case Opcode::SetArithFlags:
                if (inst.args[1].imm() == cpu::eflags::kArithmetic) {
                    status = inst.args[0];
                    partial = Value{};
                } else {
                    status = Value{};
                    partial = inst.args[0];
                    partial_mask = static_cast<std::uint32_t>(inst.args[1].imm());
                }
                break;
            case Opcode::SetEflags:
                status = Value{};
                partial = Value{};
                break;

            case Opcode::CallHelper:
                if (cpu::kHelperInfo[ref].props & cpu::helper_props::kWritesState) forget();
                break;
            case Opcode::GetFlagsFromOp: {
                const ir::InstRef producer = inst.args[0].inst();
                if (folded_flags[producer])
                    replacement[i] = Value::immediate(Type::Flags, *folded_flags[producer]);
                break;
            }
            default:
                if (ir::has_side_effects(inst.op)) break;
                if (all_constant(inst)) {
                    if (const std::optional<Folded> f = fold(inst)) {
                        if (flags_read[i] && !f->flags) break;  // the flags could not be folded
                        replacement[i] = Value::immediate(ir::result_type(inst.op), f->value);
                        folded_flags[i] = f->flags;
                    }
                    break;
                }
                if (!flags_read[i]) {
                    if (const std::optional<Value> v = identity(inst)) replacement[i] = *v;
                }
                break;
        }
    }
    rewrite(block.terminal().cond);
    if (block.terminal().kind == ir::Terminal::Kind::Branch &&
        block.terminal().cond.is_immediate()) {
        ir::Terminal& t = block.terminal();
        t.kind = ir::Terminal::Kind::Link;
        t.target = (t.cond.imm() & 1) ? t.target : t.fallthrough;
        t.cond = Value{};
    }
    std::vector<bool> keep(n);
    for (std::size_t i = 0; i < n; ++i)
        keep[i] = replacement[i].empty();
    compact(block, keep);
}

}  // namespace jitterbug::jit
