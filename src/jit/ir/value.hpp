// Value: an IR operand — an immediate of some type, or the result of an
// earlier instruction of the same block.
#pragma once

#include <cstdint>
#include <limits>

#include "jit/ir/types.hpp"

namespace jitterbug::ir {

using InstRef = std::uint32_t;
constexpr InstRef kNoInst = std::numeric_limits<InstRef>::max();

class Value {
  public:
    Value() = default;

    static Value immediate(Type type, std::uint64_t bits) { return Value(type, bits, kNoInst); }
    static Value result_of(Type type, InstRef inst) { return Value(type, 0, inst); }

    bool empty() const { return type_ == Type::Void; }
    bool is_immediate() const { return !empty() && inst_ == kNoInst; }
    Type type() const { return type_; }
    std::uint64_t imm() const { return imm_; }
    InstRef inst() const { return inst_; }

    bool operator==(const Value&) const = default;

  private:
    Value(Type type, std::uint64_t bits, InstRef inst) : imm_(bits), inst_(inst), type_(type) {}

    std::uint64_t imm_ = 0;
    InstRef inst_ = kNoInst;
    Type type_ = Type::Void;
};

inline Value imm1(bool v) { return Value::immediate(Type::U1, v ? 1 : 0); }
inline Value imm8(std::uint64_t v) { return Value::immediate(Type::U8, v & 0xFF); }
inline Value imm16(std::uint64_t v) { return Value::immediate(Type::U16, v & 0xFFFF); }
inline Value imm32(std::uint64_t v) { return Value::immediate(Type::U32, v & 0xFFFFFFFF); }
inline Value imm64(std::uint64_t v) { return Value::immediate(Type::U64, v); }
// An immediate of the integer type `bits` wide.
inline Value imm_of_width(unsigned bits, std::uint64_t v) {
    return bits == 8 ? imm8(v) : bits == 16 ? imm16(v) : bits == 32 ? imm32(v) : imm64(v);
}

}  // namespace jitterbug::ir
