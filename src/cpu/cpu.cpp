#include "cpu/cpu.hpp"

#include <cstring>
#include <stdexcept>
#include <utility>

#include "cpu/helpers/helpers.hpp"
#include "cpu/runtime.hpp"
#include "cpu/segmentation.hpp"
#include "cpu/x87/unit.hpp"
#include "util/log.hpp"

namespace jitterbug::cpu {

CpuState reset_state() {
    CpuState s;
    s.set_eflags(eflags::Fixed1);
    s.eip = 0xFFF0;
    for (SegmentRegister& seg : s.seg) {
        seg = SegmentRegister{0, 0xFFFF, 0, seg_attr::kRealModeData};
    }
    // The first fetch is at FFFFFFF0: CS.base is FFFF0000 until the first far jump.
    s.segment(SegReg::Cs) = SegmentRegister{0xFFFF0000u, 0xFFFF, 0xF000, seg_attr::kRealModeCode};
    s.ldtr = SegmentRegister{0, 0xFFFF, 0, seg_attr::P | 0x2};  // LDT type
    s.tr = SegmentRegister{0, 0xFFFF, 0, seg_attr::P | 0xB};    // busy 32-bit TSS
    s.gdtr = {0, 0xFFFF};
    s.idtr = {0, 0xFFFF};
    s.cr0 = cr0::ET | cr0::CD | cr0::NW;
    // EDX holds the processor signature: family 6, model 3, stepping 3.
    s.reg(Gpr::Edx) = 0x00000633;
    s.dr[6] = 0xFFFF0FF0;
    s.dr[7] = 0x00000400;
    return s;
}

Cpu::Cpu(mmu::PhysicalMemory& memory, devices::PortIoBus& io, BackendKind backend)
    : ctx_(std::make_unique<CpuContext>()), mmu_(memory, ctx_->tlb), io_(io), translator_(mmu_) {
    ctx_->cpu = this;
    mmu_.set_code_observer(this);
    // Links into an invalidated block must go back through the dispatcher.
    cache_.set_on_invalidate([this](jit::TranslationBlock& tb) {
        for (const auto& [slot, original] : tb.incoming)
            backend_->unlink(slot, original);
        tb.incoming.clear();
        forget_in_jump_cache(tb);
    });
    // A page without translated code takes direct writes again.
    cache_.set_on_page_free([this](std::uint32_t page) {
        if (window_) window_->set_writable(page, true);
    });
    if (backend == BackendKind::Jit) {
#ifdef JITTERBUG_HAVE_JIT
        backend_ = jit::make_x64_backend();
        tier0_ = jit::make_interpreter_backend();
#else
        throw std::invalid_argument("this build of jitterbug has no JIT backend");
#endif
    } else {
        backend_ = jit::make_interpreter_backend();
    }
    reset();
}

Cpu::~Cpu() = default;

void Cpu::reset() { set_state(reset_state()); }

void Cpu::set_options(const CpuOptions& options) {
    options_ = options;
    backend_->set_options(options.backend);
    flush_code();
}

void Cpu::make_window() {
    window_tried_ = true;
    if (!backend_->supports_direct_memory()) return;
    auto window = std::make_unique<mmu::GuestWindow>();
    if (!window->valid()) return;
    // RAM mapped later stays out of the window: accesses there then take
    // the slow path by way of a fault (correct, only slow).
    bool all = true;
    for (const mmu::Region& r : mmu_.memory().regions()) {
        if (r.kind == mmu::RegionKind::Ram)
            all = window->alias(r.base.value, r.size, r.backing) && all;
    }
    if (!all) return;
    cache_.for_each_code_page([&](std::uint32_t page) { window->set_writable(page, false); });
    window_ = std::move(window);
    ctx_->window_base = reinterpret_cast<std::uintptr_t>(window_->base());
    fastmem_ = true;
    // What was translated without runs on in chains of its own: start over.
    if (options_.backend.fastmem) flush_code();
}

void Cpu::flush_code() {
    backend_->flush();
    cache_.clear();
    if (jump_cache_used_) ctx_->jump_cache.fill(JumpCacheEntry{});
    jump_cache_used_ = false;
    ++stats_.code_flushes;
}

void Cpu::forget_in_jump_cache(const jit::TranslationBlock& tb) {
    JumpCacheEntry& e = ctx_->jump_cache[tb.location.eip & (kJumpCacheEntries - 1)];
    if (e.code == tb.host_code) e = JumpCacheEntry{};
}

void Cpu::set_state(const CpuState& state) {
    CpuContext& ctx = *ctx_;
    ctx.state = state;
    ctx.event = {};
    ctx.abort_instruction = 0;
    ctx.retry_current_instruction = false;
    ctx.deoptimize_block = nullptr;
    ctx.interrupt_shadow = false;
    ctx.debug_shadow = false;
    ctx.pending_event = {};
    ctx.breakpoint_hits = 0;
    ctx.freeze_for_interrupt = false;
    held_dr6_ = 0;
    halted_ = false;
    frozen_ = false;
    shutdown_ = false;
    event_stop_ = false;
    if (!(ctx.state.x87.status & x87::sw::ES)) set_ferr(false);
    mmu_.flush_tlb();
    if (!configure_paging(ctx, ctx.state, true)) {
        log::cpu().warn("the new state's PAE page-directory pointers have reserved bits set");
    }
    sync_segment_checks(ctx);
}

void Cpu::set_ferr(bool asserted) {
    if (ctx_->ferr == asserted) return;
    ctx_->ferr = asserted;
    if (ferr_listener_) ferr_listener_(asserted);
}

void Cpu::set_intr(bool level) {
    intr_ = level;
    if (!level) return;
    ctx_->exit_request.fetch_or(exit_request::kInterrupt, std::memory_order_seq_cst);
    ctx_->entry_limit.store(0, std::memory_order_seq_cst);
}

void Cpu::set_ignne(bool asserted) {
    ctx_->ignne = asserted;
    // A frozen x87 instruction goes on once IGNNE# lets it.
    if (asserted && frozen_) halted_ = frozen_ = false;
}

void Cpu::request_stop() {
    ctx_->exit_request.fetch_or(exit_request::kStop, std::memory_order_seq_cst);
    ctx_->entry_limit.store(0, std::memory_order_seq_cst);
}

void Cpu::arm_entry_limit(std::uint64_t limit) {
    CpuContext& ctx = *ctx_;
    // Store, then look for a request: a requester that stored its 0 before
    // our store has set exit_request before it, which the load then sees.
    ctx.entry_limit.store(limit, std::memory_order_seq_cst);
    if (ctx.exit_request.load(std::memory_order_seq_cst) != 0) {
        ctx.entry_limit.store(0, std::memory_order_relaxed);
    }
}

LocationDescriptor Cpu::current_location() const {
    const CpuState& s = ctx_->state;
    std::uint32_t m = 0;
    if (s.segment(SegReg::Cs).big()) m |= mode::kCode32;
    if (s.segment(SegReg::Ss).big()) m |= mode::kStack32;
    if (s.protected_mode()) m |= mode::kProtected;
    if (s.v86_mode()) m |= mode::kV86;
    m |= s.cpl() << mode::kCplShift;
    bool flat = options_.flat_segments;
    for (SegReg r : {SegReg::Ds, SegReg::Es, SegReg::Ss}) {
        const auto k = static_cast<std::size_t>(r);
        flat = flat && s.segment(r).base == 0 && ctx_->seg_read_limit[k] == 0xFFFFFFFF &&
               ctx_->seg_write_limit[k] == 0xFFFFFFFF;
    }
    if (flat) m |= mode::kFlat;
    // (The window shows physical addresses: linear ones only without the
    // A20 gate's wrap and without paging; and the lockstep write log needs
    // every write.)
    if (mmu_.paging_enabled()) {
        m |= mode::kPaging;
    } else if (fastmem_ && options_.backend.fastmem && mmu_.a20() && !mmu_.logs_writes() &&
               !ctx_->breakpoints.data()) {
        m |= mode::kFastmem;
    }
    // Breakpoints are checked between instructions (Cpu::instruction_breakpoint,
    // Cpu::debug_trap_after).
    if (ctx_->breakpoints.any()) m |= mode::kSingleStep;
    return LocationDescriptor{s.eip, s.segment(SegReg::Cs).base, m};
}

CpuExit Cpu::run(std::uint64_t max_instructions) {
    CpuContext& ctx = *ctx_;
    ctx.instruction_limit = max_instructions > ~std::uint64_t{0} - ctx.instructions
                                ? ~std::uint64_t{0}
                                : ctx.instructions + max_instructions;
    // The exit of the last block that returned for want of a linked
    // successor, and the block the chain it belonged to started with.
    std::uintptr_t link_slot = 0;
    const jit::TranslationBlock* link_from = nullptr;
    try {
        for (;;) {
            if (ctx.instructions >= ctx.instruction_limit) return CpuExit::InstructionLimit;
            if (ctx.exit_request.load(std::memory_order_relaxed) & exit_request::kStop) {
                ctx.exit_request.fetch_and(~exit_request::kStop, std::memory_order_relaxed);
                return CpuExit::Stopped;
            }
            // (It only brought the code back here, where INTR is looked at.)
            if (ctx.exit_request.load(std::memory_order_relaxed) & exit_request::kInterrupt)
                ctx.exit_request.fetch_and(~exit_request::kInterrupt, std::memory_order_relaxed);
            if (shutdown_) return CpuExit::Shutdown;
            if (event_stop_) {
                event_stop_ = false;
                return CpuExit::Event;
            }
            if (ctx.pending_event.pending()) {
                // (An event of the instruction that just completed.)
                const Event e = ctx.pending_event;
                ctx.pending_event = {};
                link_slot = 0;
                take_event(e);
                continue;
            }
            if (!window_tried_ && ctx.instructions >= options_.direct_memory_after) {
                make_window();
                link_slot = 0;  // (its code may be gone)
            }
            if (intr_ && acknowledge_ && (ctx.state.eflags() & eflags::IF) &&
                !ctx.interrupt_shadow) {
                // A maskable interrupt, between instructions (SDM Vol. 3A, 6.8.1).
                const std::uint8_t vector = acknowledge_();
                link_slot = 0;
                take_event(Event{EventKind::External, vector});
                continue;
            }
            if (halted_) {
                return (ctx.state.eflags() & eflags::IF) ? CpuExit::WaitingForInterrupt
                                                         : CpuExit::Halted;
            }
            if (mmu_.mapping_epoch() != jump_cache_epoch_) {
                // Under paging, what an entry's linear address holds may have changed.
                jump_cache_epoch_ = mmu_.mapping_epoch();
                if (jump_cache_used_ && mmu_.paging_enabled()) {
                    ctx.jump_cache.fill(JumpCacheEntry{});
                    jump_cache_used_ = false;
                }
            }
            sync_breakpoints();
            if (instruction_breakpoint()) {
                link_slot = 0;
                continue;
            }
            LocationDescriptor loc = current_location();
            // EFLAGS.TF: a debug trap after each instruction that completes
            // (SDM Vol. 3A, 17.3.1.4); INT n and faults do not complete.
            const bool single_step = (ctx.state.eflags() & eflags::TF) != 0;
            if (single_step) loc.mode |= mode::kSingleStep;
            if (ctx.interrupt_shadow) {
                // Step the shadowed instruction alone; interrupts wait until after it.
                loc.mode |= mode::kSingleStep;
                ctx.interrupt_shadow = false;
            }
            const std::uint64_t flushes = stats_.code_flushes;
            jit::TranslationBlock* tb = find_or_translate(loc, true);
            if (!tb) {
                link_slot = 0;
                handle_abort();
                continue;
            }
            if (tb->fastmem_faults > kFastmemFaultLimit) {
                // Its stores keep faulting in the window (a page with code
                // and data): made again with the TLB's checks, whose slow
                // path costs no signal. (At once, for the same location:
                // the shadow and breakpoint state above is already taken.)
                no_fastmem_.insert(tb->phys_start);
                cache_.invalidate_block(tb);
                ++stats_.fastmem_deopts;
                link_slot = 0;
                tb = find_or_translate(loc, true);
                if (!tb) {
                    handle_abort();
                    continue;
                }
            }
            if (!tb->host_code && tier0_ && ++tb->runs >= options_.jit_threshold) {
                tb = promote(*tb);
                link_slot = 0;  // (the code its exit would link from may be gone)
            }
            // Chain the previous exit to this block when it leads here in the
            // same mode (and its code was not flushed meanwhile).
            if (link_slot && tb->host_code && stats_.code_flushes == flushes &&
                options_.chain_blocks && !loc.single_step() &&
                link_from->location.mode == loc.mode &&
                link_from->location.cs_base == loc.cs_base &&
                (!loc.paging() ||
                 (tb->num_pages == 1 &&
                  ((link_from->location.linear_eip() ^ loc.linear_eip()) & kPageMask) == 0))) {
                if (const std::uintptr_t original = backend_->link(link_slot, *tb)) {
                    tb->incoming.emplace_back(link_slot, original);
                }
            }
            link_slot = 0;
            if (options_.backend.jump_cache && tb->host_code && !loc.single_step()) {
                jump_cache_used_ = true;
                ctx.jump_cache[loc.eip & (kJumpCacheEntries - 1)] =
                    JumpCacheEntry{loc.eip, loc.cs_base, loc.mode, 0, tb->host_code, 0};
            }
            ctx.current_block = tb;
            ctx.exit_slot = 0;
            // (Chained code comes back when the window is due, too: a
            // guest that never leaves its chains would otherwise never get it.)
            std::uint64_t entry_limit = ctx.instruction_limit;
            if (!window_tried_) entry_limit = std::min(entry_limit, options_.direct_memory_after);
            if (ctx.entry_limit.load(std::memory_order_relaxed) != entry_limit) {
                arm_entry_limit(entry_limit);
            }
            ctx.breakpoint_hits = 0;
            const jit::BlockExit exit = execute(*tb);
            ctx.current_block = nullptr;
            // (The blocks that ran may be among those freed here: no link
            // from their exits then.)
            const bool retired = cache_.has_garbage();
            cache_.collect_garbage();
            if (exit.reason != jit::ExitReason::Abort) debug_trap_after(single_step);
            if (exit.reason == jit::ExitReason::Halt) {
                halted_ = true;
            } else if (exit.reason == jit::ExitReason::Abort) {
                const EventKind raised = ctx.event.kind;
                handle_abort();
                if (held_dr6_) held_debug_trap_after(raised);
            } else if (ctx.exit_slot && !retired) {
                link_slot = ctx.exit_slot;
                link_from = tb;
            }
        }
    } catch (const std::exception& e) {
        error_ = e.what();
        log::cpu().error("internal error at {:04x}:{:08x}: {}",
                         ctx.state.segment(SegReg::Cs).selector, ctx.state.eip, error_);
        return CpuExit::InternalError;
    }
}

void Cpu::sync_breakpoints() {
    CpuContext& ctx = *ctx_;
    if (!(ctx.state.dr[7] & kDr7Enables) && !ctx.breakpoints.any()) return;
    const Breakpoints b = breakpoints_of(ctx.state);
    if (b == ctx.breakpoints) return;
    ctx.breakpoints = b;
    std::array<mmu::Mmu::Watchpoint, 4> watched{};
    unsigned n = 0;
    for (unsigned i = 0; i < 4; ++i) {
        if (!((b.write >> i) & 1)) continue;
        watched[n++] =
            mmu::Mmu::Watchpoint{b.range[i].first, b.range[i].last, ((b.read >> i) & 1) != 0};
    }
    mmu_.set_watchpoints(std::span(watched.data(), n));
}

bool Cpu::instruction_breakpoint() {
    CpuContext& ctx = *ctx_;
    CpuState& st = ctx.state;
    // RF lets one instruction past its instruction breakpoints (SDM Vol.
    // 3A, 17.3.1.1). It is cleared as that instruction begins rather than
    // when it completes: a fault pushes RF set all the same (frame_flags),
    // and nothing else of the instruction sees it.
    if (st.eflags() & eflags::RF) {
        st.set_eflags(st.eflags() & ~eflags::RF);
        return false;
    }
    const std::uint32_t linear_eip = st.segment(SegReg::Cs).base + st.eip;
    const std::uint32_t hits = instruction_breakpoint_hits(ctx.breakpoints, linear_eip);
    if (!hits) return false;
    st.dr[6] |= hits;
    take_event(Event{EventKind::Fault, vector::DB, false, 0, st.eip});
    return true;
}

void Cpu::debug_trap_after(bool stepped) {
    CpuContext& ctx = *ctx_;
    std::uint32_t dr6 = ctx.breakpoint_hits | (stepped ? kDr6SingleStep : 0);
    ctx.breakpoint_hits = 0;
    if (ctx.debug_shadow) {
        ctx.debug_shadow = false;
        held_dr6_ |= dr6;
        return;
    }
    dr6 |= std::exchange(held_dr6_, 0);
    if (!dr6) return;
    ctx.state.dr[6] |= dr6;
    // (A trap of the same instruction, a task's T bit, is the same #DB.)
    if (ctx.pending_event.pending() && ctx.pending_event.vector == vector::DB) return;
    ctx.pending_event = Event{EventKind::Trap, vector::DB, false, 0, ctx.state.eip};
}

void Cpu::held_debug_trap_after(EventKind raised) {
    CpuContext& ctx = *ctx_;
    // (Re-runs and re-translations raise nothing: the instruction comes
    // again, and its end takes the held traps.)
    if (raised == EventKind::None) return;
    ctx.debug_shadow = false;
    const std::uint32_t dr6 = std::exchange(held_dr6_, 0);
    // Held over a MOV SS whose next instruction was INT n: the #DB comes
    // once the INT is delivered, before the handler's first instruction
    // (the POP SS/MOV SS case of SDM Vol. 3A, 6.8.3). A fault of that
    // instruction drops them.
    if (raised != EventKind::SoftwareInterrupt || ctx.pending_event.pending() || shutdown_ ||
        event_stop_) {
        return;
    }
    ctx.state.dr[6] |= dr6;
    ctx.pending_event = Event{EventKind::Trap, vector::DB, false, 0, ctx.state.eip};
}

void Cpu::handle_abort() {
    CpuContext& ctx = *ctx_;
    ctx.abort_instruction = 0;
    if (const char* problem = ctx.internal_error) {
        ctx.internal_error = nullptr;
        throw std::logic_error(problem);
    }
    if (const jit::TranslationBlock* tb = ctx.deoptimize_block) {
        // EIP is at the instruction that made the group's first access, its
        // state as before it: go on from there with blocks made without.
        ctx.deoptimize_block = nullptr;
        no_page_groups_.insert(tb->phys_start);
        cache_.invalidate_block(tb);
        ++stats_.page_group_deopts;
        return;
    }
    if (ctx.freeze_for_interrupt) {
        // EIP is at the x87 instruction: an interrupt's handler returns to it.
        ctx.freeze_for_interrupt = false;
        halted_ = true;
        frozen_ = true;
        return;
    }
    if (ctx.retry_current_instruction) {
        ctx.retry_current_instruction = false;
        run_uncached_instruction();
        return;
    }
    if (ctx.event.pending()) {
        const Event e = ctx.event;
        ctx.event = {};
        take_event(e);
    }
}

void Cpu::take_event(const Event& e) {
    if (stop_on_events_) {
        last_event_ = e;
        if (e.vector == vector::PF) ctx_->state.cr2 = e.fault_address;
        event_stop_ = true;
        return;
    }
    deliver(e);
}

// The instruction whose store hit its own block runs again as a block of
// its own that is not in the cache, so its store cannot invalidate it.
void Cpu::run_uncached_instruction() {
    CpuContext& ctx = *ctx_;
    LocationDescriptor loc = current_location();
    loc.mode |= mode::kSingleStep;
    const bool stepped = (ctx.state.eflags() & eflags::TF) != 0;
    jit::TranslationBlock* probe = find_or_translate(loc, false);
    if (!probe) {
        handle_abort();
        return;
    }
    std::unique_ptr<jit::TranslationBlock> tb(probe);
    ctx.current_block = tb.get();
    // The instruction belongs to the block that was running: the budget,
    // checked at block entry, must not stop it now.
    const std::uint64_t limit = ctx.instruction_limit;
    ctx.instruction_limit = ~std::uint64_t{0};
    arm_entry_limit(~std::uint64_t{0});
    ctx.breakpoint_hits = 0;
    const jit::BlockExit exit = execute(*tb);
    ctx.instruction_limit = limit;  // entry_limit follows before the next block
    ctx.current_block = nullptr;
    ctx.exit_slot = 0;  // this block is never linked
    if (exit.reason != jit::ExitReason::Abort) debug_trap_after(stepped);
    if (exit.reason == jit::ExitReason::Halt) {
        halted_ = true;
    } else if (exit.reason == jit::ExitReason::Abort) {
        handle_abort();
    }
}

jit::TranslationBlock* Cpu::find_or_translate(const LocationDescriptor& loc, bool cached) {
    CpuContext& ctx = *ctx_;
    PhysicalAddress phys;
    mmu::PageFault fault;
    const std::uint32_t cs_limit = ctx.state.segment(SegReg::Cs).limit;
    if (loc.eip > cs_limit) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return nullptr;
    }
    const mmu::TlbSet set = mmu::tlb_set_of_cpl(loc.cpl());
    if (!mmu_.translate(loc.linear_eip(), mmu::Access::Execute, set, phys, fault)) {
        Event e{EventKind::Fault, vector::PF, true, fault.error_code, loc.eip};
        e.fault_address = fault.linear;
        runtime::raise(ctx, e);
        return nullptr;
    }
    if (cached) {
        jit::TranslationBlock* tb = cache_.find(phys.value, loc);
        // Under paging, a block's second page must still be where it was.
        if (tb && tb->num_pages == 2 && loc.paging()) {
            const std::uint32_t second = (loc.linear_eip() & kPageMask) + kPageSize;
            PhysicalAddress phys2;
            if (!mmu_.translate(second, mmu::Access::Execute, set, phys2, fault) ||
                (phys2.value >> kPageShift) != tb->pages[1]) {
                tb = nullptr;  // translated afresh (its fault, if any, raised there)
            }
        }
        // (Made under another limit: translated afresh, replacing it.)
        if (tb && tb->cs_limit != cs_limit) tb = nullptr;
        if (tb) return tb;
    }
    if (cached) {
        // Code patched back as it was: its old translation.
        std::vector<std::uint32_t> pages;
        jit::TranslationBlock* back = cache_.revive(
            phys.value, loc,
            [this, cs_limit](const jit::TranslationBlock& b) {
                if (b.cs_limit != cs_limit) return false;
                const std::uint8_t* bytes =
                    mmu_.memory().ram_pointer(PhysicalAddress{b.first_lo}, b.source.size());
                return bytes && std::memcmp(bytes, b.source.data(), b.source.size()) == 0;
            },
            pages);
        if (back) {
            protect_code_pages(pages);
            ++stats_.blocks_revived;
            return back;
        }
    }
    std::unique_ptr<jit::TranslationBlock> tb =
        translate(loc, phys.value, tier0_ && options_.jit_threshold > 0);
    if (!cached) return tb.release();
    jit::TranslationBlock* raw = tb.get();
    protect_code_pages(cache_.insert(std::move(tb)));
    return raw;
}

