// BlockCompiler: emits the host code of one IR block. One emit_<Op> per IR
// opcode (declared from opcodes.inc), split by theme over emit_*.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "cpu/cpu_context.hpp"
#include "jit/backend/backend.hpp"
#include "jit/backend/x64/reg_alloc.hpp"
#include "jit/ir/block.hpp"

namespace jitterbug::jit::x64 {

using Xbyak::Reg64;

// Offsets of CpuContext members, for addressing from R15.
namespace ctx_offset {
constexpr std::size_t kState = offsetof(cpu::CpuContext, state);
constexpr std::size_t kGpr = kState + offsetof(cpu::CpuState, gpr);
constexpr std::size_t kEip = kState + offsetof(cpu::CpuState, eip);
constexpr std::size_t kFlagsStatus = kState + offsetof(cpu::CpuState, flags_status);
constexpr std::size_t kFlagsControl = kState + offsetof(cpu::CpuState, flags_control);
constexpr std::size_t kSeg = kState + offsetof(cpu::CpuState, seg);
constexpr std::size_t kSegSize = sizeof(cpu::SegmentRegister);
constexpr std::size_t kSegBase = offsetof(cpu::SegmentRegister, base);
constexpr std::size_t kSegSelector = offsetof(cpu::SegmentRegister, selector);
constexpr std::size_t kSegReadLimit = offsetof(cpu::CpuContext, seg_read_limit);
constexpr std::size_t kSegWriteLimit = offsetof(cpu::CpuContext, seg_write_limit);
constexpr std::size_t kAbort = offsetof(cpu::CpuContext, abort_instruction);
constexpr std::size_t kTlb = offsetof(cpu::CpuContext, tlb);
constexpr std::size_t kScratch = offsetof(cpu::CpuContext, jit_scratch);
constexpr std::size_t kWindowBase = offsetof(cpu::CpuContext, window_base);
constexpr std::size_t kSavedGsBase = offsetof(cpu::CpuContext, saved_gs_base);
constexpr std::size_t kInstructions = offsetof(cpu::CpuContext, instructions);
constexpr std::size_t kEntryLimit = offsetof(cpu::CpuContext, entry_limit);
constexpr std::size_t kExitSlot = offsetof(cpu::CpuContext, exit_slot);
constexpr std::size_t kCurrentBlock = offsetof(cpu::CpuContext, current_block);
constexpr std::size_t kLazyA = offsetof(cpu::CpuContext, lazy_flags_a);
constexpr std::size_t kLazyB = offsetof(cpu::CpuContext, lazy_flags_b);
constexpr std::size_t kLazyOp = offsetof(cpu::CpuContext, lazy_flags_op);
constexpr std::size_t kLazyC = offsetof(cpu::CpuContext, lazy_flags_c);
constexpr std::size_t kJumpCache = offsetof(cpu::CpuContext, jump_cache);
}  // namespace ctx_offset

// A linkable block exit is a jump with a 32-bit displacement, patched to
// the successor: JMP (E9 rel32) or Jcc (0F 8x rel32).
inline std::size_t link_displacement_offset(const std::uint8_t* slot) {
    return slot[0] == 0xE9 ? 1 : 2;
}

// Deferred status flags (CpuContext::lazy_flags_op): the operation whose
// flags they are, times four, plus the operand size (0: 8, 1: 16, 2: 32
// bits). The operands are in lazy_flags_a and lazy_flags_b:
//   Add, Sub: a = the result, b = the second operand (the first is
//             recovered by the inverse operation, then the op re-runs);
//   Cmp, Test: a and b as they were; Logic (AND, OR, XOR): a = the result;
//   Inc, Dec: a = the result, bit 0 of b = CF (which they keep);
//   Shl, Shr, Sar (by a count of 1-31): a = the operand, b = the count
//             (only with sink-records: the operand must outlive the op);
//   Adc, Sbb: a = the result, b = the second operand, lazy_flags_c = the
//             carry in (stored right before the op).
namespace lazy {
enum Op : unsigned {
    kNone = 0,
    kAdd = 1,
    kSub = 2,
    kCmp = 3,
    kTest = 4,
    kLogic = 5,
    kInc = 6,
    kDec = 7,
    kShl = 8,
    kShr = 9,
    kSar = 10,
    kAdc = 11,
    kSbb = 12,
    kLast = kSbb
};
constexpr unsigned kKinds = (kLast + 1) * 4;
constexpr bool is_shift(unsigned op) { return op >= kShl && op <= kSar; }
constexpr unsigned kind(Op op, unsigned bits) {
    return op * 4 + (bits == 8 ? 0 : bits == 16 ? 1 : 2);
}
constexpr unsigned bits_of(unsigned kind) { return 8u << (kind % 4); }
// Re-runs the recorded operation of `kind` in `t`: the host's flags are
// then the deferred ones.
void rerun(Xbyak::CodeGenerator& c, const Reg64& t, unsigned kind);
// SHL, SHR or SAR (`op`: kShl, kShr, kSar) of `r` by `amount` (a count or CL).
template <typename A>
void shift(Xbyak::CodeGenerator& c, unsigned op, const Xbyak::Reg& r, const A& amount) {
    if (op == kShl) {
        c.shl(r, amount);
    } else if (op == kShr) {
        c.shr(r, amount);
    } else {
        c.sar(r, amount);
    }
}
}  // namespace lazy

// A shift or rotate by the immediate count `n` (masked) through `op(amount)`;
// with `last_step`, a count above 1 runs as n - 1 and then 1, so that OF (and
// CF past the operand size) are those of a step by 1, which the SDM defines
// as ir::eval's model has them for every count.
template <typename F>
void by_last_step(unsigned n, bool last_step, F&& op) {
    if (last_step && n > 1) {
        op(n - 1);
        op(1);
    } else if (n != 0) {
        op(n);
    }
}

// Ops whose captured flags get AF set: ir::eval's model of SHL/SHR/SAR,
// which leave it undefined.
constexpr bool sets_af_by_model(ir::Opcode op) {
    using ir::Opcode;
    return op == Opcode::Shl8 || op == Opcode::Shl16 || op == Opcode::Shl32 || op == Opcode::Shr8 ||
           op == Opcode::Shr16 || op == Opcode::Shr32 || op == Opcode::Sar8 ||
           op == Opcode::Sar16 || op == Opcode::Sar32;
}
// Ops whose flags, when read, are an image with the model's values (made by
// double_shift or call_reference), never the host's RFLAGS as they are.
constexpr bool flags_by_reference(ir::Opcode op) {
    using ir::Opcode;
    return op == Opcode::Shld16 || op == Opcode::Shld32 || op == Opcode::Shrd16 ||
           op == Opcode::Shrd32;
}

// A guest memory access op's size in bytes (0: not an access) and direction.
struct MemoryAccess {
    unsigned size;
    bool write;
};
MemoryAccess memory_access(ir::Opcode op);

// Shared code every block uses, emitted once with the trampoline.
struct SharedCode {
    // Leaves translated code: stores the pinned guest registers and the
    // instruction count into the context, returns to the dispatcher with
    // the BlockExit in EAX.
    const void* epilogue = nullptr;
    // Called with the runtime function in RAX and its arguments in ESI, EDX,
    // ECX: stores the pinned guest registers (CpuState is current only
    // outside translated code and in runtime calls), sets RDI to the context
    // and tail-jumps to the function, which returns to the caller.
    const void* runtime_call = nullptr;
    // Computes deferred flags into state.flags_status and clears
    // lazy_flags_op; preserves every register but not the host's flags.
    const void* materialize_flags = nullptr;
    bool bmi2 = false;  // the host has BMI2 (RORX)
    // mode::kFastmem blocks address guest memory as GS:[a] (GS based at
    // the mmu::GuestWindow): the host has user-mode FSGSBASE and this
    // buffer's faults reach FaultSites.
    bool direct_memory = false;
};

// A self-looping block's deferred flag record as its back edge leaves it:
// the op, and guest registers (their pinned registers) or a constant for
// the operands. The block's steady-state copy starts with it deferred.
struct LoopRecord {
    unsigned kind = 0;
    int a_guest = -1;
    int b_guest = -1;  // -1: b_imm when has_b_imm, else none
    std::uint32_t b_imm = 0;
    bool has_b_imm = false;
    bool operator==(const LoopRecord&) const = default;
};

class BlockCompiler {
  public:
    // `tb` is the translation block the code is for (runtime calls record
    // it as the running block).
    // `steady`: compile the block's steady-state copy, entered (only) by
    // its own back edge with that record deferred in guest registers.
    BlockCompiler(Xbyak::CodeGenerator& code, const ir::Block& block, const TranslationBlock& tb,
                  const SharedCode& shared, const BackendOptions& options,
                  const LoopRecord* steady = nullptr);
    void compile();
    // After compile() of a block that jumps back to its own start with its
    // flags deferred in guest registers: that record, and the back edge's
    // patchable JMP rel32, which leads to code that stores the record and
    // links as usual until it is pointed at a steady-state copy.
    std::optional<LoopRecord> loop_record() const { return loop_record_; }
    const std::uint8_t* loop_slot() const { return loop_slot_; }
    // After compile(): each direct access (mode::kFastmem) and where a fault
    // there resumes (its slow path).
    struct FaultSite {
        const std::uint8_t* access;
        const std::uint8_t* resume;
    };
    std::vector<FaultSite> fault_sites() const;

