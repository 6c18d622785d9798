// The IR optimisation passes, each on a block built to show what it must
// (and must not) do.
#include <doctest/doctest.h>

#include <algorithm>

#include "cpu/cpu_state.hpp"
#include "jit/ir/builder.hpp"
#include "jit/passes/passes.hpp"

using namespace jitterbug;
using namespace jitterbug::ir;

namespace {

std::size_t count(const Block& block, Opcode op) {
    return static_cast<std::size_t>(std::count_if(block.insts().begin(), block.insts().end(),
                                                  [op](const Inst& i) { return i.op == op; }));
}

void end_with_dispatch(Block& block) { block.terminal().kind = Terminal::Kind::Dispatch; }

}  // namespace

TEST_SUITE("jit") {
    TEST_CASE("forwarding: a register read after the block wrote it uses the written value") {
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        const Value sum = b.add(b.get_reg32(cpu::Gpr::Ebx), imm32(5));
        b.set_reg32(cpu::Gpr::Eax, sum);
        const Value again = b.get_reg32(cpu::Gpr::Eax);  // must become `sum`
        const Value ebx = b.get_reg32(cpu::Gpr::Ebx);    // must become the first read
        b.set_reg32(cpu::Gpr::Ecx, b.xor_(again, ebx));
        end_with_dispatch(block);
        jit::forward_and_fold(block);
        REQUIRE(verify(block).empty());
        CHECK(count(block, Opcode::GetGpr32) == 1);  // EBX, once
        const Inst& x = block.insts()[block.insts().size() - 2];
        REQUIRE(x.op == Opcode::Xor32);
        CHECK(block.inst(x.args[0].inst()).op == Opcode::Add32);
        CHECK(block.inst(x.args[1].inst()).op == Opcode::GetGpr32);
    }

    TEST_CASE("forwarding stops at a helper that writes guest state") {
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        b.set_reg32(cpu::Gpr::Eax, imm32(7));
        b.call(cpu::HelperId::cpuid);
        b.set_reg32(cpu::Gpr::Ebx, b.get_reg32(cpu::Gpr::Eax));
        end_with_dispatch(block);
        jit::forward_and_fold(block);
        REQUIRE(verify(block).empty());
        CHECK(count(block, Opcode::GetGpr32) == 1);  // CPUID wrote EAX: read again
    }

    TEST_CASE("folding: operations on constants become constants and so do flags and branches") {
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        const Value sum = b.add(imm32(0xFFFFFFFF), imm32(1));
        const Value flags = b.flags_of(sum);
        b.set_reg32(cpu::Gpr::Eax, sum);
        b.set_arith_flags(flags, cpu::eflags::kArithmetic);
        block.terminal().kind = Terminal::Kind::Branch;
        block.terminal().cond = b.test_cond(4, b.get_arith_flags());  // JE: ZF is set
        block.terminal().target = 0x200;
        block.terminal().fallthrough = 0x105;
        block.recount_uses();
        jit::forward_and_fold(block);
        jit::eliminate_dead_code(block);
        REQUIRE(verify(block).empty());
        CHECK(count(block, Opcode::Add32) == 0);
        const Inst& set_eax = block.insts().at(0);
        REQUIRE(set_eax.op == Opcode::SetGpr32);
        CHECK(set_eax.args[1].is_immediate());
        CHECK(set_eax.args[1].imm() == 0);
        const Inst& set_flags = block.insts().at(1);
        REQUIRE(set_flags.op == Opcode::SetArithFlags);
        REQUIRE(set_flags.args[0].is_immediate());
        const auto f = static_cast<std::uint32_t>(set_flags.args[0].imm());
        CHECK((f & cpu::eflags::kArithmetic) ==
              (cpu::eflags::CF | cpu::eflags::ZF | cpu::eflags::AF | cpu::eflags::PF));
        // TestCond has no folding rule, so the branch stays a branch on it.
        CHECK(block.terminal().kind == Terminal::Kind::Branch);
    }

    TEST_CASE("folding turns a branch on a constant condition into a link") {
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        block.terminal().kind = Terminal::Kind::Branch;
        block.terminal().cond = b.is_zero(b.sub(imm32(3), imm32(3)));
        block.terminal().target = 0x200;
        block.terminal().fallthrough = 0x105;
        block.recount_uses();
        jit::forward_and_fold(block);
        REQUIRE(verify(block).empty());
        CHECK(block.terminal().kind == Terminal::Kind::Link);
        CHECK(block.terminal().target == 0x200);
        CHECK(block.insts().empty());
    }

    TEST_CASE("dead stores: an overwritten register write goes unless a fault could see it") {
        {
            Block block(LocationDescriptor{0x100, 0, mode::kCode32});
            Builder b(block);
            b.set_reg32(cpu::Gpr::Eax, imm32(1));
            b.set_reg32(cpu::Gpr::Eax, imm32(2));
            end_with_dispatch(block);
            jit::eliminate_dead_stores(block);
            REQUIRE(verify(block).empty());
            REQUIRE(count(block, Opcode::SetGpr32) == 1);
            CHECK(block.insts()[0].args[1].imm() == 2);
        }
        {
            Block block(LocationDescriptor{0x100, 0, mode::kCode32});
            Builder b(block);
            b.set_reg32(cpu::Gpr::Eax, imm32(1));
            b.set_reg32(cpu::Gpr::Ebx, b.read_mem(32, imm32(0x1000)));  // may fault
            b.set_reg32(cpu::Gpr::Eax, imm32(2));
            end_with_dispatch(block);
            jit::eliminate_dead_stores(block);
            CHECK(count(block, Opcode::SetGpr32) == 3);
        }
        {
            Block block(LocationDescriptor{0x100, 0, mode::kCode32});
            Builder b(block);
            b.set_reg32(cpu::Gpr::Eax, imm32(0x12345678));
            b.set_gpr(8, 0, imm8(1));  // AL: a partial write keeps the full one alive
            b.set_reg32(cpu::Gpr::Eax, b.get_reg32(cpu::Gpr::Eax));
            end_with_dispatch(block);
            jit::eliminate_dead_stores(block);
            CHECK(count(block, Opcode::SetGpr32) == 2);
        }
    }

    TEST_CASE("forwarding: a condition on flags a partial write wrote reads that write") {
        // DEC writes all but CF: JZ after it reads DEC's flags, JC still EFLAGS.
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        const Value dec = b.emit(Opcode::Dec32, {b.get_reg32(cpu::Gpr::Eax)});
        b.set_reg32(cpu::Gpr::Eax, dec);
        const Value flags = b.flags_of(dec);
        b.set_arith_flags(flags, cpu::eflags::kArithmetic & ~cpu::eflags::CF);
        b.cond(4);  // ZF: covered by the write
        b.cond(2);  // CF: not
        end_with_dispatch(block);
        jit::forward_and_fold(block);
        REQUIRE(verify(block).empty());
        std::vector<const Inst*> tests;
        for (const Inst& i : block.insts())
            if (i.op == Opcode::TestCond) tests.push_back(&i);
        REQUIRE(tests.size() == 2);
        CHECK(tests[0]->args[1] == flags);
        CHECK(block.inst(tests[1]->args[1].inst()).op == Opcode::GetArithFlags);
    }

    TEST_CASE("dead stores: status flags go only when every written bit is rewritten") {
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        const Value flags = b.get_arith_flags();
        b.set_arith_flags(flags, cpu::eflags::kArithmetic);  // dead: the next two cover it
        b.set_arith_flags(
            flags, cpu::eflags::kArithmetic & ~cpu::eflags::CF);  // lives: nothing rewrites ZF
        b.set_arith_flags(flags, cpu::eflags::CF);                // dead: the next rewrites CF
        b.set_arith_flags(flags, cpu::eflags::CF);
        end_with_dispatch(block);
        jit::eliminate_dead_stores(block);
        REQUIRE(verify(block).empty());
        REQUIRE(count(block, Opcode::SetArithFlags) == 2);
        CHECK(block.insts()[1].args[1].imm() == (cpu::eflags::kArithmetic & ~cpu::eflags::CF));
        CHECK(block.insts()[2].args[1].imm() == cpu::eflags::CF);
    }

    TEST_CASE("dead code: unused pure chains go and anything that may fault stays") {
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        const Value x = b.get_reg32(cpu::Gpr::Ecx);
        b.add(b.xor_(x, imm32(3)), imm32(1));  // unused chain
        b.read_mem(32, x);                     // unused, but may fault
        end_with_dispatch(block);
        block.recount_uses();
        jit::eliminate_dead_code(block);
        REQUIRE(verify(block).empty());
        CHECK(block.insts().size() == 2);  // the read of ECX and the memory read
        CHECK(count(block, Opcode::ReadMem32) == 1);
    }
}