void Cpu::protect_code_pages(const std::vector<std::uint32_t>& pages) {
    for (std::uint32_t page : pages) {
        mmu_.protect_code_page(page);
        if (window_) window_->set_writable(page, false);
    }
}

jit::BlockExit Cpu::execute(const jit::TranslationBlock& tb) {
    return (tb.host_code || !tier0_ ? *backend_ : *tier0_).execute(*ctx_, tb);
}

jit::TranslationBlock* Cpu::promote(jit::TranslationBlock& cold) {
    const std::uint64_t flushes = stats_.code_flushes;
    std::unique_ptr<jit::TranslationBlock> hot = translate(cold.location, cold.phys_start, false);
    // (A flush to make room took the cold block with everything else.)
    if (stats_.code_flushes == flushes) cache_.invalidate_block(&cold);
    jit::TranslationBlock* raw = hot.get();
    protect_code_pages(cache_.insert(std::move(hot)));
    return raw;
}

std::unique_ptr<jit::TranslationBlock> Cpu::translate(const LocationDescriptor& loc,
                                                      std::uint64_t phys, bool tier0) {
    TranslatedCode code;
    ir::Block block =
        translator_.translate(loc, ctx_->state.segment(SegReg::Cs).limit,
                              TranslatorLimits{.continue_past_branches = options_.superblocks,
                                               .follow_jumps = options_.follow_jumps},
                              code);
    if (const std::string problem = ir::verify(block); !problem.empty()) {
        throw std::logic_error("invalid IR: " + problem + "\n" + ir::to_string(block));
    }
    jit::optimize(block, options_.passes);
    if (const std::string problem = ir::verify(block); !problem.empty()) {
        throw std::logic_error("invalid IR after the passes: " + problem + "\n" +
                               ir::to_string(block));
    }
    if (log::jit().should_log(spdlog::level::debug)) log::jit().debug("{}", ir::to_string(block));
    auto tb = std::make_unique<jit::TranslationBlock>();
    tb->location = loc;
    tb->phys_start = phys;
    tb->first_lo = code.first_lo;
    tb->first_hi = code.first_hi;
    tb->second_len = code.second_len;
    tb->pages = code.pages;
    tb->num_pages = code.num_pages;
    tb->guest_instructions = block.guest_instructions;
    tb->cs_limit = ctx_->state.segment(SegReg::Cs).limit;
    // (Its bytes, to be taken back if invalidated and then restored: RAM
    // only, the only code that changes.)
    if (code.num_pages == 1 && code.first_hi > code.first_lo) {
        const std::size_t size = code.first_hi - code.first_lo;
        if (const std::uint8_t* bytes =
                mmu_.memory().ram_pointer(PhysicalAddress{code.first_lo}, size)) {
            tb->source.assign(bytes, bytes + size);
        }
    }
    tb->page_groups = !no_page_groups_.contains(phys);
    tb->fastmem = !no_fastmem_.contains(phys);
    // (Nor page groups then: made for code that never has the window, they
    // diverge from the interpreter in a window's location — the hostile
    // system tests showed it.)
    if (!tb->fastmem) tb->page_groups = false;
    ++stats_.blocks_translated;
    if (tier0) {
        tier0_->compile(block, *tb);  // (never full)
        return tb;
    }
    compile(block, *tb);
    ++stats_.blocks_compiled;
    return tb;
}

void Cpu::compile(const ir::Block& block, jit::TranslationBlock& tb) {
    if (backend_->compile(block, tb)) return;
    // The code space is full: start over with an empty cache.
    flush_code();
    if (!backend_->compile(block, tb)) throw std::logic_error("block does not fit the code space");
}

void Cpu::invalidate_code(PhysicalAddress phys, std::uint64_t size) {
    if (size != 0) cache_.invalidate(phys.value, size, nullptr);
}

bool Cpu::is_code_page(std::uint32_t phys_page) const { return cache_.is_code_page(phys_page); }

bool Cpu::code_written(PhysicalAddress phys, unsigned size) {
    return !cache_.invalidate(phys.value, size, ctx_->current_block, true);
}

CpuStatistics Cpu::statistics() const {
    CpuStatistics s = stats_;
    s.instructions = ctx_->instructions;
    s.direct_access_faults = backend_->direct_access_faults();
    return s;
}

std::uint64_t time_stamp_counter(const Cpu& cpu) {
    return cpu.tsc_base() + cpu.state().msr.tsc_offset;
}

}  // namespace jitterbug::cpu