  private:
#define OPCODE(name, ...) void emit_##name(ir::InstRef i, const ir::Inst& inst);
#include "jit/ir/opcodes.inc"
#undef OPCODE

    void emit_terminal();
    // A Dispatch exit that first looks the new EIP up in the jump cache.
    void emit_dispatch();
    // Whether this block's indirect exit may use the jump cache: nothing in
    // it can change CS, the mode or anything else the dispatcher must see.
    bool may_use_jump_cache() const;
    // Leaves the block through the epilogue with `reason` in EAX.
    void emit_exit(ExitReason reason);
    // Adds `n` to the retired-instruction count.
    void count_instructions(std::uint32_t n);
    // A linkable exit to `eip`: a jump that starts out pointing at a stub
    // which stores EIP and the jump's address and returns to the dispatcher.
    // With `cc` (an x86 condition code), the exit is a conditional jump
    // taken when cc holds.
    void emit_link(std::uint32_t eip, int cc = -1);
    // Leaves the block with EIP at the current instruction if the last runtime
    // call aborted it.
    void check_abort();
    Xbyak::Label& abort_label();
    // Runtime call with up to three 32-bit arguments already placed in ESI,
    // EDX, ECX; RDI is set to the context here.
    void call_runtime(const void* fn);
    // After a runtime call: the pinned guest registers the call clobbered
    // (or, when it may have written guest state, all of them) are reloaded
    // from CpuState.
    void reload_guests(bool all);
    // Called right after the host instruction of ALU op `producer`: its
    // flags are in the host's RFLAGS now; they are copied into the register
    // of its GetFlagsFromOp, if it has one.
    // With `kind` (lazy::kind) and its operands, the flags may instead be
    // left for later (see lazy_ok_): three stores instead of computing them.
    // `a_value` and `b_value` are the IR values in `a` and `b` (b_value
    // empty: the immediate `b_imm`).
    void capture_flags(ir::InstRef producer, unsigned kind = 0, const Reg64* a = nullptr,
                       const Reg64* b = nullptr, std::uint32_t b_imm = 0,
                       const ir::Value& a_value = {}, const ir::Value& b_value = {});
    // Before anything reads state.flags_status: computes deferred flags.
    // Changes the host's flags.
    void materialize_flags();
    // Before an INC/DEC whose flags are deferred: the guest's CF into the
    // host's CF (the host instruction keeps it, so its flags are then all
    // six of the guest's).
    void carry_into_host();
    // All six status flags were just stored to EFLAGS: no deferred record
    // may stand any more.
    void drop_deferred_flags();
    // Record sinking (options_.sink_records): a deferred record is not
    // stored at its producer but where something may read it — out of
    // line in the slow paths and side exits it has, inline at runtime
    // calls, EFLAGS reads and the block's end — or never, when the next
    // producer's replaces it first. Meanwhile the allocator keeps its
    // operands alive.
    struct Deferred {
        unsigned kind = 0;  // lazy::kind; 0: none
        ir::Value a;
        ir::Value b;  // empty: b_imm, when has_b_imm
        std::uint32_t b_imm = 0;
        bool has_b_imm = false;
        // A steady-state copy's incoming record: operands in these guest
        // registers (their pinned registers) instead of values (-1: not),
        // until the block reads that guest register (the value it gets
        // then stands for the operand: the register allocator keeps it
        // when the guest register is written).
        int a_guest = -1;
        int b_guest = -1;
        bool names_guests() const { return a_guest >= 0 || b_guest >= 0; }
    };
    // The steady-state copy's incoming record, if this is one.
    std::optional<LoopRecord> steady_;
    Xbyak::Label entry_;  // the block's first instruction (its entry check)
    std::optional<LoopRecord> loop_record_;
    const std::uint8_t* loop_slot_ = nullptr;
    // The record as the block leaves itself for its own start, if the
    // operands are guest registers (then it can be carried over).
    std::optional<LoopRecord> carried_record() const;
    // Before inst n: the guests it writes (a bit each).
    unsigned guests_written(std::size_t n) const;
    Deferred deferred_;
    // Where the deferred record's operands are at one point of the code,
    // for out-of-line code emitted later.
    struct RecordOperand {
        enum class Kind : std::uint8_t { None, Reg, Slot, Imm } kind = Kind::None;
        int reg = 0;   // Reg: the host register
        int slot = 0;  // Slot: the spill slot's offset from RSP
        std::uint32_t imm = 0;
    };
    struct RecordPlan {
        unsigned kind = 0;  // 0: nothing to store
        RecordOperand a, b;
    };
    RecordPlan record_plan() const;
    RecordOperand operand_now(const ir::Value& v) const;
    // Stores the record of `plan`; changes no register and no flag.
    void store_plan(const RecordPlan& plan);
    // Stores the deferred record now (inline) and lets its operands go.
    void store_record();
    // Lets the deferred record go unstored (replaced, or the flags written).
    void forget_record();
    // The host's flags become the deferred flags: the record's op re-runs,
    // from the operands' registers when it is not stored yet.
    void rerun_record(unsigned kind);

