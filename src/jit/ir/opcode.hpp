// The IR opcode enum and its static description, generated from opcodes.inc.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "jit/ir/types.hpp"

namespace jitterbug::ir {

enum class Opcode : std::uint16_t {
#define OPCODE(name, ...) name,
#include "jit/ir/opcodes.inc"
#undef OPCODE
};

constexpr unsigned kMaxArgs = 4;

struct OpcodeInfo {
    std::string_view name;
    Type result;
    std::uint8_t num_args;
    std::array<Type, kMaxArgs> args;
};

const OpcodeInfo& info(Opcode op);
inline std::string_view name(Opcode op) { return info(op).name; }
inline Type result_type(Opcode op) { return info(op).result; }

constexpr std::size_t kNumOpcodes = 0
#define OPCODE(name, ...) +1
#include "jit/ir/opcodes.inc"
#undef OPCODE
    ;

// Picks the member of a sized family (Name8, Name16, Name32 declared in that
// order) for an operand width of 8, 16 or 32 bits.
constexpr Opcode sized(Opcode op8, unsigned bits) {
    const unsigned step = bits == 8 ? 0 : bits == 16 ? 1 : 2;
    return static_cast<Opcode>(static_cast<unsigned>(op8) + step);
}

// Opcodes that have side effects or may fault: never removed or reordered
// across one another.
bool has_side_effects(Opcode op);
// Opcodes that may raise a guest exception (need a precise exit path).
bool may_fault(Opcode op);

}  // namespace jitterbug::ir
