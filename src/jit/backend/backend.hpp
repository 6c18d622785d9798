// Backend: turns IR blocks into something executable and executes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "jit/block_cache.hpp"
#include "jit/ir/block.hpp"

namespace jitterbug::cpu {
struct CpuContext;
}

namespace jitterbug::jit {

enum class ExitReason : std::uint32_t {
    Next,   // the block ran to its end; EIP holds the next instruction
    Abort,  // an instruction aborted (event raised or retry); EIP holds it
    Halt,   // HLT ran; EIP holds the next instruction
};

struct BlockExit {
    ExitReason reason = ExitReason::Next;
};

// Switches for a backend's own optimisations (see jitterbug::Optimizations).
struct BackendOptions {
    bool jump_cache = true;  // indirect exits look their block up in CpuContext::jump_cache
    bool host_flags = true;
    bool in_place_alu = true;
    bool inline_tlb = true;
    bool inline_divide = true;
    bool lazy_flags = true;
    bool sink_records = true;
    bool page_groups = true;
    bool store_forwarding = true;
    bool fastmem = true;        // blocks in mode::kFastmem access guest memory directly
    bool address_modes = true;  // a direct access's address computation in its operand
    // A block that jumps back to itself loops into a second copy of itself
    // that keeps the flags' record in registers across the back edge.
    bool loop_copies = true;
};

class Backend {
  public:
    virtual ~Backend() = default;
    virtual std::string_view name() const = 0;
    // Applies to blocks compiled from now on.
    virtual void set_options(const BackendOptions& options) { (void)options; }
    // Whether blocks in mode::kFastmem can access guest memory directly
    // through CpuContext::window_base.
    virtual bool supports_direct_memory() const { return false; }
    // Direct accesses that faulted to their slow path so far.
    virtual std::uint64_t direct_access_faults() const { return 0; }
    // Compiles `block` into `tb`. Returns false when the code space is
    // exhausted; the caller then flushes everything and tries again.
    virtual bool compile(const ir::Block& block, TranslationBlock& tb) = 0;
    virtual BlockExit execute(cpu::CpuContext& ctx, const TranslationBlock& tb) = 0;
    // Discards all compiled code (the block cache is cleared with it).
    virtual void flush() = 0;

    // Block chaining. link() makes the exit whose jump is at `slot` go
    // straight to `target` and returns what the jump pointed at before (to
    // restore with unlink()); backends without chaining return 0.
    virtual std::uintptr_t link(std::uintptr_t slot, const TranslationBlock& target) {
        (void)slot;
        (void)target;
        return 0;
    }
    virtual void unlink(std::uintptr_t slot, std::uintptr_t original) {
        (void)slot;
        (void)original;
    }
};

std::unique_ptr<Backend> make_interpreter_backend();
#ifdef JITTERBUG_HAVE_JIT
std::unique_ptr<Backend> make_x64_backend();
#endif

}  // namespace jitterbug::jit
