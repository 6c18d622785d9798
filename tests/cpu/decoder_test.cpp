// The decoder wrapper turns bytes into our Instruction, hiding Zydis.
#include <doctest/doctest.h>

#include <Zydis/Mnemonic.h>

#include <vector>

#include "cpu/decoder.hpp"

using namespace jitterbug::cpu;

namespace {
Instruction decode_ok(const Decoder& d, std::vector<std::uint8_t> bytes, bool code32,
                      std::uint32_t eip = 0x1000) {
    Instruction insn;
    REQUIRE(d.decode(bytes, code32, eip, insn) == DecodeStatus::Ok);
    return insn;
}
}  // namespace

TEST_SUITE("cpu") {
    TEST_CASE("register and immediate operands come with their widths") {
        Decoder d;
        const Instruction add = decode_ok(d, {0x83, 0xC0, 0xFF}, true);  // add eax, -1
        CHECK(add.mnemonic == ZYDIS_MNEMONIC_ADD);
        CHECK(add.length == 3);
        CHECK(add.operand_size == 32);
        REQUIRE(add.operand_count == 2);
        CHECK(add.op(0).kind == OperandKind::Gpr);
        CHECK(add.op(0).reg == 0);
        CHECK(add.op(0).bits == 32);
        CHECK(add.op(1).kind == OperandKind::Immediate);
        CHECK(add.op(1).imm == 0xFFFFFFFFu);  // sign-extended

        const Instruction mov_ah = decode_ok(d, {0x88, 0xE0}, true);  // mov al, ah
        CHECK(mov_ah.op(0).reg == 0);
        CHECK(mov_ah.op(1).reg == 4);  // AH in the 8-bit encoding
        CHECK(mov_ah.op(1).bits == 8);
    }

    TEST_CASE("16-bit memory operands name their base and index and default segment") {
        Decoder d;
        const Instruction insn = decode_ok(d, {0x8B, 0x46, 0x02}, false);  // mov ax, [bp+2]
        CHECK(insn.operand_size == 16);
        CHECK(insn.address_size == 16);
        const Operand& m = insn.op(1);
        CHECK(m.kind == OperandKind::Memory);
        CHECK(m.mem.base == 5);  // BP
        CHECK(m.mem.index == -1);
        CHECK(m.mem.segment == 2);  // SS by default with BP
        CHECK(m.mem.displacement == 2);

        const Instruction over = decode_ok(d, {0x26, 0x8B, 0x00}, false);  // mov ax, es:[bx+si]
        CHECK(over.has_segment_override);
        CHECK(over.segment_override == 0);
        CHECK(over.op(1).mem.segment == 0);
        CHECK(over.op(1).mem.base == 3);
        CHECK(over.op(1).mem.index == 6);
    }

    TEST_CASE("32-bit SIB addressing keeps the scale") {
        Decoder d;
        const Instruction insn =
            decode_ok(d, {0x8B, 0x44, 0x8B, 0x10}, true);  // mov eax, [ebx+ecx*4+16]
        const Operand& m = insn.op(1);
        CHECK(m.mem.base == 3);
        CHECK(m.mem.index == 1);
        CHECK(m.mem.scale == 4);
        CHECK(m.mem.displacement == 16);
        CHECK(m.mem.segment == 3);
    }

    TEST_CASE("relative branches carry their target wrapped to the operand size") {
        Decoder d;
        const Instruction jz = decode_ok(d, {0x74, 0xFE}, true, 0x2000);
        CHECK(jz.relative);
        CHECK(jz.branch_target == 0x2000);
        const Instruction call16 = decode_ok(d, {0xE8, 0x00, 0x80}, false, 0xFFF0);
        CHECK(call16.branch_target == ((0xFFF0 + 3 + 0x8000) & 0xFFFF));
    }

    TEST_CASE("far pointers and prefixes and string instructions") {
        Decoder d;
        const Instruction far = decode_ok(d, {0xEA, 0x5B, 0xE0, 0x00, 0xF0}, false);
        CHECK(far.mnemonic == ZYDIS_MNEMONIC_JMP);
        CHECK(far.op(0).kind == OperandKind::FarPointer);
        CHECK(far.op(0).selector == 0xF000);
        CHECK(far.op(0).imm == 0xE05B);

        const Instruction rep = decode_ok(d, {0xF3, 0xA5}, true);
        CHECK(rep.mnemonic == ZYDIS_MNEMONIC_MOVSD);
        CHECK(rep.rep == RepPrefix::Rep);
        CHECK(rep.operand_size == 32);

        const Instruction repne = decode_ok(d, {0xF2, 0xAE}, true);
        CHECK(repne.rep == RepPrefix::Repne);

        const Instruction op16 = decode_ok(d, {0x66, 0x40}, true);  // inc ax
        CHECK(op16.operand_size == 16);
    }

    TEST_CASE("invalid encodings and truncated instructions are told apart") {
        Decoder d;
        Instruction insn;
        const std::uint8_t lock_on_register[] = {0xF0, 0x01, 0xC8};  // lock add eax, ecx
        CHECK(d.decode(lock_on_register, true, 0, insn) == DecodeStatus::Invalid);
        const std::uint8_t ud[] = {0xFF, 0xFF};
        CHECK(d.decode(ud, true, 0, insn) == DecodeStatus::Invalid);
        const std::uint8_t truncated[] = {0xB8, 0x01, 0x02};  // mov eax, imm32 cut short
        CHECK(d.decode(truncated, true, 0, insn) == DecodeStatus::NeedMoreBytes);
        const std::uint8_t vex[] = {0xC5, 0xF8, 0x77};  // vzeroupper in a P6? #UD
        CHECK(d.decode(vex, true, 0, insn) != DecodeStatus::Ok);
    }
}
