// Delivery of exceptions and interrupts (SDM Vol. 3A, chapter 6): through
// the IVT in real mode, through IDT interrupt, trap and task gates in
// protected and virtual-8086 mode, with the escalation to #DF and to shutdown (triple fault).
#include <fmt/format.h>

#include "cpu/cpu.hpp"
#include "cpu/runtime.hpp"
#include "cpu/segmentation.hpp"
#include "cpu/tasks.hpp"
#include "util/log.hpp"

namespace jitterbug::cpu {
namespace {

// Exception classes for double-fault detection (SDM Vol. 3A, Table 6-4/6-5).
bool contributory(std::uint8_t v) {
    return v == vector::DE || v == vector::TS || v == vector::NP || v == vector::SS ||
           v == vector::GP;
}

bool causes_double_fault(const Event& first, const Event& second) {
    if (first.kind == EventKind::External || first.kind == EventKind::SoftwareInterrupt)
        return false;
    if (contributory(first.vector) && contributory(second.vector)) return true;
    if (first.vector == vector::PF &&
        (second.vector == vector::PF || contributory(second.vector))) {
        return true;
    }
    return false;
}

// Stack writes during delivery go through the normal checked paths; any
// fault is reported through ctx.event / abort_instruction.
bool push(CpuContext& ctx, std::uint32_t value, unsigned bytes) {
    CpuState& st = ctx.state;
    const bool stack32 = st.segment(SegReg::Ss).big();
    const std::uint32_t sp = stack32 ? st.reg(Gpr::Esp) : (st.reg(Gpr::Esp) & 0xFFFF);
    const std::uint32_t new_sp = stack32 ? sp - bytes : ((sp - bytes) & 0xFFFF);
    if (!check_segment_access(ctx, SegReg::Ss, new_sp, bytes, true)) return false;
    runtime::write(ctx, st.segment(SegReg::Ss).base + new_sp, bytes, value);
    if (ctx.abort_instruction) return false;
    if (stack32) {
        st.reg(Gpr::Esp) = new_sp;
    } else {
        st.reg(Gpr::Esp) = (st.reg(Gpr::Esp) & 0xFFFF0000u) | new_sp;
    }
    return true;
}

std::uint32_t return_eip(const CpuState& st, const Event& e) {
    return (e.kind == EventKind::Trap || e.kind == EventKind::SoftwareInterrupt) ? e.next_eip
                                                                                 : st.eip;
}

// The EFLAGS image an event's frame holds: with RF set for faults, so that
// returning to the faulting instruction does not hit an instruction
// breakpoint there again (SDM Vol. 3A, 17.3.1.1); a #DB fault (the
// breakpoint itself) keeps it as it is.
std::uint32_t frame_flags(const CpuState& st, const Event& e) {
    const bool fault = e.kind == EventKind::Fault && e.vector != vector::DB;
    return st.eflags() | (fault ? eflags::RF : 0);
}

// Real mode (SDM Vol. 3A, 20.1.4): IVT entry, push FLAGS, CS, IP; clear IF,
// TF and AC.
bool deliver_real(CpuContext& ctx, const Event& e) {
    CpuState& st = ctx.state;
    const std::uint32_t entry = std::uint32_t{e.vector} * 4;
    if (entry + 3 > st.idtr.limit) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return false;
    }
    const std::uint32_t target = runtime::read_system(ctx, st.idtr.base + entry, 4);
    if (ctx.abort_instruction) return false;
    const std::uint32_t flags = st.eflags();
    const std::uint32_t sp = st.reg(Gpr::Esp);
    if (!check_stack_room(ctx, 3, 2)) return false;
    const bool ok = push(ctx, flags & 0xFFFF, 2) && push(ctx, st.segment(SegReg::Cs).selector, 2) &&
                    push(ctx, return_eip(st, e) & 0xFFFF, 2);
    if (!ok) {
        st.reg(Gpr::Esp) = sp;
        return false;
    }
    st.set_eflags(st.eflags() & ~(eflags::IF | eflags::TF | eflags::AC | eflags::RF));
    load_segment_real(st, SegReg::Cs, static_cast<std::uint16_t>(target >> 16));
    st.eip = target & 0xFFFF;
    return true;
}

// Builds the frame of an interrupt to a more privileged level on the stack
// the TSS names for it and switches to it (SDM Vol. 3A, 6.12.1; from
// virtual-8086 mode also 20.3.1.1): the old SS:ESP (and from v86 mode GS,
// FS, DS, ES first), EFLAGS, CS, EIP and the error code.
bool deliver_inward(CpuContext& ctx, const Event& e, const Descriptor& code,
                    std::uint16_t code_selector, std::uint32_t offset, unsigned bytes,
                    std::uint32_t ext) {
    CpuState& st = ctx.state;
    const unsigned dpl = code.dpl();
    const bool from_v86 = st.v86_mode();
    std::uint16_t ss = 0;
    std::uint32_t esp = 0;
    if (!tss_stack(ctx, dpl, ext, ss, esp)) return false;
    std::optional<Descriptor> stack = check_stack_segment(ctx, ss, dpl, vector::TS, ext);
    if (!stack) return false;
    StackPointer frame{stack->to_cache(ss), esp, mmu::tlb_set_of_cpl(dpl)};
    const unsigned slots = (from_v86 ? 9 : 5) + (e.has_error_code ? 1 : 0);
    if (!stack_fits(frame, false, slots, bytes)) {
        runtime::raise_fault(ctx, vector::SS, (ss & 0xFFFCu) | ext);
        return false;
    }
    if (offset > code.limit()) {
        runtime::raise_fault(ctx, vector::GP, ext);
        return false;
    }
    bool ok = true;
    if (from_v86) {
        for (SegReg r : {SegReg::Gs, SegReg::Fs, SegReg::Ds, SegReg::Es})
            ok = ok && push_to(ctx, frame, st.segment(r).selector, bytes);
    }
    ok = ok && push_to(ctx, frame, st.segment(SegReg::Ss).selector, bytes) &&
         push_to(ctx, frame, st.reg(Gpr::Esp), bytes) &&
         push_to(ctx, frame, frame_flags(st, e), bytes) &&
         push_to(ctx, frame, st.segment(SegReg::Cs).selector, bytes) &&
         push_to(ctx, frame, return_eip(st, e), bytes);
    if (ok && e.has_error_code) ok = push_to(ctx, frame, e.error_code, bytes);
    if (!ok) return false;
    Descriptor marked = *stack;
    mark_accessed(ctx, ss, marked);
    if (ctx.abort_instruction) return false;
    if (from_v86) {
        for (SegReg r : {SegReg::Gs, SegReg::Fs, SegReg::Ds, SegReg::Es})
            st.segment(r) = SegmentRegister{0, 0, 0, 0};
    }
    st.segment(SegReg::Ss) = marked.to_cache(ss);
    st.reg(Gpr::Esp) = frame.esp;
    st.segment(SegReg::Cs) = code.to_cache(static_cast<std::uint16_t>((code_selector & ~3u) | dpl));
    st.eip = offset;
    return true;
}

// Protected mode through an interrupt, trap or task gate (SDM Vol. 3A,
// 6.12): at the current privilege level, to a more privileged one with a
// stack switch, or to another task.
bool deliver_protected(CpuContext& ctx, const Event& e) {
    CpuState& st = ctx.state;
    // EXT: set unless the event is INT n, INT3 or INTO (SDM Vol. 3A, 6.13).
    const std::uint32_t ext = e.kind == EventKind::SoftwareInterrupt ? 0 : 1;
    const std::uint32_t gate_error = std::uint32_t{e.vector} * 8 + 2 + ext;
    if (std::uint32_t{e.vector} * 8 + 7 > st.idtr.limit) {
        runtime::raise_fault(ctx, vector::GP, gate_error);
        return false;
    }
    Descriptor gate;
    gate.low = runtime::read_system(ctx, st.idtr.base + e.vector * 8u, 4);
    if (ctx.abort_instruction) return false;
    gate.high = runtime::read_system(ctx, st.idtr.base + e.vector * 8u + 4, 4);
    if (ctx.abort_instruction) return false;
    const unsigned type = (gate.high >> 8) & 0x1F;  // includes S
    const bool is32 = type == 0x0E || type == 0x0F;
    const bool is16 = type == 0x06 || type == 0x07;
    const bool task = type == 0x05;
    if (!is32 && !is16 && !task) {
        runtime::raise_fault(ctx, vector::GP, gate_error);
        return false;
    }
    if (e.kind == EventKind::SoftwareInterrupt && gate.dpl() < st.cpl()) {
        runtime::raise_fault(ctx, vector::GP, gate_error);
        return false;
    }
    if (!gate.present()) {
        runtime::raise_fault(ctx, vector::NP, gate_error);
        return false;
    }
    if (task) {
        std::uint16_t tss_selector = 0;
        Descriptor tss;
        if (!task_target(ctx, static_cast<std::uint16_t>(e.vector * 8u), gate, ext, tss_selector,
                         tss) ||
            !switch_task(ctx, tss_selector, tss, TaskSwitch::Call, return_eip(st, e), ext)) {
            return false;
        }
        if (ctx.abort_instruction) return false;  // a fault of the new task
        if (e.has_error_code) {
            // Pushed on the new task's stack, as wide as its TSS.
            const unsigned type_bits = st.tr.attributes & seg_attr::kTypeMask;
            const unsigned bytes = (type_bits & 8) ? 4 : 2;
            if (!check_stack_room(ctx, 1, bytes) || !push(ctx, e.error_code, bytes)) return false;
        }
        return true;
    }
    const auto selector = static_cast<std::uint16_t>(gate.low >> 16);
    std::uint32_t offset = (gate.low & 0xFFFF) | (gate.high & 0xFFFF0000u);
    if (is16) offset &= 0xFFFF;
    const std::uint32_t code_error = (selector & 0xFFFCu) | ext;
    if ((selector & 0xFFFC) == 0) {
        runtime::raise_fault(ctx, vector::GP, ext);
        return false;
    }
    std::optional<Descriptor> d = find_descriptor(ctx, selector);
    if (ctx.abort_instruction) return false;
    if (!d || !d->is_code() || d->dpl() > st.cpl()) {
        runtime::raise_fault(ctx, vector::GP, code_error);
        return false;
    }
    if (!d->present()) {
        runtime::raise_fault(ctx, vector::NP, code_error);
        return false;
    }
    const unsigned bytes = is32 ? 4 : 2;
    const std::uint32_t flags = st.eflags();
    if (!d->conforming() && d->dpl() < st.cpl()) {
        if (st.v86_mode() && d->dpl() != 0) {
            runtime::raise_fault(ctx, vector::GP, code_error);
            return false;
        }
        if (!deliver_inward(ctx, e, *d, selector, offset, bytes, ext)) return false;
    } else {
        // Virtual-8086 mode leaves only for ring 0 (SDM Vol. 3A, 20.3.1.1).
        if (st.v86_mode() || (!d->conforming() && d->dpl() != st.cpl())) {
            runtime::raise_fault(ctx, vector::GP, code_error);
            return false;
        }
        if (offset > d->limit()) {
            runtime::raise_fault(ctx, vector::GP, ext);
            return false;
        }
        const std::uint32_t sp = st.reg(Gpr::Esp);
        if (!check_stack_room(ctx, e.has_error_code ? 4 : 3, bytes)) return false;
        bool ok = push(ctx, frame_flags(st, e), bytes) &&
                  push(ctx, st.segment(SegReg::Cs).selector, bytes) &&
                  push(ctx, return_eip(st, e), bytes);
        if (ok && e.has_error_code) ok = push(ctx, e.error_code, bytes);
        if (!ok) {
            st.reg(Gpr::Esp) = sp;
            return false;
        }
        st.segment(SegReg::Cs) =
            d->to_cache(static_cast<std::uint16_t>((selector & ~3u) | st.cpl()));
        st.eip = offset;
    }
    std::uint32_t next = flags & ~(eflags::TF | eflags::NT | eflags::RF | eflags::VM);
    if (type == 0x0E || type == 0x06) next &= ~eflags::IF;  // interrupt gates
    st.set_eflags(next);
    sync_segment_checks(ctx);
    return true;
}

}  // namespace

