// Cpu: one x86 processor — its context, its view of memory and I/O, the
// translation-block cache and a backend — and the execution loop:
// deliver pending events -> find or translate the block at CS:EIP -> run
// it -> handle why it stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "cpu/cpu_context.hpp"
#include "cpu/translator.hpp"
#include "jit/backend/backend.hpp"
#include "jit/block_cache.hpp"
#include "jit/passes/passes.hpp"
#include "mmu/guest_window.hpp"
#include "mmu/mmu.hpp"

namespace jitterbug::devices {
class PortIoBus;
}

namespace jitterbug::cpu {

enum class BackendKind { Jit, Interpreter };

enum class CpuExit {
    Stopped,              // exit_request::kStop was set
    Halted,               // HLT with EFLAGS.IF = 0: nothing can wake the CPU
    WaitingForInterrupt,  // HLT with EFLAGS.IF = 1
    Shutdown,             // triple fault
    InstructionLimit,     // the instruction budget given to run() is spent
    Event,                // an exception or interrupt was raised and not delivered
                          // (set_stop_on_events); see last_event()
    InternalError,        // a bug in the emulator; see error()
};

// Switches for the translation features, each on by default; turning one
// off isolates it when hunting a bug.
struct CpuOptions {
    bool chain_blocks = true;   // link block exits straight to their successors
    bool flat_segments = true;  // translate for flat DS/ES/SS when they are (mode::kFlat)
    bool bulk_strings = true;   // REP MOVS/STOS over plain RAM in bulk
    bool superblocks = true;    // blocks go on past conditional jumps (side exits)
    bool follow_jumps = true;   // blocks go on at the target of a direct JMP/CALL (same page)
    jit::PassOptions passes;    // the IR optimisation passes
    jit::BackendOptions backend;
    // Guest instructions run before the JIT's direct memory accesses are
    // set up (reserving 4 GiB of host address space and mapping RAM there
    // costs more than a short run gains).
    std::uint64_t direct_memory_after = 100'000;
    // Tiers (JIT backend only): a block runs this many times in the IR
    // interpreter before the JIT compiles it, so that code that runs once
    // or twice (most of a kernel's boot) costs no compilation; 0 compiles
    // every block at once.
    unsigned jit_threshold = 0;
};

struct CpuStatistics {
    std::uint64_t instructions = 0;
    std::uint64_t blocks_translated = 0;
    // Blocks the JIT compiled (with tiers: the ones that ran often enough).
    std::uint64_t blocks_compiled = 0;
    std::uint64_t code_flushes = 0;
    std::uint64_t events_delivered = 0;  // exceptions and interrupts
    // Blocks translated again without page groups (a group's page could not
    // take the fast path: jit/backend/x64).
    std::uint64_t page_group_deopts = 0;
    // Blocks made again without the host window (Cpu::kFastmemFaultLimit).
    std::uint64_t fastmem_deopts = 0;
    // Invalidated blocks taken back when their bytes were restored.
    std::uint64_t blocks_revived = 0;
    // Direct memory accesses (mode::kFastmem) that faulted to their slow
    // path: MMIO, ROM, holes, writes to pages holding translated code.
    std::uint64_t direct_access_faults = 0;
};

class Cpu final : public mmu::CodeWriteObserver {
  public:
    // Faults in the host window after which a block is made again without
    // it (CpuStatistics::fastmem_deopts).
    static constexpr std::uint32_t kFastmemFaultLimit = 64;

    Cpu(mmu::PhysicalMemory& memory, devices::PortIoBus& io, BackendKind backend);
    ~Cpu() override;
    Cpu(const Cpu&) = delete;
    Cpu& operator=(const Cpu&) = delete;

    CpuContext& context() { return *ctx_; }
    const CpuContext& context() const { return *ctx_; }
    CpuState& state() { return ctx_->state; }
    const CpuState& state() const { return ctx_->state; }
    mmu::Mmu& mmu() { return mmu_; }
    devices::PortIoBus& io() { return io_; }
    CpuStatistics statistics() const;
    const std::string& error() const { return error_; }
    // Whether translated code may access guest memory directly (the JIT,
    // its GuestWindow made and holding every RAM region, not turned off):
    // when the A20 gate is on and no write log is kept (mode::kFastmem).
    bool direct_memory() const { return fastmem_ && options_.backend.fastmem; }
    bool halted() const { return halted_; }
    // The last exception or interrupt delivered (or whose delivery shut the CPU down).
    const Event& last_event() const { return last_event_; }

