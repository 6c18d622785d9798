// Both backends execute the same IR to the same state. The interpreter
// computes results and flags in portable C++ (jit/ir/eval.hpp); the JIT runs
// the host's own instructions. Every defined flag must agree, for edge-case
// and random operands — which holds the reference semantics to the hardware.
#include <doctest/doctest.h>

#include <functional>
#include <random>
#include <vector>

#include "cpu/cpu_context.hpp"
#include "jit/backend/backend.hpp"
#include "jit/ir/builder.hpp"

using namespace jitterbug;
using namespace jitterbug::ir;
namespace fl = cpu::eflags;

#ifdef JITTERBUG_HAVE_JIT

namespace {

struct Outcome {
    std::uint32_t result;
    std::uint32_t flags;
};

// Runs `block` from a state where EAX = a, ECX = b, EBX = ~a,
// EFLAGS.CF = carry.
Outcome run(jit::Backend& backend, const Block& block, std::uint32_t a, std::uint32_t b,
            bool carry) {
    jit::TranslationBlock tb;
    REQUIRE(backend.compile(block, tb));
    auto ctx = std::make_unique<cpu::CpuContext>();
    ctx->state.reg(cpu::Gpr::Eax) = a;
    ctx->state.reg(cpu::Gpr::Ecx) = b;
    ctx->state.reg(cpu::Gpr::Edx) = 0xDEADBEEF;
    ctx->state.reg(cpu::Gpr::Ebx) = ~a * 0x9E3779B1u;
    // Start with every status flag set but CF as asked, so that flags an op
    // leaves alone are seen to stay.
    ctx->state.set_eflags(fl::Fixed1 | (fl::kArithmetic & ~fl::CF) | (carry ? fl::CF : 0));
    const jit::BlockExit exit = backend.execute(*ctx, tb);
    CHECK(exit.reason == jit::ExitReason::Next);
    return {ctx->state.reg(cpu::Gpr::Edx), ctx->state.eflags()};
}

// EDX = op(EAX, ECX [, CF]) at `bits`; EFLAGS status bits = the op's flags.
Block binary_block(Opcode op8, unsigned bits, bool with_carry, bool count_operand) {
    Block block(LocationDescriptor{0, 0, mode::kCode32});
    Builder b(block);
    b.emit(Opcode::BeginInstruction, {imm32(0)});
    const Value x = b.get_gpr(bits, 0);
    const Value y = count_operand ? b.get_gpr(8, 1) : b.get_gpr(bits, 1);
    Value r;
    if (with_carry) {
        r = b.emit(sized(op8, bits), {x, y, b.carry_flag()});
    } else {
        r = b.emit(sized(op8, bits), {x, y});
    }
    b.set_arith_flags(b.flags_of(r), fl::kArithmetic);
    b.set_gpr(bits, 2, r);
    block.terminal().kind = Terminal::Kind::Dispatch;
    block.recount_uses();
    REQUIRE(verify(block).empty());
    return block;
}

Block unary_block(Opcode op8, unsigned bits) {
    Block block(LocationDescriptor{0, 0, mode::kCode32});
    Builder b(block);
    b.emit(Opcode::BeginInstruction, {imm32(0)});
    const Value r = b.emit(sized(op8, bits), {b.get_gpr(bits, 0)});
    if (op8 != Opcode::Not8) b.set_arith_flags(b.flags_of(r), fl::kArithmetic);
    b.set_gpr(bits, 2, r);
    block.terminal().kind = Terminal::Kind::Dispatch;
    block.recount_uses();
    REQUIRE(verify(block).empty());
    return block;
}

// The widening multiplies write the double-width product to EDX.
Block multiply_block(Opcode op8, unsigned bits) {
    Block block(LocationDescriptor{0, 0, mode::kCode32});
    Builder b(block);
    b.emit(Opcode::BeginInstruction, {imm32(0)});
    const Value r = b.emit(sized(op8, bits), {b.get_gpr(bits, 0), b.get_gpr(bits, 1)});
    b.set_arith_flags(b.flags_of(r), fl::kArithmetic);
    b.set_gpr(32, 2, b.resize(bits == 32 ? b.emit(Opcode::Truncate64To32, {r}) : r, 32));
    block.terminal().kind = Terminal::Kind::Dispatch;
    block.recount_uses();
    REQUIRE(verify(block).empty());
    return block;
}

// EDX = SHLD/SHRD(EAX, EBX, CL) or BSF/BSR(source EAX, old ECX).
Block three_operand_block(Opcode op, unsigned bits, bool scan) {
    Block block(LocationDescriptor{0, 0, mode::kCode32});
    Builder b(block);
    b.emit(Opcode::BeginInstruction, {imm32(0)});
    Value r;
    if (scan) {
        r = b.emit(op, {b.get_gpr(bits, 0), b.get_gpr(bits, 1)});
    } else {
        r = b.emit(op, {b.get_gpr(bits, 0), b.get_gpr(bits, 3), b.get_gpr(8, 1)});
    }
    b.set_arith_flags(b.flags_of(r), fl::kArithmetic);
    b.set_gpr(bits, 2, r);
    block.terminal().kind = Terminal::Kind::Dispatch;
    block.recount_uses();
    REQUIRE(verify(block).empty());
    return block;
}

std::vector<std::uint32_t> operands() {
    std::vector<std::uint32_t> v = {0,          1,          2,          0x7F,       0x80,
                                    0xFF,       0x100,      0x7FFF,     0x8000,     0xFFFF,
                                    0x10000,    0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE,
                                    0x0F0F0F0F, 0x12345678, 0x80008080};
    std::mt19937 rng(12345);
    for (int i = 0; i < 24; ++i)
        v.push_back(rng());
    return v;
}

void compare(const char* what, const Block& block, std::uint32_t defined,
             const std::function<std::uint32_t(std::uint32_t, std::uint32_t)>& defined_for = {},
             bool with_carry = false, std::uint32_t count_limit = 0) {
    auto interp = jit::make_interpreter_backend();
    auto jit = jit::make_x64_backend();
    std::vector<std::uint32_t> ys = operands();
    if (count_limit) {
        ys.clear();
        for (std::uint32_t c = 0; c <= count_limit; ++c)
            ys.push_back(c);
    }
    for (std::uint32_t a : operands()) {
        for (std::uint32_t y : ys) {
            for (int carry = 0; carry <= (with_carry ? 1 : 0); ++carry) {
                const Outcome i = run(*interp, block, a, y, carry);
                const Outcome j = run(*jit, block, a, y, carry);
                const std::uint32_t mask = defined_for ? defined_for(a, y) : defined;
                CAPTURE(what);
                CAPTURE(a);
                CAPTURE(y);
                CAPTURE(carry);
                CHECK(i.result == j.result);
                CHECK((i.flags & mask) == (j.flags & mask));
            }
        }
    }
}

}  // namespace