    // Emits SETcc for condition `cc` into `dst8` from the host's flags.
    void setcc_from_host(unsigned cc, const Xbyak::Reg8& dst8);

    bool try_lea(ir::InstRef i, const ir::Inst& inst, bool subtract);
    bool try_compare(ir::InstRef i, const ir::Inst& inst, unsigned bits, bool test);
    template <typename F>
    void binary_alu(ir::InstRef i, const ir::Inst& inst, unsigned bits, lazy::Op lazy_op, F&& op);
    template <typename F>
    void unary_alu(ir::InstRef i, const ir::Inst& inst, unsigned bits, lazy::Op lazy_op, F&& op);
    void shift(ir::InstRef i, const ir::Inst& inst, unsigned bits, int kind);
    // A shift or rotate by CL with its flags read: by CL - 1, then by 1 (no
    // step at all for a count of 0); `carry` (RCL/RCR) goes into CF first.
    template <typename F>
    void split_by_cl(const Reg64* carry, F&& op);
    void double_shift(ir::InstRef i, const ir::Inst& inst, unsigned bits, bool left);
    // Whether SHLD/SHRD `i` runs as the host instruction (else by its
    // reference: see double_shift).
    bool host_double_shift_exact(ir::InstRef i, const ir::Inst& inst) const;
    // Computes `i` by the portable reference `fn` (ir::eval's model, for the
    // cases where the host instruction's result or flags are the vendor's
    // own): fn(a, b, c) returns the result and, in bits 32-63, the flags,
    // which define `i`'s GetFlagsFromOp when it has one. Up to three
    // arguments; the host's flags are lost.
    using ReferenceFn = std::uint64_t (*)(std::uint32_t, std::uint32_t, std::uint32_t);
    void call_reference(ir::InstRef i, ReferenceFn fn, const std::vector<ir::Value>& args);
    void with_carry(ir::InstRef i, const ir::Inst& inst, unsigned bits, bool adc);
    void multiply(ir::InstRef i, const ir::Inst& inst, unsigned bits, bool is_signed);
    void divide32(const ir::Inst& inst, bool is_signed);
    void set_guest(unsigned g, const ir::Value& v, unsigned bits);
    // Before an access: leaves its host-address addend in `host` (the
    // access is [host + addr]) or jumps to `slow`. `value`: a write's value,
    // which a call on the way must keep.
    void begin_access(ir::InstRef i, const Reg64& addr, const Reg64* value, const Reg64& index,
                      const Reg64& host, unsigned size, bool write, Xbyak::Label* slow);
    // At access i, the first of its group since the block began or a helper
    // ran: checks the group's page and keeps its addend in the group's slot.
    void group_check(ir::InstRef i, const Reg64& addr, const Reg64* value, const Reg64& index,
                     const Reg64& host);
    // After a runtime call: restores `live`, reloads the guest registers the
    // call clobbered (or all) and leaves the block if the call aborted the
    // instruction.
    void return_from_runtime(const std::vector<Reg64>& live, bool reload_all, Xbyak::Label* abort);
    // `live` and the access's own operands (which may be temporaries
    // holding no value, e.g. an immediate address): what a call in its
    // slow path must keep.
    static std::vector<Reg64> kept_around_call(std::vector<Reg64> live, const Reg64& addr,
                                               const Reg64* value);
    // Analyses of the block before any code is emitted.
    void find_flag_producers();
    void find_fused_checks();
    void find_in_place_targets();
    void find_lazy_flags();
    void find_carries();
    void find_low_halves();
    void find_scaled_indexes();
    void find_folded_addresses();
    void find_page_groups();
    void read_mem(ir::InstRef i, const ir::Inst& inst, unsigned size);
    void write_mem(ir::InstRef i, const ir::Inst& inst, unsigned size);
    // In the slow path of `access`: its fused segment check, if it has one.
    void fused_check_slow(ir::InstRef access, const Reg64& addr, const Reg64* value,
                          const std::vector<Reg64>& live, Xbyak::Label* abort);

