// Delivery of exceptions and interrupts (SDM Vol. 3A, chapter 6): through
// the IVT in real mode, through IDT interrupt and trap gates in protected
// mode, with the escalation to #DF and to shutdown (triple fault).
#include <fmt/format.h>

#include "cpu/cpu.hpp"
#include "cpu/runtime.hpp"
#include "cpu/segmentation.hpp"
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

// Protected mode through an interrupt or trap gate to a code segment at the
// current privilege level (SDM Vol. 3A, 6.12.1). Gates that change privilege
// or name a task arrive with the system architecture and raise #GP here.
bool deliver_protected(CpuContext& ctx, const Event& e) {
    CpuState& st = ctx.state;
    const std::uint32_t ext = e.kind == EventKind::External ? 1 : 0;
    const std::uint32_t gate_error = std::uint32_t{e.vector} * 8 + 2 + ext;
    if (std::uint32_t{e.vector} * 8 + 7 > st.idtr.limit) {
        runtime::raise_fault(ctx, vector::GP, gate_error);
        return false;
    }
    const std::uint32_t low = runtime::read_system(ctx, st.idtr.base + e.vector * 8u, 4);
    if (ctx.abort_instruction) return false;
    const std::uint32_t high = runtime::read_system(ctx, st.idtr.base + e.vector * 8u + 4, 4);
    if (ctx.abort_instruction) return false;
    const unsigned type = (high >> 8) & 0x1F;  // includes S
    const bool is32 = type == 0x0E || type == 0x0F;
    const bool is16 = type == 0x06 || type == 0x07;
    if (!is32 && !is16) {
        runtime::raise_fault(ctx, vector::GP, gate_error);
        return false;
    }
    const unsigned gate_dpl = (high >> 13) & 3;
    if (e.kind == EventKind::SoftwareInterrupt && gate_dpl < st.cpl()) {
        runtime::raise_fault(ctx, vector::GP, gate_error);
        return false;
    }
    if (!(high & (1u << 15))) {
        runtime::raise_fault(ctx, vector::NP, gate_error);
        return false;
    }
    const auto selector = static_cast<std::uint16_t>(low >> 16);
    std::uint32_t offset = (low & 0xFFFF) | (high & 0xFFFF0000u);
    if (is16) offset &= 0xFFFF;
    std::optional<Descriptor> d = read_descriptor(ctx, selector);
    if (!d) return false;
    const bool conforming = d->is_code() && (d->type() & 4);
    if (!d->is_code() || d->dpl() > st.cpl() || (!conforming && d->dpl() != st.cpl())) {
        runtime::raise_fault(ctx, vector::GP, (selector & 0xFFFC) | ext);
        return false;
    }
    if (!d->present()) {
        runtime::raise_fault(ctx, vector::NP, (selector & 0xFFFC) | ext);
        return false;
    }
    if (offset > d->limit()) {
        runtime::raise_fault(ctx, vector::GP, ext);
        return false;
    }
    const unsigned bytes = is32 ? 4 : 2;
    const std::uint32_t sp = st.reg(Gpr::Esp);
    if (!check_stack_room(ctx, e.has_error_code ? 4 : 3, bytes)) return false;
    bool ok = push(ctx, st.eflags(), bytes) && push(ctx, st.segment(SegReg::Cs).selector, bytes) &&
              push(ctx, return_eip(st, e), bytes);
    if (ok && e.has_error_code) ok = push(ctx, e.error_code, bytes);
    if (!ok) {
        st.reg(Gpr::Esp) = sp;
        return false;
    }
    st.set_eflags(st.eflags() & ~(eflags::TF | eflags::NT | eflags::RF | eflags::VM));
    if (type == 0x0E || type == 0x06) st.set_eflags(st.eflags() & ~eflags::IF);  // interrupt gates
    st.segment(SegReg::Cs) = d->to_cache(static_cast<std::uint16_t>((selector & ~3u) | st.cpl()));
    st.eip = offset;
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
        const bool delivered = ctx.state.protected_mode() && !ctx.state.v86_mode()
                                   ? deliver_protected(ctx, current)
                                   : deliver_real(ctx, current);
        if (delivered) {
            halted_ = false;
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
