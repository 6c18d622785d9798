// Instruction forms for the host-differential test, and the generation of
// cases for them: random and edge-case register values, flags and memory,
// with the setup a form needs (a stack, string pointers, branch targets).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "isa/host/protocol.h"

namespace jitterbug::test::host {

// Linux's user data selector: loadable on both sides (the emulated GDT mirrors it).
constexpr std::uint16_t kUserData = 0x2B;
constexpr std::uint16_t kUserCode = 0x23;

// How an instruction's operands are encoded after its opcode bytes.
enum class Operands : std::uint8_t {
    None,       // nothing
    ModRmReg,   // ModRM with mod = 3: both operands registers
    ModRmMem,   // ModRM addressing [EBX + disp8]
    OpcodeReg,  // register number in the opcode's low three bits
};

enum class Imm : std::uint8_t { None, I8, I16, I32, OperandSize, Enter, Rel8, Rel32, Moffs };

// What the SDM leaves undefined in EFLAGS after the instruction.
enum class Undefined : std::uint8_t {
    Fixed,        // the form's `undefined` mask
    Shift,        // SHL/SHR/SAR: AF; OF unless the count is 1; CF once the count >= size
    Rotate,       // ROL/ROR/RCL/RCR: OF unless the count is 1
    DoubleShift,  // SHLD/SHRD: AF, OF unless count 1; everything (and the result) past the size
};

// Setup bits: registers and memory a form needs in particular states.
namespace setup {
constexpr std::uint32_t kStack = 1u << 0;      // ESP in the middle of the data area
constexpr std::uint32_t kString = 1u << 1;     // ESI/EDI in the data area, ECX small
constexpr std::uint32_t kCount = 1u << 2;      // CL (and an imm8 count) cycles 0..63
constexpr std::uint32_t kBitOffset = 1u << 3;  // the ModRM.reg register is a small bit offset
constexpr std::uint32_t kIndirect = 1u << 4;   // the r/m operand holds HD_LANDING1
constexpr std::uint32_t kReturn = 1u << 5;     // [ESP] holds HD_LANDING1
constexpr std::uint32_t kFrame = 1u << 6;      // EBP in the data area
constexpr std::uint32_t kLoop = 1u << 7;       // ECX is 0, 1, 2 or random
constexpr std::uint32_t kDivide = 1u << 8;     // the high half of the dividend is often small
constexpr std::uint32_t kCompare = 1u << 9;    // the accumulator often equals the operand
constexpr std::uint32_t kPopFlags = 1u << 10;  // the stacked EFLAGS image has TF clear
constexpr std::uint32_t kTable = 1u << 11;     // EBX points into the data area (XLAT)
constexpr std::uint32_t kSelector =
    1u << 12;  // the r/m operand (or [ESP]) holds the user data selector
constexpr std::uint32_t kFarPointer =
    1u << 13;  // the memory operand holds offset:selector (user data)
// PUSH sreg: with a 32-bit operand size the slot's upper half is
// implementation-specific (SDM Vol. 2B, PUSH: a 16-bit move on Intel Core
// and Atom, the zero-extended selector on AMD and the Pentium 4).
constexpr std::uint32_t kSegmentPush = 1u << 14;
}  // namespace setup

struct Form {
    std::string name;
    std::vector<std::uint8_t> opcode;  // prefixes and opcode bytes
    Operands operands = Operands::None;
    int digit = -1;  // ModRM.reg when fixed (/digit); -1: random register
    Imm imm = Imm::None;
    unsigned operand_size = 32;  // 8, 16 or 32: for immediates and flag rules
    Undefined rule = Undefined::Fixed;
    std::uint32_t undefined = 0;
    std::uint32_t setup = 0;
};

struct Case {
    hd_case native{};
    unsigned count = 0;  // the shift/rotate count, for the flag rules
};

// Every form the test covers.
std::vector<Form> all_forms();

// Case `index` of `form`: deterministic for (form, index, seed).
Case make_case(const Form& form, std::uint32_t index, std::mt19937& rng);

// The status flags undefined for this case.
std::uint32_t undefined_flags(const Form& form, const Case& c);
// True when the result itself is undefined (16-bit SHLD/SHRD past 16, BSWAP r16).
bool undefined_result(const Form& form, const Case& c);

}  // namespace jitterbug::test::host