TEST_SUITE("jit") {
    TEST_CASE("arithmetic and logic: the JIT and the interpreter agree on results and flags") {
        for (unsigned bits : {8u, 16u, 32u}) {
            CAPTURE(bits);
            compare("add", binary_block(Opcode::Add8, bits, false, false), fl::kArithmetic);
            compare("sub", binary_block(Opcode::Sub8, bits, false, false), fl::kArithmetic);
            compare("adc", binary_block(Opcode::Adc8, bits, true, false), fl::kArithmetic, {},
                    true);
            compare("sbb", binary_block(Opcode::Sbb8, bits, true, false), fl::kArithmetic, {},
                    true);
            // AF is undefined after logic ops.
            const std::uint32_t logic = fl::kArithmetic & ~fl::AF;
            compare("and", binary_block(Opcode::And8, bits, false, false), logic);
            compare("or", binary_block(Opcode::Or8, bits, false, false), logic);
            compare("xor", binary_block(Opcode::Xor8, bits, false, false), logic);
            // INC/DEC do not produce CF (the status bit stays as it was).
            compare("inc", unary_block(Opcode::Inc8, bits), fl::kArithmetic & ~fl::CF);
            compare("dec", unary_block(Opcode::Dec8, bits), fl::kArithmetic & ~fl::CF);
            compare("neg", unary_block(Opcode::Neg8, bits), fl::kArithmetic);
            compare("not", unary_block(Opcode::Not8, bits), fl::kArithmetic);
        }
    }

    TEST_CASE("shifts and rotates: the JIT and the interpreter agree on every count") {
        for (unsigned bits : {8u, 16u, 32u}) {
            CAPTURE(bits);
            // A masked count of 0 produces no flags (the semantics keep the old
            // ones); OF is defined for a count of 1 only, AF never, and CF not
            // once the count reaches the operand size.
            auto shift_flags = [bits](std::uint32_t, std::uint32_t count) -> std::uint32_t {
                const std::uint32_t c = count & 31;
                if (c == 0) return 0;
                std::uint32_t m = fl::SF | fl::ZF | fl::PF | fl::CF;
                if (c == 1) m |= fl::OF;
                if (c >= bits) m &= ~fl::CF;
                return m;
            };
            auto rotate_flags = [](std::uint32_t, std::uint32_t count) -> std::uint32_t {
                const std::uint32_t c = count & 31;
                if (c == 0) return 0;
                return c == 1 ? (fl::CF | fl::OF) : fl::CF;
            };
            compare("shl", binary_block(Opcode::Shl8, bits, false, true), 0, shift_flags, false,
                    40);
            compare("shr", binary_block(Opcode::Shr8, bits, false, true), 0, shift_flags, false,
                    40);
            compare("sar", binary_block(Opcode::Sar8, bits, false, true), 0, shift_flags, false,
                    40);
            compare("rol", binary_block(Opcode::Rol8, bits, false, true), 0, rotate_flags, false,
                    40);
            compare("ror", binary_block(Opcode::Ror8, bits, false, true), 0, rotate_flags, false,
                    40);
        }
    }

    TEST_CASE("double shifts and bit scans: the JIT and the interpreter agree") {
        for (unsigned bits : {16u, 32u}) {
            CAPTURE(bits);
            const unsigned step = bits == 32 ? 1 : 0;
            // Counts above the operand size give undefined results for 16 bits.
            auto shift_flags = [bits](std::uint32_t, std::uint32_t count) -> std::uint32_t {
                const std::uint32_t c = count & 31;
                if (c == 0 || c > bits) return 0;
                return c == 1 ? (fl::kArithmetic & ~fl::AF) : (fl::SF | fl::ZF | fl::PF | fl::CF);
            };
            const auto shld = static_cast<Opcode>(static_cast<unsigned>(Opcode::Shld16) + step);
            const auto shrd = static_cast<Opcode>(static_cast<unsigned>(Opcode::Shrd16) + step);
            const std::uint32_t limit = bits;  // results past the size are undefined
            compare("shld", three_operand_block(shld, bits, false), 0, shift_flags, false, limit);
            compare("shrd", three_operand_block(shrd, bits, false), 0, shift_flags, false, limit);
            const auto bsf = static_cast<Opcode>(static_cast<unsigned>(Opcode::Bsf16) + step);
            const auto bsr = static_cast<Opcode>(static_cast<unsigned>(Opcode::Bsr16) + step);
            compare("bsf", three_operand_block(bsf, bits, true), fl::ZF);
            compare("bsr", three_operand_block(bsr, bits, true), fl::ZF);
        }
    }

    TEST_CASE(
        "widening multiplies: the JIT and the interpreter agree on products and on CF and OF") {
        for (unsigned bits : {8u, 16u, 32u}) {
            CAPTURE(bits);
            compare("mul", multiply_block(Opcode::Mul8, bits), fl::CF | fl::OF);
            compare("imul", multiply_block(Opcode::Imul8, bits), fl::CF | fl::OF);
        }
    }
}

#endif  // JITTERBUG_HAVE_JIT
