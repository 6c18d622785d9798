// RegAlloc: assigns host registers to the IR values of one block while it is
// emitted. A value is defined once, used through use()/use_scratch(), and its
// register is freed after the instruction that uses it for the last time.
// When registers run out, a value moves to its spill slot on the host stack
// (slot i for instruction i). Values of type U1 are 0 or 1; U32 values are
// zero-extended to 64 bits; U8 and U16 values have undefined upper bits.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "jit/ir/block.hpp"
#include "xbyak_fwd.hpp"

namespace jitterbug::jit::x64 {

using Xbyak::Reg64;

// Host stack frame of translated code: one 8-byte spill slot per IR
// instruction, plus padding that keeps RSP 16-byte aligned.
constexpr std::size_t kMaxIrInsts = 4096;
constexpr std::size_t kFrameSize = kMaxIrInsts * 8 + 8;

class RegAlloc {
  public:
    RegAlloc(Xbyak::CodeGenerator& code, const ir::Block& block);

    // A register holding `v`, locked until end_inst().
    Reg64 use(const ir::Value& v);
    // A register holding `v` that the caller may overwrite.
    Reg64 use_scratch(const ir::Value& v);
    // Places `v` in `r` (evicting whatever was there) as a scratch register.
    void use_fixed(const ir::Value& v, const Reg64& r);
    // Records a use of `v` without loading it (the caller reads it via load_into()).
    void consume(const ir::Value& v);
    // Copies `v` into `r` from wherever it lives; does not allocate.
    void load_into(const Reg64& r, const ir::Value& v);

    // A new register for the result of instruction `i`.
    Reg64 define(ir::InstRef i);
    // The result of `i` lives in `r`, a scratch register of this instruction.
    void define_in(ir::InstRef i, const Reg64& r);
    // A free temporary register for this instruction.
    Reg64 scratch();
    // Evicts `r` and locks it as a temporary of this instruction.
    void reserve(const Reg64& r);

    // Ends the current instruction: unlocks registers, frees dead values.
    void end_inst();
    // Moves every value out of caller-saved registers (before a call).
    void spill_caller_saved();
    // Caller-saved registers holding values, except `except` (slow paths save these).
    std::vector<Reg64> live_caller_saved(int except = -1) const;

    bool is_defined(ir::InstRef i) const { return defined_[i]; }

  private:
    struct HostReg {
        ir::InstRef value = ir::kNoInst;
        bool locked = false;
    };

    int find_free();
    int allocate();
    void evict(int reg);
    void bind(ir::InstRef i, int reg);
    void note_use(const ir::Value& v);
    Xbyak::Address spill_slot(ir::InstRef i) const;

    Xbyak::CodeGenerator& code_;
    std::array<HostReg, 16> regs_{};
    std::vector<std::int8_t> reg_of_;
    std::vector<bool> spilled_;
    std::vector<bool> defined_;
    std::vector<std::uint32_t> remaining_;
    std::vector<ir::InstRef> dying_;
};

}  // namespace jitterbug::jit::x64
