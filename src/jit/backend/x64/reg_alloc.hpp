// RegAlloc: assigns host registers to the IR values of one block while it is
// emitted. A value is defined once, used through use()/use_scratch(), and its
// register is freed after the instruction that uses it for the last time.
// When registers run out, a value moves to its spill slot on the host stack
// (slot i for instruction i). Values of type U1 are 0 or 1; U32 values are
// zero-extended to 64 bits; U8 and U16 values have undefined upper bits.
//
// The eight guest general registers are pinned: guest register g lives in
// host register pinned(g) for as long as translated code runs, across
// blocks; CpuState receives them only when translated code calls the runtime
// or returns to the dispatcher (SharedCode), so a guest register write costs
// no store. A GetGpr32 result is the pinned register itself (an alias) until
// that guest register is written. Values are otherwise computed in the five
// temporaries RAX RCX RDX RSI RDI.
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

// Host register of each guest register, EAX..EDI.
constexpr std::array<int, 8> kPinned = {
    Xbyak::Operand::RBP, Xbyak::Operand::R12, Xbyak::Operand::R13, Xbyak::Operand::R14,
    Xbyak::Operand::R8,  Xbyak::Operand::R9,  Xbyak::Operand::R10, Xbyak::Operand::R11,
};
inline Reg64 pinned(unsigned guest) { return Reg64(kPinned[guest & 7]); }
// RBX counts retired guest instructions while translated code runs
// (CpuContext::instructions is current only outside it and in runtime calls).
constexpr int kCounter = Xbyak::Operand::RBX;
// RAX RCX RDX RSI RDI: the registers values are computed in.
constexpr bool is_temporary(int r) {
    return r == Xbyak::Operand::RAX || r == Xbyak::Operand::RCX || r == Xbyak::Operand::RDX ||
           r == Xbyak::Operand::RSI || r == Xbyak::Operand::RDI;
}
// The pinned registers a call clobbers (the rest are callee-saved).
constexpr std::array<unsigned, 4> kCallerSavedGuests = {4, 5, 6, 7};

class RegAlloc {
  public:
    RegAlloc(Xbyak::CodeGenerator& code, const ir::Block& block);

    // ---- Guest registers ----
    // Defines `i` as the current value of guest register `guest`: the pinned
    // register itself, or a copy when it already holds another live value.
    Reg64 define_guest(ir::InstRef i, unsigned guest);
    // Makes the pinned register of `guest` free to be written: a live value
    // it holds moves to a temporary (or its spill slot).
    void vacate(unsigned guest);
    // Defines `i` in guest register `guest`'s pinned host register (whose
    // value, if any, moves out first): for a result written there next.
    Reg64 define_in_guest(ir::InstRef i, unsigned guest);
    // The register `v` lives in, if it is the pinned register of a guest
    // register, or -1.
    int pinned_guest_of(const ir::Value& v) const;
    // The destination of a two-operand ALU op whose first operand is `a`:
    // a temporary holding a copy of `a` — or, when `guest` >= 0 (the result
    // goes straight into that guest register), its pinned register, with `a`
    // moved into its low `bits`. Locked until end_inst().
    Reg64 alu_dest(const ir::Value& a, int guest, unsigned bits);
    // Before a call that may write guest registers: values aliasing pinned
    // registers go to their spill slots (the registers are reloaded after).
    void spill_guest_aliases();

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
    // Temporaries holding values, except `except` (slow paths save these;
    // pinned registers are reloaded from CpuState instead).
    std::vector<Reg64> live_caller_saved(int except = -1) const;

    // Keeps `v` alive past its last use until release(v): a deferred flags
    // record (BlockCompiler) still names it.
    void hold(const ir::Value& v);
    void release(const ir::Value& v) { note_use(v); }
    // Where `v` lives now: a host register, or (-1) its spill slot.
    int register_of(const ir::Value& v) const { return reg_of_[v.inst()]; }
    // Its spill slot's offset from RSP.
    static int spill_offset_of(const ir::Value& v) { return static_cast<int>(v.inst() * 8); }

    bool is_defined(ir::InstRef i) const { return defined_[i]; }
    // Whether host register `r` holds no value and is not locked.
    bool is_free(int r) const { return regs_[r].value == ir::kNoInst && !regs_[r].locked; }

  private:
    struct HostReg {
        ir::InstRef value = ir::kNoInst;
        bool locked = false;
    };

    int find_free();
    // Moves the value of `reg` to a free temporary, or to its spill slot.
    void move_out(int reg);
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