    const CpuOptions& options() const { return options_; }
    // New options apply to everything translated from now on: what was
    // translated before is dropped.
    void set_options(const CpuOptions& options);

    // Processor RESET (SDM Vol. 3A, 9.1).
    void reset();
    // Installs a whole new state (loaders, tests); flushes the TLB.
    void set_state(const CpuState& state);
    // Runs until one of the CpuExit conditions. With a budget, returns
    // InstructionLimit at the first block boundary once at least
    // `max_instructions` more instructions have retired; each delivered
    // exception or interrupt counts as one, so that a fault loop ends too.
    CpuExit run(std::uint64_t max_instructions = ~std::uint64_t{0});
    // Makes run() return at the next block boundary. Thread-safe.
    void request_stop();

    // With `stop`, run() returns CpuExit::Event instead of delivering an
    // exception or software interrupt: the state is the one the handler
    // would have been entered with, before any push (EIP at the faulting
    // instruction; for traps and INT n, last_event().next_eip is the next).
    void set_stop_on_events(bool stop) { stop_on_events_ = stop; }

    // Every physical page the CPU writes from now on is appended to `log`
    // (null: stop); writes then always take the slow path.
    void set_write_log(std::vector<std::uint32_t>* log) { mmu_.set_write_log(log); }

    // Guest memory [phys, phys + size) was written other than by the CPU (a
    // loader, a test, DMA): translations of it are dropped.
    void invalidate_code(PhysicalAddress phys, std::uint64_t size);

    // Delivers an exception or interrupt now (SDM Vol. 3A, 6.12), escalating to
    // #DF and shutdown as the SDM prescribes.
    void deliver(const Event& event);

    // INTR, the maskable interrupt input (an interrupt controller's output),
    // and the acknowledge cycle that gives the vector. While INTR is high,
    // EFLAGS.IF set and no interrupt shadow, run() delivers the interrupt at
    // the next block boundary (a rising INTR brings running code back to the
    // dispatcher: the latency is one block) and wakes a HLT. Call from the
    // CPU's thread (devices run there).
    void set_intr(bool level);
    void set_interrupt_acknowledge(std::function<std::uint8_t()> acknowledge) {
        acknowledge_ = std::move(acknowledge);
    }

    // What the time-stamp counter counts (before IA32_TIME_STAMP_COUNTER's
    // offset): by default the guest instructions retired; a machine gives
    // its clock, so that the TSC keeps time with the timers also while the
    // CPU sleeps in HLT.
    void set_tsc_source(std::function<std::uint64_t()> source) { tsc_source_ = std::move(source); }
    std::uint64_t tsc_base() const { return tsc_source_ ? tsc_source_() : ctx_->instructions; }

    // FERR# (CpuContext::ferr): `listener` hears each change of its level
    // (a PC's chipset turns it into IRQ 13). IGNNE#: while asserted, x87
    // instructions ignore a pending error instead of freezing.
    void set_ferr_listener(std::function<void(bool)> listener) {
        ferr_listener_ = std::move(listener);
    }
    void set_ignne(bool asserted);
    bool ferr() const { return ctx_->ferr; }
    // Drives FERR# (the x87 unit, on finding or clearing its error).
    void set_ferr(bool asserted);

    // CodeWriteObserver
    bool is_code_page(std::uint32_t phys_page) const override;
    bool code_written(PhysicalAddress phys, unsigned size) override;

