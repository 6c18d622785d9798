// Block: one translation unit of guest code as IR — a straight-line list of
// instructions in SSA form followed by one terminal that says where control
// goes next.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/event.hpp"
#include "jit/ir/opcode.hpp"
#include "jit/ir/value.hpp"
#include "jit/location.hpp"

namespace jitterbug::ir {

struct Inst {
    Opcode op{};
    std::array<Value, kMaxArgs> args{};
    std::uint32_t use_count = 0;

    const Value& arg(unsigned i) const { return args[i]; }
    unsigned num_args() const { return info(op).num_args; }
};

struct Terminal {
    enum class Kind : std::uint8_t {
        None,      // not yet terminated
        Link,      // continue at `target` (same CS, same mode)
        Branch,    // cond ? target : fallthrough
        Dispatch,  // EIP was set by SetEip (indirect jump, mode change, ...)
        Halt,      // HLT: EIP = target (the next instruction), the CPU halts
        Raise,     // deliver `event`; EIP = target (the instruction raising it)
    };
    Kind kind = Kind::None;
    Value cond;
    std::uint32_t target = 0;
    std::uint32_t fallthrough = 0;
    cpu::Event event;  // Raise only
};

class Block {
  public:
    explicit Block(LocationDescriptor location) : location_(location) {}

    const LocationDescriptor& location() const { return location_; }

    std::vector<Inst>& insts() { return insts_; }
    const std::vector<Inst>& insts() const { return insts_; }
    const Inst& inst(InstRef r) const { return insts_[r]; }
    Inst& inst(InstRef r) { return insts_[r]; }

    Terminal& terminal() { return terminal_; }
    const Terminal& terminal() const { return terminal_; }

    // Guest instructions and bytes covered by the block.
    std::uint32_t guest_instructions = 0;
    std::uint32_t guest_bytes = 0;

    // Appends an instruction and returns its result (an empty value for Void).
    Value append(Opcode op, std::initializer_list<Value> args);

    // Recomputes every use count from scratch.
    void recount_uses();

  private:
    LocationDescriptor location_;
    std::vector<Inst> insts_;
    Terminal terminal_;
};

// Human-readable listing of a block, one instruction per line.
std::string to_string(const Block& block);
// Checks types and references; returns an empty string or a description of
// the first problem.
std::string verify(const Block& block);

}  // namespace jitterbug::ir
