// Decoder: turns guest instruction bytes into an Instruction, using Zydis.
// Nothing outside decoder.cpp sees Zydis's structures; the semantics see
// only Zydis's mnemonic enum (through Mnemonic).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

namespace jitterbug::cpu {

using Mnemonic = std::uint16_t;  // a ZydisMnemonic value

enum class OperandKind : std::uint8_t {
    None,
    Gpr,      // reg = register number in the encoding of its size (AL..BH for 8-bit)
    Segment,  // reg = SegReg
    Control,  // reg = CR number
    Debug,    // reg = DR number
    Memory,   // mem
    Immediate,
    FarPointer,  // ptr16:16 / ptr16:32 in the instruction: selector and imm (offset)
    Other,       // an operand we don't model (x87, MMX, SSE, ...)
};

struct MemoryOperand {
    std::uint8_t segment = 3;  // SegReg, with overrides and the BP/SP default applied
    std::int8_t base = -1;     // GPR number or -1
    std::int8_t index = -1;    // GPR number or -1
    std::uint8_t scale = 1;
    std::uint32_t displacement = 0;  // sign-extended to 32 bits
};

struct Operand {
    OperandKind kind = OperandKind::None;
    std::uint16_t bits = 0;  // size of the operand in bits (memory: size of the access)
    std::uint8_t reg = 0;
    MemoryOperand mem;
    std::uint32_t imm =
        0;  // truncated to `bits`, sign-extended to the operand size where encoded so
    std::uint16_t selector = 0;  // FarPointer
};

enum class RepPrefix : std::uint8_t { None, Rep, Repne };

struct Instruction {
    Mnemonic mnemonic = 0;
    std::uint8_t length = 0;
    std::uint8_t operand_size = 32;  // 16 or 32 (8 for byte forms)
    std::uint8_t address_size = 32;  // 16 or 32
    std::uint8_t opcode = 0;         // the last opcode byte
    std::uint8_t opcode_map = 0;     // 0: one-byte, 1: 0F, 2: 0F38, 3: 0F3A
    std::uint8_t modrm_reg = 0;
    std::uint8_t modrm_rm = 0;
    std::uint8_t modrm_mod = 0;  // 3: a register operand
    bool has_modrm = false;
    bool lock = false;
    RepPrefix rep = RepPrefix::None;
    bool has_segment_override = false;
    std::uint8_t segment_override = 3;  // SegReg when has_segment_override
    bool relative = false;              // branch with a relative target
    std::uint32_t branch_target = 0;    // when relative: target EIP (masked to operand size)
    std::uint8_t operand_count = 0;     // explicit and implicit operands, in Intel order
    std::array<Operand, 4> operands{};

    const Operand& op(unsigned i) const { return operands[i]; }
    // The default data segment of string sources: DS unless overridden.
    std::uint8_t data_segment() const { return has_segment_override ? segment_override : 3; }
};

enum class DecodeStatus : std::uint8_t {
    Ok,
    Invalid,        // not a valid instruction (#UD)
    NeedMoreBytes,  // the bytes end inside the instruction
};

class Decoder {
  public:
    Decoder();
    ~Decoder();
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    // Decodes one instruction at `eip` from `bytes` (at most 15 are looked at).
    DecodeStatus decode(std::span<const std::uint8_t> bytes, bool code32, std::uint32_t eip,
                        Instruction& out) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Mnemonic text for diagnostics.
const char* mnemonic_name(Mnemonic m);

}  // namespace jitterbug::cpu
