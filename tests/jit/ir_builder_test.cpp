// The IR: building, use counts, the verifier and the printer.
#include <doctest/doctest.h>

#include "jit/ir/builder.hpp"

using namespace jitterbug;
using namespace jitterbug::ir;

TEST_SUITE("jit") {
    TEST_CASE("the builder picks the sized member of a family by operand width") {
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        const Value a8 = b.get_gpr(8, 4);
        const Value s8 = b.add(a8, imm8(1));
        const Value a16 = b.get_gpr(16, 0);
        const Value s16 = b.sub(a16, imm16(2));
        const Value a32 = b.get_reg32(cpu::Gpr::Ebx);
        const Value x32 = b.xor_(a32, a32);
        CHECK(block.inst(s8.inst()).op == Opcode::Add8);
        CHECK(block.inst(s16.inst()).op == Opcode::Sub16);
        CHECK(block.inst(x32.inst()).op == Opcode::Xor32);
        CHECK(s8.type() == Type::U8);
        CHECK(s16.type() == Type::U16);
        CHECK(block.inst(a32.inst()).use_count == 2);
    }

    TEST_CASE("use counts follow the arguments and the branch condition") {
        Block block(LocationDescriptor{0x100, 0, mode::kCode32});
        Builder b(block);
        const Value x = b.get_reg32(cpu::Gpr::Eax);
        const Value sum = b.add(x, imm32(5));
        const Value flags = b.flags_of(sum);
        const Value zero = b.test_cond(4, flags);
        b.set_reg32(cpu::Gpr::Eax, sum);
        block.terminal().kind = Terminal::Kind::Branch;
        block.terminal().cond = zero;
        block.terminal().target = 0x200;
        block.terminal().fallthrough = 0x105;
        block.recount_uses();
        CHECK(block.inst(x.inst()).use_count == 1);
        CHECK(block.inst(sum.inst()).use_count == 2);  // GetFlagsFromOp and SetGpr32
        CHECK(block.inst(flags.inst()).use_count == 1);
        CHECK(block.inst(zero.inst()).use_count == 1);  // the terminal
        CHECK(verify(block).empty());
    }

    TEST_CASE("the verifier rejects wrong types and late uses and missing terminals") {
        {
            Block block(LocationDescriptor{});
            Builder b(block);
            const Value x = b.get_gpr(16, 0);
            block.append(Opcode::Add32, {x, imm32(1)});  // u16 where u32 is expected
            block.terminal().kind = Terminal::Kind::Dispatch;
            CHECK(verify(block).find("expected u32") != std::string::npos);
        }
        {
            Block block(LocationDescriptor{});
            Builder b(block);
            b.get_reg32(cpu::Gpr::Eax);
            CHECK(verify(block) == "block has no terminal");
        }
        {
            Block block(LocationDescriptor{});
            Builder b(block);
            b.set_reg32(cpu::Gpr::Eax, Value::result_of(Type::U32, 7));
            block.terminal().kind = Terminal::Kind::Dispatch;
            CHECK(verify(block).find("before it is defined") != std::string::npos);
        }
        {
            Block block(LocationDescriptor{});
            block.append(Opcode::GetGpr32, {imm32(0)});  // register given as a number
            block.terminal().kind = Terminal::Kind::Dispatch;
            CHECK_FALSE(verify(block).empty());
        }
    }

    TEST_CASE("the printer names registers and segments and conditions and helpers") {
        Block block(LocationDescriptor{0x7C00, 0, 0});
        Builder b(block);
        const Value ah = b.get_gpr(8, 4);
        b.set_gpr(8, 0, ah);
        b.get_seg_base(cpu::SegReg::Ss);
        b.cond(12);
        b.call(cpu::HelperId::cpuid);
        block.terminal().kind = Terminal::Kind::Halt;
        block.terminal().target = 0x7C01;
        const std::string text = to_string(block);
        CHECK(text.find("GetGpr8 ah") != std::string::npos);
        CHECK(text.find("SetGpr8 al, %0") != std::string::npos);
        CHECK(text.find("GetSegBase ss") != std::string::npos);
        CHECK(text.find("TestCond l,") != std::string::npos);
        CHECK(text.find("CallHelper cpuid") != std::string::npos);
        CHECK(text.find("halt, resume at 0x7c01") != std::string::npos);
    }

    TEST_CASE("every opcode is described once with a name and consistent arguments") {
        for (std::size_t i = 0; i < kNumOpcodes; ++i) {
            const OpcodeInfo& oi = info(static_cast<Opcode>(i));
            CAPTURE(oi.name);
            CHECK_FALSE(oi.name.empty());
            CHECK(oi.num_args <= kMaxArgs);
            for (unsigned a = 0; a < oi.num_args; ++a)
                CHECK(oi.args[a] != Type::Void);
        }
        CHECK(sized(Opcode::Add8, 16) == Opcode::Add16);
        CHECK(sized(Opcode::ReadMem8, 32) == Opcode::ReadMem32);
        CHECK(sized(Opcode::Select8, 32) == Opcode::Select32);
    }
}