  private:
    LocationDescriptor current_location() const;
    jit::TranslationBlock* find_or_translate(const LocationDescriptor& loc, bool cached);
    // `tier0`: for the interpreter tier (CpuOptions::jit_threshold).
    std::unique_ptr<jit::TranslationBlock> translate(const LocationDescriptor& loc,
                                                     std::uint64_t phys, bool tier0);
    // The block `cold` (interpreted so far) translated again and compiled
    // by the JIT in its place; the new block.
    jit::TranslationBlock* promote(jit::TranslationBlock& cold);
    // Pages that newly hold translated code: stores to them take the slow
    // path (TLB) and fault in the window.
    void protect_code_pages(const std::vector<std::uint32_t>& pages);
    // Runs `tb` on the backend that made it.
    jit::BlockExit execute(const jit::TranslationBlock& tb);
    void compile(const ir::Block& block, jit::TranslationBlock& tb);
    void run_uncached_instruction();
    // Sets the limit translated code checks at block entry (see
    // CpuContext::entry_limit).
    void arm_entry_limit(std::uint64_t limit);
    // Drops all translated code: the backend's, the block cache, the jump cache.
    void flush_code();
    // Empties the jump-cache entry of one block.
    void forget_in_jump_cache(const jit::TranslationBlock& tb);
    // Brings CpuContext::breakpoints and the MMU's watchpoints in line with
    // DR0-DR3 and DR7 (a cheap test while none is enabled).
    void sync_breakpoints();
    // Before an instruction: raises the #DB fault of an instruction
    // breakpoint at CS:EIP, unless EFLAGS.RF (which it clears) lets the
    // instruction past. True when it raised one.
    bool instruction_breakpoint();
    // After an instruction that completed: raises its #DB trap before the
    // next one, for single-stepping when it began with EFLAGS.TF (`stepped`,
    // DR6.BS) and for the data and I/O breakpoints it met (DR6.B0-B3).
    void debug_trap_after(bool stepped);
    // DR6 bits of debug traps held over an instruction that loaded SS
    // (CpuContext::debug_shadow): they come after the next instruction, or
    // before the first instruction of the handler when that one is INT n.
    std::uint32_t held_dr6_ = 0;
    // Delivers `e`, or stops the run with it when events stop runs.
    void take_event(const Event& e);
    void handle_abort();
    // After an instruction that did not complete, having raised an event
    // of kind `raised` (None: it comes again): what becomes of the debug
    // traps held over it (held_dr6_).
    void held_debug_trap_after(EventKind raised);

    std::unique_ptr<CpuContext> ctx_;
    // The JIT's GuestWindow, made once the guest has run long enough for
    // it to pay (CpuOptions::direct_memory_after).
    std::unique_ptr<mmu::GuestWindow> window_;
    bool window_tried_ = false;
    // Every RAM region shows in the window: blocks may access it directly.
    bool fastmem_ = false;
    void make_window();
    mmu::Mmu mmu_;
    devices::PortIoBus& io_;
    Translator translator_;
    std::unique_ptr<jit::Backend> backend_;
    std::unique_ptr<jit::Backend> tier0_;  // the interpreter, beside the JIT
    jit::BlockCache cache_;
    CpuStatistics stats_;
    // Physical start addresses of blocks to translate without page groups.
    std::unordered_set<std::uint64_t> no_page_groups_;
    // Blocks (by physical start) made without the host window: their
    // stores kept faulting there (kFastmemFaultLimit), on pages that also
    // hold code.
    std::unordered_set<std::uint64_t> no_fastmem_;
    bool jump_cache_used_ = false;        // an entry was filled since the last flush
    std::uint64_t jump_cache_epoch_ = 0;  // the mapping epoch its entries belong to
    CpuOptions options_;
    bool halted_ = false;
    bool frozen_ = false;  // halted_ by an x87 instruction waiting on FERR#
    bool shutdown_ = false;
    bool stop_on_events_ = false;
    bool event_stop_ = false;  // run() returns CpuExit::Event at the next check
    Event last_event_;
    std::string error_;
    std::function<void(bool)> ferr_listener_;
    std::function<std::uint8_t()> acknowledge_;
    std::function<std::uint64_t()> tsc_source_;
    bool intr_ = false;
};

// The time-stamp counter of a CPU (RDTSC).
std::uint64_t time_stamp_counter(const Cpu& cpu);

}  // namespace jitterbug::cpu
