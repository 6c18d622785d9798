// Segment register loads and far transfers: far JMP, far CALL, far RET,
// IRET. Real and virtual-8086 mode load segments by selector; protected mode
// loads and checks descriptors for transfers within the current privilege
// level. Call gates, task switches and privilege changes arrive with the
// system architecture and raise #GP until then.
#include "cpu/helpers/helpers.hpp"

namespace jitterbug::cpu {

namespace {

constexpr std::uint32_t kOperandSize32 = 0x80000000u;

bool stack32(const CpuState& st) { return st.segment(SegReg::Ss).big(); }
std::uint32_t sp_mask(const CpuState& st) { return stack32(st) ? 0xFFFFFFFFu : 0xFFFFu; }

void set_sp(CpuState& st, std::uint32_t sp) {
    const std::uint32_t m = sp_mask(st);
    st.reg(Gpr::Esp) = (st.reg(Gpr::Esp) & ~m) | (sp & m);
}

// Real/v86 far transfer target: CS by selector, EIP within the CS limit.
bool jump_real(CpuContext& ctx, std::uint16_t selector, std::uint32_t eip) {
    CpuState& st = ctx.state;
    if (eip > st.segment(SegReg::Cs).limit) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return false;
    }
    load_segment_real(st, SegReg::Cs, selector);
    st.eip = eip;
    return true;
}

bool far_transfer(CpuContext& ctx, std::uint16_t selector, std::uint32_t eip) {
    const CpuState& st = ctx.state;
    if (!st.protected_mode() || st.v86_mode()) return jump_real(ctx, selector, eip);
    return load_code_segment(ctx, selector, eip);
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

std::uint64_t helper_far_jump(CpuContext& ctx, std::uint32_t selector, std::uint32_t offset,
                              std::uint32_t flags) {
    const std::uint32_t eip = (flags & kOperandSize32) ? offset : offset & 0xFFFF;
    far_transfer(ctx, static_cast<std::uint16_t>(selector), eip);
    return 0;
}

std::uint64_t helper_far_call(CpuContext& ctx, std::uint32_t selector, std::uint32_t offset,
                              std::uint32_t flags) {
    CpuState& st = ctx.state;
    const bool op32 = (flags & kOperandSize32) != 0;
    const unsigned bytes = op32 ? 4 : 2;
    const std::uint32_t next_eip = flags & ~kOperandSize32;
    const std::uint32_t eip = op32 ? offset : offset & 0xFFFF;
    const std::uint32_t old_esp = st.reg(Gpr::Esp);
    const CpuState saved = st;
    if (!check_stack_room(ctx, 2, bytes)) return 0;
    if (!stack_push(ctx, st.segment(SegReg::Cs).selector, bytes) ||
        !stack_push(ctx, next_eip, bytes)) {
        st.reg(Gpr::Esp) = old_esp;
        return 0;
    }
    if (!far_transfer(ctx, static_cast<std::uint16_t>(selector), eip)) {
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
    if (st.protected_mode() && !st.v86_mode() && (selector & 3) > st.cpl()) {
        // A return to an outer privilege level switches stacks (issue 5).
        runtime::raise_fault(ctx, vector::GP, selector & 0xFFFC);
        return 0;
    }
    if (!far_transfer(ctx, selector, eip)) return 0;
    stack_release(ctx, 2 * bytes + release);
    return 0;
}

std::uint64_t helper_iret(CpuContext& ctx, std::uint32_t flags, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    const bool op32 = (flags & kOperandSize32) != 0;
    const unsigned bytes = op32 ? 4 : 2;
    std::uint32_t eip = 0, cs = 0, fl = 0;
    if (!stack_read(ctx, 0, bytes, eip) || !stack_read(ctx, bytes, bytes, cs) ||
        !stack_read(ctx, 2 * bytes, bytes, fl)) {
        return 0;
    }
    if (!op32) eip &= 0xFFFF;
    const auto selector = static_cast<std::uint16_t>(cs);
    std::uint32_t mask;
    if (!st.protected_mode()) {
        // Real mode (SDM Vol. 2A, IRET): VM, VIP, VIF and RF are not loaded.
        mask = op32 ? 0x257FD5u : 0x7FD5u;
    } else {
        if (st.v86_mode() || (st.eflags() & eflags::NT) || (selector & 3) != st.cpl() ||
            (op32 && (fl & eflags::VM) && st.cpl() == 0)) {
            // Task returns, virtual-8086 mode and privilege changes (issue 5).
            runtime::raise_fault(ctx, vector::GP, 0);
            return 0;
        }
        mask = eflags::CF | eflags::PF | eflags::AF | eflags::ZF | eflags::SF | eflags::TF |
               eflags::DF | eflags::OF | eflags::NT;
        if (op32) mask |= eflags::AC | eflags::ID | eflags::RF;
        const unsigned iopl = (st.eflags() & eflags::IOPL) >> 12;
        if (st.cpl() == 0) mask |= eflags::IOPL | eflags::IF;
        if (st.cpl() != 0 && st.cpl() <= iopl) mask |= eflags::IF;
    }
    if (!far_transfer(ctx, selector, eip)) return 0;
    st.set_eflags(((st.eflags() & ~mask) | (fl & mask)) | eflags::Fixed1);
    stack_release(ctx, 3 * bytes);
    sync_segment_checks(ctx);
    return 0;
}

}  // namespace jitterbug::cpu
