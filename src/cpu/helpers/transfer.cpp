// Segment register loads and far transfers: far JMP, far CALL, far RET,
// IRET (SDM Vol. 2A/2B, their pages; Vol. 3A, 5.8). Real and virtual-8086
// mode load segments by selector; protected mode checks descriptors, goes
// through call gates (to a more privileged level with a stack switch and
// parameter copying), returns to outer levels, and switches tasks through
// TSS descriptors and task gates.
#include "cpu/helpers/helpers.hpp"
#include "cpu/tasks.hpp"

namespace jitterbug::cpu {

namespace {

constexpr std::uint32_t kOperandSize32 = 0x80000000u;       // far RET and IRET
constexpr std::uint32_t kSelectorOperandSize32 = 0x10000u;  // far JMP and CALL

// System descriptor types a far JMP or CALL may name (SDM Vol. 3A, Table 3-2).
constexpr unsigned kCallGate16 = 0x4;
constexpr unsigned kTaskGate = 0x5;
constexpr unsigned kCallGate32 = 0xC;
constexpr unsigned kTss16 = 0x1;
constexpr unsigned kTss32 = 0x9;

bool stack32(const CpuState& st) { return st.segment(SegReg::Ss).big(); }
std::uint32_t sp_mask(const CpuState& st) { return stack32(st) ? 0xFFFFFFFFu : 0xFFFFu; }

void set_sp(CpuState& st, std::uint32_t sp) {
    const std::uint32_t m = sp_mask(st);
    st.reg(Gpr::Esp) = (st.reg(Gpr::Esp) & ~m) | (sp & m);
}

std::uint16_t error_of(std::uint16_t selector) { return selector & 0xFFFC; }

bool fail(CpuContext& ctx, std::uint8_t vector, std::uint32_t error) {
    runtime::raise_fault(ctx, vector, error);
    return false;
}

bool protected_addressing(const CpuState& st) { return st.protected_mode() && !st.v86_mode(); }

// Real/v86 far transfer target: CS by selector, EIP within the CS limit.
bool jump_real(CpuContext& ctx, std::uint16_t selector, std::uint32_t eip) {
    CpuState& st = ctx.state;
    if (eip > st.segment(SegReg::Cs).limit) return fail(ctx, vector::GP, 0);
    load_segment_real(st, SegReg::Cs, selector);
    st.eip = eip;
    return true;
}

// The code segment a call gate leads to (SDM Vol. 2A, CALL and JMP): for a
// JMP only at the current privilege level (or conforming), for a CALL also
// more privileged.
std::optional<Descriptor> gate_target(CpuContext& ctx, const Descriptor& gate, bool call) {
    const CpuState& st = ctx.state;
    const auto selector = static_cast<std::uint16_t>(gate.low >> 16);
    if (error_of(selector) == 0) {
        fail(ctx, vector::GP, 0);
        return std::nullopt;
    }
    std::optional<Descriptor> d = find_descriptor(ctx, selector);
    if (ctx.abort_instruction) return std::nullopt;
    const unsigned cpl = st.cpl();
    const bool allowed =
        d && d->is_code() && ((d->conforming() || call) ? d->dpl() <= cpl : d->dpl() == cpl);
    if (!allowed) {
        fail(ctx, vector::GP, error_of(selector));
        return std::nullopt;
    }
    if (!d->present()) {
        fail(ctx, vector::NP, error_of(selector));
        return std::nullopt;
    }
    return d;
}

std::uint32_t gate_offset(const Descriptor& gate) {
    const std::uint32_t offset = (gate.low & 0xFFFF) | (gate.high & 0xFFFF0000u);
    return gate.type() == kCallGate32 ? offset : offset & 0xFFFF;
}

// A protected-mode far JMP or CALL to something other than a code segment:
// checks the gate's or TSS's privilege and presence. Gives its type.
bool check_system_target(CpuContext& ctx, std::uint16_t selector, const Descriptor& d) {
    const unsigned type = d.is_system() ? d.type() : 0;
    const bool known = type == kCallGate16 || type == kCallGate32 || type == kTaskGate ||
                       type == kTss16 || type == kTss32;
    const unsigned cpl = ctx.state.cpl();
    if (!known || d.dpl() < cpl || d.dpl() < (selector & 3u)) {
        return fail(ctx, vector::GP, error_of(selector));
    }
    // (A TSS's presence is checked with the task switch.)
    if (type != kTss16 && type != kTss32 && !d.present()) {
        return fail(ctx, vector::NP, error_of(selector));
    }
    return true;
}

bool switch_by(CpuContext& ctx, std::uint16_t selector, const Descriptor& d, TaskSwitch how,
               std::uint32_t next_eip) {
    std::uint16_t tss_selector = 0;
    Descriptor tss;
    if (!task_target(ctx, selector, d, 0, tss_selector, tss)) return false;
    if (!switch_task(ctx, tss_selector, tss, how, next_eip, 0)) return false;
    defer_fault(ctx);
    return true;
}

bool jump_protected(CpuContext& ctx, std::uint16_t selector, std::uint32_t eip,
                    std::uint32_t next_eip) {
    CpuState& st = ctx.state;
    if (error_of(selector) == 0) return fail(ctx, vector::GP, 0);
    std::optional<Descriptor> d = read_descriptor(ctx, selector);
    if (!d) return false;
    if (d->is_code()) return load_code_segment(ctx, selector, eip);
    if (!check_system_target(ctx, selector, *d)) return false;
    if (d->type() != kCallGate16 && d->type() != kCallGate32) {
        return switch_by(ctx, selector, *d, TaskSwitch::Jump, next_eip);
    }
    const auto target_selector = static_cast<std::uint16_t>(d->low >> 16);
    std::optional<Descriptor> target = gate_target(ctx, *d, false);
    if (!target) return false;
    const std::uint32_t offset = gate_offset(*d);
    if (offset > target->limit()) return fail(ctx, vector::GP, 0);
    mark_accessed(ctx, target_selector, *target);
    if (ctx.abort_instruction) return false;
    st.segment(SegReg::Cs) =
        target->to_cache(static_cast<std::uint16_t>((target_selector & ~3u) | st.cpl()));
    st.eip = offset;
    sync_segment_checks(ctx);
    return true;
}

// CALL through a call gate to a more privileged non-conforming segment:
// the stack of its level from the TSS, with the caller's SS:ESP, the
// gate's count of parameters copied from the caller's stack, CS and EIP,
// all as wide as the gate.
bool call_inward(CpuContext& ctx, const Descriptor& gate, std::uint16_t target_selector,
                 const Descriptor& target, std::uint32_t next_eip) {
    CpuState& st = ctx.state;
    const unsigned dpl = target.dpl();
    const unsigned bytes = gate.type() == kCallGate32 ? 4 : 2;
    const unsigned count = gate.high & 0x1F;
    std::uint16_t ss = 0;
    std::uint32_t esp = 0;
    if (!tss_stack(ctx, dpl, 0, ss, esp)) return false;
    std::optional<Descriptor> stack = check_stack_segment(ctx, ss, dpl, vector::TS, 0);
    if (!stack) return false;
    StackPointer frame{stack->to_cache(ss), esp, mmu::tlb_set_of_cpl(dpl)};
    if (!stack_fits(frame, false, 4 + count, bytes)) return fail(ctx, vector::SS, error_of(ss));
    const std::uint32_t offset = gate_offset(gate);
    if (offset > target.limit()) return fail(ctx, vector::GP, 0);
    std::array<std::uint32_t, 32> params{};
    for (unsigned i = 0; i < count; ++i) {
        if (!stack_read(ctx, i * bytes, bytes, params[i])) return false;
    }
    bool ok = push_to(ctx, frame, st.segment(SegReg::Ss).selector, bytes) &&
              push_to(ctx, frame, st.reg(Gpr::Esp), bytes);
    for (unsigned i = count; ok && i-- > 0;)
        ok = push_to(ctx, frame, params[i], bytes);
    ok = ok && push_to(ctx, frame, st.segment(SegReg::Cs).selector, bytes) &&
         push_to(ctx, frame, next_eip, bytes);
    if (!ok) return false;
    Descriptor code = target;
    mark_accessed(ctx, target_selector, code);
    if (ctx.abort_instruction) return false;
    mark_accessed(ctx, ss, *stack);
    if (ctx.abort_instruction) return false;
    st.segment(SegReg::Ss) = stack->to_cache(ss);
    st.reg(Gpr::Esp) = frame.esp;
    st.segment(SegReg::Cs) =
        code.to_cache(static_cast<std::uint16_t>((target_selector & ~3u) | dpl));
    st.eip = offset;
    sync_segment_checks(ctx);
    return true;
}

bool call_through_gate(CpuContext& ctx, const Descriptor& gate, std::uint32_t next_eip) {
    CpuState& st = ctx.state;
    const auto target_selector = static_cast<std::uint16_t>(gate.low >> 16);
    std::optional<Descriptor> target = gate_target(ctx, gate, true);
    if (!target) return false;
    if (!target->conforming() && target->dpl() < st.cpl()) {
        return call_inward(ctx, gate, target_selector, *target, next_eip);
    }
    const unsigned bytes = gate.type() == kCallGate32 ? 4 : 2;
    const std::uint32_t offset = gate_offset(gate);
    if (!check_stack_room(ctx, 2, bytes)) return false;
    if (offset > target->limit()) return fail(ctx, vector::GP, 0);
    const std::uint32_t old_esp = st.reg(Gpr::Esp);
    if (!stack_push(ctx, st.segment(SegReg::Cs).selector, bytes) ||
        !stack_push(ctx, next_eip, bytes)) {
        st.reg(Gpr::Esp) = old_esp;
        return false;
    }
    mark_accessed(ctx, target_selector, *target);
    if (ctx.abort_instruction) {
        st.reg(Gpr::Esp) = old_esp;
        return false;
    }
    st.segment(SegReg::Cs) =
        target->to_cache(static_cast<std::uint16_t>((target_selector & ~3u) | st.cpl()));
    st.eip = offset;
    sync_segment_checks(ctx);
    return true;
}

// The code segment a far RET or IRET returns to: at the current privilege
// level or an outer one (RPL), never an inner one.
std::optional<Descriptor> return_target(CpuContext& ctx, std::uint16_t selector) {
    const unsigned cpl = ctx.state.cpl();
    const unsigned rpl = selector & 3;
    if (error_of(selector) == 0) {
        fail(ctx, vector::GP, 0);
        return std::nullopt;
    }
    std::optional<Descriptor> d = read_descriptor(ctx, selector);
    if (!d) return std::nullopt;
    if (!d->is_code() || rpl < cpl || (d->conforming() ? d->dpl() > rpl : d->dpl() != rpl)) {
        fail(ctx, vector::GP, error_of(selector));
        return std::nullopt;
    }
    if (!d->present()) {
        fail(ctx, vector::NP, error_of(selector));
        return std::nullopt;
    }
    return d;
}

// The return half of RET and IRET in protected mode: CS:EIP, and for an
// outer level SS:ESP popped from `ss_depth` bytes up the stack (ESP then
// `release` bytes further). `commit_flags` runs once nothing can fault
// any more, before the CPL changes.
template <typename CommitFlags>
bool return_protected(CpuContext& ctx, std::uint16_t selector, std::uint32_t eip,
                      std::uint32_t ss_depth, unsigned bytes, std::uint32_t release,
                      CommitFlags commit_flags) {
    CpuState& st = ctx.state;
    std::optional<Descriptor> code = return_target(ctx, selector);
    if (!code) return false;
    const unsigned rpl = selector & 3;
    if (rpl == st.cpl()) {
        if (eip > code->limit()) return fail(ctx, vector::GP, 0);
        mark_accessed(ctx, selector, *code);
        if (ctx.abort_instruction) return false;
        commit_flags();
        st.segment(SegReg::Cs) = code->to_cache(selector);
        st.eip = eip;
        stack_release(ctx, ss_depth + release);
        sync_segment_checks(ctx);
        return true;
    }
    std::uint32_t esp = 0;
    std::uint32_t ss_word = 0;
    if (!stack_read(ctx, ss_depth + release, bytes, esp) ||
        !stack_read(ctx, ss_depth + release + bytes, bytes, ss_word)) {
        return false;
    }
    const auto ss = static_cast<std::uint16_t>(ss_word);
    std::optional<Descriptor> stack = check_stack_segment(ctx, ss, rpl, vector::GP, 0);
    if (!stack) return false;
    if (eip > code->limit()) return fail(ctx, vector::GP, 0);
    mark_accessed(ctx, selector, *code);
    if (ctx.abort_instruction) return false;
    mark_accessed(ctx, ss, *stack);
    if (ctx.abort_instruction) return false;
    commit_flags();
    st.segment(SegReg::Cs) = code->to_cache(selector);
    st.eip = eip;
    st.segment(SegReg::Ss) = stack->to_cache(ss);
    set_sp(st, esp + release);  // (ESP as wide as the new SS has it)
    drop_inner_segments(ctx);
    return true;
}

// IRET to virtual-8086 mode from ring 0 (SDM Vol. 2A, IRET,
// RETURN-TO-VIRTUAL-8086-MODE): ESP, SS, ES, DS, FS and GS follow EFLAGS on
// the stack, all 32-bit.
bool iret_to_v86(CpuContext& ctx, std::uint32_t eip, std::uint32_t cs, std::uint32_t flags) {
    CpuState& st = ctx.state;
    std::array<std::uint32_t, 6> v{};  // ESP SS ES DS FS GS
    for (unsigned i = 0; i < v.size(); ++i) {
        if (!stack_read(ctx, 12 + 4 * i, 4, v[i])) return false;
    }
    st.set_eflags(flags | eflags::Fixed1);
    auto load = [&](SegReg r, std::uint32_t selector) {
        const std::uint16_t attributes =
            (r == SegReg::Cs ? seg_attr::kRealModeCode : seg_attr::kRealModeData) |
            (3u << seg_attr::kDplShift);
        const auto sel = static_cast<std::uint16_t>(selector);
        st.segment(r) = SegmentRegister{std::uint32_t{sel} << 4, 0xFFFF, sel, attributes};
    };
    load(SegReg::Cs, cs);
    load(SegReg::Ss, v[1]);
    load(SegReg::Es, v[2]);
    load(SegReg::Ds, v[3]);
    load(SegReg::Fs, v[4]);
    load(SegReg::Gs, v[5]);
    st.reg(Gpr::Esp) = v[0];
    st.eip = eip & 0xFFFF;
    sync_segment_checks(ctx);
    return true;
}

// IRET with NT: back to the task in the current TSS's back link, which
// must be a busy TSS in the GDT (SDM Vol. 2A, IRET, TASK-RETURN).
bool iret_task_return(CpuContext& ctx, std::uint32_t next_eip) {
    const CpuState& st = ctx.state;
    const auto link = static_cast<std::uint16_t>(runtime::read_system(ctx, st.tr.base, 2));
    if (ctx.abort_instruction) return false;
    std::optional<Descriptor> d;
    if (!(link & 4)) d = find_descriptor(ctx, link);
    if (ctx.abort_instruction) return false;
    if (!d || !d->is_system() || (d->type() != 0x3 && d->type() != 0xB)) {
        return fail(ctx, vector::TS, error_of(link));
    }
    if (!d->present()) return fail(ctx, vector::NP, error_of(link));
    if (!switch_task(ctx, link, *d, TaskSwitch::Iret, next_eip, 0)) return false;
    defer_fault(ctx);
    return true;
}

// The EFLAGS bits an IRET at privilege `cpl` loads in protected mode.
std::uint32_t iret_flags_mask(const CpuState& st, bool op32) {
    std::uint32_t mask = eflags::CF | eflags::PF | eflags::AF | eflags::ZF | eflags::SF |
                         eflags::TF | eflags::DF | eflags::OF | eflags::NT;
    if (op32) mask |= eflags::AC | eflags::ID | eflags::RF;
    const unsigned cpl = st.cpl();
    const unsigned iopl = (st.eflags() & eflags::IOPL) >> 12;
    if (cpl <= iopl) mask |= eflags::IF;
    if (cpl == 0) {
        mask |= eflags::IOPL;
        if (op32) mask |= eflags::VIF | eflags::VIP;
    }
    return mask;
}

}  // namespace

bool stack_push(CpuContext& ctx, std::uint32_t value, unsigned bytes) {
    CpuState& st = ctx.state;
    const std::uint32_t sp = (st.reg(Gpr::Esp) - bytes) & sp_mask(st);
    if (!check_segment_access(ctx, SegReg::Ss, sp, bytes, true)) return false;
    runtime::write(ctx, st.segment(SegReg::Ss).base + sp, bytes, value);
    if (ctx.abort_instruction) return false;
    set_sp(st, sp);
    return true;
}

bool stack_read(CpuContext& ctx, std::uint32_t depth, unsigned bytes, std::uint32_t& value) {
    const CpuState& st = ctx.state;
    const std::uint32_t sp = (st.reg(Gpr::Esp) + depth) & sp_mask(st);
    if (!check_segment_access(ctx, SegReg::Ss, sp, bytes, false)) return false;
    value = runtime::read(ctx, st.segment(SegReg::Ss).base + sp, bytes);
    return !ctx.abort_instruction;
}

void stack_release(CpuContext& ctx, std::uint32_t bytes) {
    CpuState& st = ctx.state;
    set_sp(st, st.reg(Gpr::Esp) + bytes);
}

std::uint64_t helper_load_segment(CpuContext& ctx, std::uint32_t seg, std::uint32_t selector,
                                  std::uint32_t) {
    load_data_segment(ctx, static_cast<SegReg>(seg), static_cast<std::uint16_t>(selector));
    return 0;
}

std::uint64_t helper_far_jump(CpuContext& ctx, std::uint32_t selector_size, std::uint32_t offset,
                              std::uint32_t next_eip) {
    const bool op32 = (selector_size & kSelectorOperandSize32) != 0;
    const auto selector = static_cast<std::uint16_t>(selector_size);
    const std::uint32_t eip = op32 ? offset : offset & 0xFFFF;
    if (!protected_addressing(ctx.state)) {
        jump_real(ctx, selector, eip);
    } else {
        jump_protected(ctx, selector, eip, next_eip);
    }
    return 0;
}

std::uint64_t helper_far_call(CpuContext& ctx, std::uint32_t selector_size, std::uint32_t offset,
                              std::uint32_t next_eip) {
    CpuState& st = ctx.state;
    const bool op32 = (selector_size & kSelectorOperandSize32) != 0;
    const auto selector = static_cast<std::uint16_t>(selector_size);
    const unsigned bytes = op32 ? 4 : 2;
    const std::uint32_t eip = op32 ? offset : offset & 0xFFFF;
    const bool prot = protected_addressing(st);
    if (prot) {
        if (error_of(selector) == 0) {
            fail(ctx, vector::GP, 0);
            return 0;
        }
        std::optional<Descriptor> d = read_descriptor(ctx, selector);
        if (!d) return 0;
        if (!d->is_code()) {
            if (!check_system_target(ctx, selector, *d)) return 0;
            if (d->type() == kCallGate16 || d->type() == kCallGate32) {
                call_through_gate(ctx, *d, next_eip);
            } else {
                switch_by(ctx, selector, *d, TaskSwitch::Call, next_eip);
            }
            return 0;
        }
    }
    const std::uint32_t old_esp = st.reg(Gpr::Esp);
    const CpuState saved = st;
    if (!check_stack_room(ctx, 2, bytes)) return 0;
    if (!stack_push(ctx, st.segment(SegReg::Cs).selector, bytes) ||
        !stack_push(ctx, next_eip, bytes)) {
        st.reg(Gpr::Esp) = old_esp;
        return 0;
    }
    const bool ok = prot ? load_code_segment(ctx, selector, eip) : jump_real(ctx, selector, eip);
    if (!ok) {
        st = saved;  // the target faulted: nothing of the call happened
        sync_segment_checks(ctx);
    }
    return 0;
}

std::uint64_t helper_far_return(CpuContext& ctx, std::uint32_t flags, std::uint32_t,
                                std::uint32_t) {
    CpuState& st = ctx.state;
    const bool op32 = (flags & kOperandSize32) != 0;
    const unsigned bytes = op32 ? 4 : 2;
    const std::uint32_t release = flags & 0xFFFF;
    std::uint32_t eip = 0;
    std::uint32_t cs = 0;
    if (!stack_read(ctx, 0, bytes, eip) || !stack_read(ctx, bytes, bytes, cs)) return 0;
    if (!op32) eip &= 0xFFFF;
    const auto selector = static_cast<std::uint16_t>(cs);
    if (!protected_addressing(st)) {
        if (jump_real(ctx, selector, eip)) stack_release(ctx, 2 * bytes + release);
        return 0;
    }
    return_protected(ctx, selector, eip, 2 * bytes, bytes, release, [] {});
    return 0;
}

std::uint64_t helper_iret(CpuContext& ctx, std::uint32_t flags, std::uint32_t next_eip,
                          std::uint32_t) {
    CpuState& st = ctx.state;
    const bool op32 = (flags & kOperandSize32) != 0;
    const unsigned bytes = op32 ? 4 : 2;
    if (st.protected_mode() && !st.v86_mode() && (st.eflags() & eflags::NT)) {
        iret_task_return(ctx, next_eip);
        return 0;
    }
    std::uint32_t eip = 0, cs = 0, fl = 0;
    if (!stack_read(ctx, 0, bytes, eip) || !stack_read(ctx, bytes, bytes, cs) ||
        !stack_read(ctx, 2 * bytes, bytes, fl)) {
        return 0;
    }
    if (!op32) eip &= 0xFFFF;
    const auto selector = static_cast<std::uint16_t>(cs);
    if (protected_addressing(st)) {
        if (op32 && (fl & eflags::VM) && st.cpl() == 0) {
            iret_to_v86(ctx, eip, cs, fl);
            return 0;
        }
        std::uint32_t mask = iret_flags_mask(st, op32);
        if (!op32) mask &= 0xFFFF;
        return_protected(ctx, selector, eip, 3 * bytes, bytes, 0, [&] {
            st.set_eflags(((st.eflags() & ~mask) | (fl & mask)) | eflags::Fixed1);
        });
        return 0;
    }
    std::uint32_t mask;
    if (!st.protected_mode()) {
        // Real mode (SDM Vol. 2A, IRET): VM, VIP, VIF and RF are not loaded.
        mask = op32 ? 0x257FD5u : 0x7FD5u;
    } else {
        // Virtual-8086 mode: only with IOPL 3, which it cannot change.
        if ((st.eflags() & eflags::IOPL) != eflags::IOPL) {
            fail(ctx, vector::GP, 0);
            return 0;
        }
        mask = op32 ? 0x254FD5u : 0x4FD5u;
    }
    if (!jump_real(ctx, selector, eip)) return 0;
    st.set_eflags(((st.eflags() & ~mask) | (fl & mask)) | eflags::Fixed1);
    stack_release(ctx, 3 * bytes);
    sync_segment_checks(ctx);
    return 0;
}

}  // namespace jitterbug::cpu
