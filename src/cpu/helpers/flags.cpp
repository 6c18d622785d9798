// POPF, CLI, STI, the interrupt shadow and INTO.
#include "cpu/helpers/helpers.hpp"

namespace jitterbug::cpu {

namespace {
unsigned iopl(const CpuState& st) { return (st.eflags() & eflags::IOPL) >> 12; }
}  // namespace

// POPF/POPFD (SDM Vol. 2B, POPF): which bits the current mode and privilege
// may change. RF is cleared; VM, VIP and VIF are never loaded here.
std::uint64_t helper_write_eflags(CpuContext& ctx, std::uint32_t value, std::uint32_t bits,
                                  std::uint32_t) {
    CpuState& st = ctx.state;
    std::uint32_t mask = eflags::CF | eflags::PF | eflags::AF | eflags::ZF | eflags::SF |
                         eflags::TF | eflags::DF | eflags::OF | eflags::NT;
    if (bits == 32) mask |= eflags::AC | eflags::ID;
    if (!st.protected_mode()) {
        mask |= eflags::IF | eflags::IOPL;
    } else if (st.v86_mode()) {
        if (iopl(st) < 3) {
            runtime::raise_fault(ctx, vector::GP, 0);
            return 0;
        }
        mask |= eflags::IF;
    } else if (st.cpl() == 0) {
        mask |= eflags::IF | eflags::IOPL;
    } else if (st.cpl() <= iopl(st)) {
        mask |= eflags::IF;
    }
    std::uint32_t f = (st.eflags() & ~mask) | (value & mask);
    if (bits == 32) f &= ~eflags::RF;
    st.set_eflags(f | eflags::Fixed1);
    return 0;
}

namespace {
// CLI/STI may change IF when CPL <= IOPL (or IOPL = 3 in v86 mode).
bool may_change_if(CpuContext& ctx) {
    const CpuState& st = ctx.state;
    if (!st.protected_mode()) return true;
    const bool ok = st.v86_mode() ? iopl(st) == 3 : st.cpl() <= iopl(st);
    if (!ok) runtime::raise_fault(ctx, vector::GP, 0);
    return ok;
}
}  // namespace

std::uint64_t helper_cli(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    if (may_change_if(ctx)) ctx.state.set_eflags(ctx.state.eflags() & ~eflags::IF);
    return 0;
}

std::uint64_t helper_sti(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    if (!may_change_if(ctx)) return 0;
    // Interrupts stay off until after the next instruction when STI sets IF
    // (SDM Vol. 2B, STI).
    if (!(ctx.state.eflags() & eflags::IF)) ctx.interrupt_shadow = true;
    ctx.state.set_eflags(ctx.state.eflags() | eflags::IF);
    return 0;
}

// A load of SS holds debug exceptions off too, until after the next
// instruction (SDM Vol. 3A, 6.8.3); STI does not.
std::uint64_t helper_inhibit_interrupts(CpuContext& ctx, std::uint32_t ss_load, std::uint32_t,
                                        std::uint32_t) {
    ctx.interrupt_shadow = true;
    if (ss_load) ctx.debug_shadow = true;
    return 0;
}

// PUSHF and INT n in virtual-8086 mode need IOPL 3 (SDM Vol. 3A, 20.2.7);
// the monitor emulates them otherwise.
std::uint64_t helper_v86_sensitive(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    if (ctx.state.v86_mode() && iopl(ctx.state) < 3) runtime::raise_fault(ctx, vector::GP, 0);
    return 0;
}

std::uint64_t helper_into(CpuContext& ctx, std::uint32_t next_eip, std::uint32_t, std::uint32_t) {
    if (ctx.state.eflags() & eflags::OF) {
        runtime::raise(ctx, Event{EventKind::SoftwareInterrupt, vector::OF, false, 0, next_eip});
    }
    return 0;
}

}  // namespace jitterbug::cpu