void Cpu::deliver(const Event& event) {
    CpuContext& ctx = *ctx_;
    ++stats_.events_delivered;
    // A delivered event counts against the instruction budget of run().
    if (ctx.instruction_limit != ~std::uint64_t{0} && ctx.instruction_limit > 0)
        --ctx.instruction_limit;
    Event current = event;
    // Each round either delivers, escalates towards #DF or shuts down; the
    // bound only guards against a chain the rules above did not foresee.
    for (int round = 0; round < 8; ++round) {
        last_event_ = current;
        if (current.vector == vector::PF) ctx.state.cr2 = current.fault_address;
        ctx.event = {};
        ctx.abort_instruction = 0;
        const bool delivered = ctx.state.protected_mode() ? deliver_protected(ctx, current)
                                                          : deliver_real(ctx, current);
        if (delivered) {
            halted_ = frozen_ = false;
            ctx.abort_instruction = 0;
            return;
        }
        const Event second = ctx.event;
        ctx.event = {};
        ctx.abort_instruction = 0;
        if (current.vector == vector::DF && current.kind == EventKind::Fault) {
            shutdown_ = true;  // a fault while delivering #DF: triple fault
            log::cpu().info("triple fault: vector {} while delivering #DF", second.vector);
            return;
        }
        if (causes_double_fault(current, second)) {
            current = Event{EventKind::Fault, vector::DF, true, 0, current.next_eip};
        } else {
            current = second;
        }
    }
    shutdown_ = true;
}

}  // namespace jitterbug::cpu