    Xbyak::Address gpr_addr(unsigned r, unsigned byte_offset = 0);
    Xbyak::Address seg_addr(unsigned s, std::size_t field);

    Xbyak::CodeGenerator& c;
    const ir::Block& block_;
    const TranslationBlock& tb_;
    SharedCode shared_;
    BackendOptions options_;
    bool jump_cache_exit_ = false;  // may_use_jump_cache(), for a Dispatch terminal
    RegAlloc ra_;
    std::vector<ir::InstRef> flags_of_;  // producer -> its GetFlagsFromOp, or kNoInst
    // Per producer: something other than SetArithFlags reads its flags (a
    // condition, a select, an image): they may be taken from the host's.
    std::vector<bool> tested_;
    // Per instruction, the guest register its result is written to right
    // away (nothing between but flag handling), or -1: such an ALU op works
    // in that guest register's pinned host register.
    std::vector<int> target_gpr_;
    // Per ALU op: its flags are only written to EFLAGS in full (and perhaps
    // tested while the host's flags still hold them), so they may be
    // deferred; lazy_flags_ marks the GetFlagsFromOp values that were.
    std::vector<bool> lazy_ok_;
    std::vector<bool> lazy_flags_;
    // Per GetFlagsFromOp: read only by conditions while the host's flags
    // still hold them (the carry of an ADC right after an ADD, say): no
    // image of them is made at all.
    std::vector<bool> host_only_;
    // Per deferred GetFlagsFromOp: its lazy::kind. A TestCond on them after
    // the host's flags have changed re-runs the operation from the record,
    // which stays until the next producer's.
    std::vector<std::uint8_t> lazy_kind_;
    // The ALU op whose flags are, all six, the guest's status flags now (its
    // SetArithFlags was the last write), or kNoInst.
    ir::InstRef flags_owner_ = ir::kNoInst;
    // TestCond(b) values read only as the carry of the ADC/SBB right after
    // them: the host's CF is set instead (carry_in_cf_), and that ADC/SBB
    // uses it as it is.
    // Whether a deferred-flags record may be pending at this point of the
    // block (always at its start: a predecessor may have left one).
    bool lazy_pending_ = true;
    std::vector<bool> carry_only_;
    // Widening IMUL32 results of which only the low half (and the flags) is
    // read: a two- or three-operand host IMUL, no RDX:RAX.
    std::vector<bool> low_half_only_;
    // 8- and 16-bit loads whose register holds the value zero-extended to
    // 64 bits (on both paths): a ZeroExtend of them from their width is free.
    std::vector<bool> zero_extended_;
    // Widening 32-bit MUL/IMUL products read only through Truncate64To32 and
    // High32Of64: those are defined in EAX and EDX at the multiply, the
    // 64-bit value never assembled. Per such product, its two halves' insts
    // (kNoInst: none).
    std::vector<std::pair<ir::InstRef, ir::InstRef>> split_;
    // SHL by 1-3 read only by the flag-free 32-bit ADD right after it: no
    // code of its own, the ADD's LEA scales the index.
    std::vector<bool> scaled_;
    // Direct accesses (fastmem_): a flag-free ADD (of a constant, of a
    // value, of a value SHL'd by 1-3) or SUB of a constant read by nothing
    // but the access right after it (and its fused check) has no code of
    // its own: the access's operand adds up the address, in 32 bits
    // (GS:[base32 + index32 * scale + disp], an address-size prefix), as
    // the guest does. Its slow path computes it into a temporary.
    std::vector<bool> folded_;
    // A folded address that a write's instruction also puts into guest
    // register late_gpr_ right after the access (a PUSH's ESP - 4): the
    // write computes it there once the access is done (-1: none).
    std::vector<int> late_gpr_;
    std::vector<bool> carry_in_cf_;
    // In flat mode, a CheckSegment of DS/ES/SS right before the access it
    // guards is done in that access's slow path instead (a TLB hit proves
    // the access does not wrap past 4 GiB, all such a check can find):
    // per access, its check, or kNoInst.
    std::vector<ir::InstRef> fused_check_;
    // Page groups (flat mode): accesses at constant distances from one
    // value, all within 4 KiB of each other. The first access checks that
    // the whole span is in one page the TLB maps for every kind of access
    // the group makes, and keeps that page's addend in a frame slot; the
    // others then use it without a lookup. The addend stays valid across
    // the slow paths of other accesses (they change no mapping:
    // mmu::Mmu::mapping_epoch) but not across helpers, after which the
    // group's next access checks again. A check that fails fills the TLB
    // entry and tries again; when the page cannot take the fast path, the
    // block leaves at that instruction and is translated again without
    // page groups (CpuContext::deoptimize_block).
    struct PageGroup {
        std::int32_t lo = 0;  // lowest and highest byte, relative to the first access
        std::int32_t hi = 0;
        bool reads = false;
        bool writes = false;
        int slot = 0;         // frame offset of the addend (a CheckSegment's unused slot)
        bool active = false;  // checked, and no helper has run since
    };
    std::vector<PageGroup> groups_;
    // Direct accesses (mode::kFastmem): GS:[addr].
    bool fastmem_ = false;
    // Where the TLB set of the block's privilege starts in CpuContext.
    std::size_t tlb_base_ = ctx_offset::kTlb;
    std::vector<std::pair<const std::uint8_t*, Xbyak::Label*>> direct_accesses_;
    // An access's address: in `reg`, or (folded_) the sum `sum` of
    // 32-bit registers, which the slow path puts into `reg` first.
    struct GuestAddress {
        Reg64 reg;
        bool folded = false;
        Xbyak::RegExp sum;
    };
    // The operand of an access at `addr`: direct, or through the TLB addend in `host`.
    Xbyak::RegExp guest_memory(const GuestAddress& addr, const Reg64& host) const;
    GuestAddress use_address(const ir::Value& a);
    void address_into_register(const GuestAddress& a);
    // After a write's access: its late_gpr_ address into that register.
    void define_late_address(const ir::Value& a, const GuestAddress& address);
    std::vector<int> group_of_;  // per access, its group or -1
    // Per grouped access, its address's distance from the group's first.
    std::vector<std::int64_t> group_offset_;
    // Store forwarding (options_.store_forwarding): a 32-bit read of a group
    // at the offset a 32-bit write of the same group stored to before, with
    // no other write or helper between that could overlap, takes the
    // written value (the write went to the group's page: plain RAM). Per read, that
    // write, or kNoInst; per write, how many reads it forwards to (its
    // value is held until they are done).
    std::vector<ir::InstRef> forwarded_from_;
    std::vector<std::uint32_t> forwards_;
    void find_forwarded_stores();
    bool flat_segment(unsigned seg) const;
    // The IR instruction whose flags the host's RFLAGS still holds (nothing
    // emitted since has changed them), or kNoInst.
    ir::InstRef host_flags_ = ir::kNoInst;
    ir::InstRef host_flags_before_ = ir::kNoInst;  // host_flags_ before the current instruction
    // The block's last instruction set EIP from a register and left a copy
    // in EAX for the jump-cache lookup of its Dispatch exit.
    bool eip_in_eax_ = false;

