// CpuContext: everything translated code touches while it runs — the
// architectural state, the software TLB, the event a helper raised, and the
// exit request other threads and devices use. Generated code addresses its
// members at fixed offsets from one host register.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cpu/breakpoints.hpp"
#include "cpu/cpu_state.hpp"
#include "cpu/event.hpp"
#include "mmu/tlb.hpp"

namespace jitterbug::jit {
struct TranslationBlock;
}

namespace jitterbug::cpu {

class Cpu;

// Reasons to leave the translated code at the next block boundary.
namespace exit_request {
constexpr std::uint32_t kStop = 1u << 0;       // run() should return
constexpr std::uint32_t kInterrupt = 1u << 1;  // an interrupt line may need service
}  // namespace exit_request

// The jump cache: where translated code finds the block an indirect jump
// or return leads to without leaving for the dispatcher. Indexed by the
// low bits of EIP; an entry is valid for its exact location.
struct JumpCacheEntry {
    std::uint32_t eip = 0;
    std::uint32_t cs_base = 0;
    std::uint32_t mode = ~std::uint32_t{0};  // no location has this mode: empty
    std::uint32_t unused = 0;
    const void* code = nullptr;
    std::uint64_t padding = 0;
};
constexpr std::size_t kJumpCacheEntries = 2048;
static_assert(sizeof(JumpCacheEntry) == 32);

struct CpuContext {
    CpuState state;

    // Per segment register, the largest offset of an access's last byte that
    // passes the inline limit check, for reads and for writes; -1 when every
    // access must take the full check (expand-down, unusable, read-only,
    // ...). Recomputed by Cpu::segment_loaded() whenever a descriptor cache
    // changes.
    std::array<std::int64_t, kNumSegRegs> seg_read_limit{};
    std::array<std::int64_t, kNumSegRegs> seg_write_limit{};

    // The event (exception, INT n) raised by the block running now.
    Event event;
    // Set by a runtime call that cannot let the current guest instruction
    // complete: it raised `event`, or (retry_current_instruction) it found the
    // block's own code overwritten. The backend leaves the block at once with
    // EIP at that instruction. Backends test this after every call that may
    // fault.
    std::uint8_t abort_instruction = 0;

    // Status flags translated code has not computed yet: while
    // lazy_flags_op is not 0, state.flags_status is stale and the flags are
    // those of re-running the host operation it names on lazy_flags_a and
    // lazy_flags_b (and the carry in lazy_flags_c for ADC/SBB; jit/backend/x64:
    // namespace lazy). Only ever non-zero
    // inside translated code: every way out of it (runtime calls, exits)
    // computes them first.
    std::uint32_t lazy_flags_a = 0;
    std::uint32_t lazy_flags_b = 0;
    std::uint8_t lazy_flags_op = 0;
    std::uint8_t lazy_flags_c = 0;

    // Set from any thread or by devices; checked at every block boundary.
    std::atomic<std::uint32_t> exit_request{0};

    // Guest instructions retired, counted by the blocks themselves; a block
    // about to start leaves instead when the count has reached the limit.
    std::uint64_t instructions = 0;
    std::uint64_t instruction_limit = ~std::uint64_t{0};
    // What translated code compares the count with at block entry, its only
    // check there: instruction_limit (lower until the guest window is due,
    // CpuOptions::direct_memory_after), or 0 while an exit is requested (a
    // requester sets exit_request first, then this; Cpu::arm_entry_limit
    // raises it only with a re-check, so no request is lost).
    std::atomic<std::uint64_t> entry_limit{~std::uint64_t{0}};
    // The patchable jump of the block exit that returned to the dispatcher
    // for want of a linked successor (0 for other exits).
    std::uintptr_t exit_slot = 0;

    mmu::Tlb tlb;
    // The TLB set of the current privilege (user at CPL 3), kept by
    // sync_segment_checks() with the CPL.
    mmu::TlbSet tlb_set = mmu::TlbSet::Supervisor;
    std::array<JumpCacheEntry, kJumpCacheEntries> jump_cache{};

    // Interrupts are held off until after the next instruction (MOV SS, POP SS,
    // STI; SDM Vol. 3A, 6.8.3).
    bool interrupt_shadow = false;
    // The instruction that just ran loaded SS: its debug traps wait for the
    // end of the next one (SDM Vol. 3A, 6.8.3).
    bool debug_shadow = false;
    // An event to deliver before the next instruction, raised by one that
    // completed: a fault in the new task after a task switch's commit point
    // (SDM Vol. 3A, 7.3), the debug trap of a task's T bit or of single-step.
    Event pending_event;
    // The breakpoints DR7 enables (kept by the run loop, Cpu::sync_breakpoints),
    // and the DR6 B0-B3 bits of the data and I/O breakpoints the running
    // instruction's accesses met: its #DB trap follows it.
    Breakpoints breakpoints;
    std::uint32_t breakpoint_hits = 0;

    // The block being executed (for self-modifying-code detection).
    const jit::TranslationBlock* current_block = nullptr;
    // Set by a store that invalidated the current block: the block exits at
    // the storing instruction, which is re-executed on its own.
    bool retry_current_instruction = false;
    // Set by a page group's check that could not pass (jit/backend/x64): the
    // block left at the instruction making the group's first access, to be
    // translated again without page groups.
    const jit::TranslationBlock* deoptimize_block = nullptr;
    // Set with abort_instruction by a runtime call that found the emulator
    // itself at fault: the run ends with an internal error saying this.
    const char* internal_error = nullptr;

    // The x87's error signals of a PC run with CR0.NE = 0 (SDM Vol. 1,
    // D.2.1): FERR#, the output a waiting x87 instruction asserts when it
    // finds an unmasked exception pending (a PC routes it to IRQ 13), and
    // IGNNE#, the input that lets such an instruction go on regardless.
    // Without IGNNE# the instruction freezes (freeze_for_interrupt, with
    // abort_instruction): the CPU waits for an interrupt, whose handler
    // returns to the x87 instruction.
    bool ferr = false;
    bool ignne = false;
    bool freeze_for_interrupt = false;

    Cpu* cpu = nullptr;

    // The JIT's guest window (mmu::GuestWindow), 0 until made: translated
    // code runs with GS based there, and the base GS had outside it.
    std::uintptr_t window_base = 0;
    std::uintptr_t saved_gs_base = 0;

    // Scratch words for the JIT's out-of-line paths.
    std::array<std::uint64_t, 4> jit_scratch{};
};

}  // namespace jitterbug::cpu