    // A TestCond read only by the jump right after it (the branch terminal,
    // when it is the block's last instruction, or a side exit) is not
    // materialised: the jump is a JCC on the host's flags (which must still
    // hold its producer's) with this condition.
    ir::InstRef branch_cond_ = ir::kNoInst;
    unsigned branch_cc_ = 0;
    ir::InstRef branch_producer_ = ir::kNoInst;
    // Whether TestCond `i` is read only by such a jump.
    bool read_by_jump_only(ir::InstRef i) const;
    // The x86 condition code of a jump taken when `cond` holds: the fused
    // TestCond's, or JNZ after testing `cond`'s register.
    unsigned condition_code(const ir::Value& cond);
    // Emits Jcc for x86 condition `cc` to `target`.
    void jcc(unsigned cc, const Xbyak::Label& target);

    std::uint32_t started_ = 0;  // BeginInstruction markers passed
    std::uint32_t insn_eip_ = 0;
    struct AbortExit {
        Xbyak::Label label;
        std::uint32_t eip = 0;
    };
    std::map<std::uint32_t, AbortExit> abort_exits_;  // by instruction index
    std::vector<std::function<void()>> slow_paths_;
    std::vector<std::function<void()>> link_stubs_;
    std::deque<Xbyak::Label> slow_labels_;  // stable addresses for the slow paths' labels
};

// The register of `r` at width `bits` (8, 16, 32 or 64).
inline Xbyak::Reg sized(const Reg64& r, unsigned bits) {
    switch (bits) {
        case 8:
            return r.cvt8();
        case 16:
            return r.cvt16();
        case 32:
            return r.cvt32();
        default:
            return r;
    }
}

}  // namespace jitterbug::jit::x64
