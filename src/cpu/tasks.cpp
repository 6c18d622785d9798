#include "cpu/tasks.hpp"

#include "cpu/helpers/helpers.hpp"

namespace jitterbug::cpu {

namespace {

// TSS descriptor types (SDM Vol. 3A, Table 3-2): 16-bit and 32-bit,
// available and busy.
constexpr unsigned kTss16Available = 0x1;
constexpr unsigned kTss16Busy = 0x3;
constexpr unsigned kTss32Available = 0x9;
constexpr unsigned kTss32Busy = 0xB;
constexpr unsigned kBusyBit = 0x2;

// The smallest limits a TSS may have (SDM Vol. 3A, 7.2.2 and 7.6).
constexpr std::uint32_t kTss32MinLimit = 0x67;
constexpr std::uint32_t kTss16MinLimit = 0x2B;

bool is_tss32(unsigned type) { return type == kTss32Available || type == kTss32Busy; }

// The dynamic fields of a TSS: what a task switch saves and loads.
struct TaskImage {
    std::uint32_t cr3 = 0;
    std::uint32_t eip = 0;
    std::uint32_t eflags = 0;
    std::array<std::uint32_t, kNumGprs> gpr{};
    std::array<std::uint16_t, kNumSegRegs> seg{};  // in SegReg order, as the TSS keeps them
    std::uint16_t ldt = 0;
    bool trap = false;  // the T bit: #DB on entering the task
};

// Field offsets (SDM Vol. 3A, Figures 7-2 and 7-11).
namespace tss32 {
constexpr std::uint32_t kCr3 = 0x1C, kEip = 0x20, kEflags = 0x24, kGpr = 0x28, kSeg = 0x48,
                        kLdt = 0x60, kTrap = 0x64;
}  // namespace tss32
namespace tss16 {
constexpr std::uint32_t kIp = 0x0E, kFlags = 0x10, kGpr = 0x12, kSeg = 0x22, kLdt = 0x2A;
constexpr unsigned kSegs = 4;  // ES, CS, SS, DS: a 16-bit TSS has no FS and GS
}  // namespace tss16

bool read_image(CpuContext& ctx, std::uint32_t base, bool is32, TaskImage& t) {
    auto rd = [&](std::uint32_t offset, unsigned size) {
        return runtime::read_system(ctx, base + offset, size);
    };
    if (is32) {
        t.cr3 = rd(tss32::kCr3, 4);
        t.eip = rd(tss32::kEip, 4);
        t.eflags = rd(tss32::kEflags, 4);
        for (unsigned i = 0; i < kNumGprs; ++i)
            t.gpr[i] = rd(tss32::kGpr + 4 * i, 4);
        for (unsigned i = 0; i < kNumSegRegs; ++i)
            t.seg[i] = static_cast<std::uint16_t>(rd(tss32::kSeg + 4 * i, 2));
        t.ldt = static_cast<std::uint16_t>(rd(tss32::kLdt, 2));
        t.trap = (rd(tss32::kTrap, 2) & 1) != 0;
    } else {
        t.eip = rd(tss16::kIp, 2);
        t.eflags = rd(tss16::kFlags, 2);
        // The upper halves of the registers read as ones, as on the
        // processors that have 32-bit registers.
        for (unsigned i = 0; i < kNumGprs; ++i)
            t.gpr[i] = 0xFFFF0000u | rd(tss16::kGpr + 2 * i, 2);
        for (unsigned i = 0; i < tss16::kSegs; ++i)
            t.seg[i] = static_cast<std::uint16_t>(rd(tss16::kSeg + 2 * i, 2));
        t.ldt = static_cast<std::uint16_t>(rd(tss16::kLdt, 2));
    }
    return !ctx.abort_instruction;
}

bool write_image(CpuContext& ctx, std::uint32_t base, bool is32, const TaskImage& t) {
    auto wr = [&](std::uint32_t offset, unsigned size, std::uint32_t value) {
        if (!ctx.abort_instruction) runtime::write_system(ctx, base + offset, size, value);
    };
    if (is32) {
        wr(tss32::kEip, 4, t.eip);
        wr(tss32::kEflags, 4, t.eflags);
        for (unsigned i = 0; i < kNumGprs; ++i)
            wr(tss32::kGpr + 4 * i, 4, t.gpr[i]);
        for (unsigned i = 0; i < kNumSegRegs; ++i)
            wr(tss32::kSeg + 4 * i, 2, t.seg[i]);
    } else {
        wr(tss16::kIp, 2, t.eip);
        wr(tss16::kFlags, 2, t.eflags);
        for (unsigned i = 0; i < kNumGprs; ++i)
            wr(tss16::kGpr + 2 * i, 2, t.gpr[i]);
        for (unsigned i = 0; i < tss16::kSegs; ++i)
            wr(tss16::kSeg + 2 * i, 2, t.seg[i]);
    }
    return !ctx.abort_instruction;
}

void set_busy(CpuContext& ctx, std::uint16_t selector, Descriptor d, bool busy) {
    if (busy) {
        d.high |= kBusyBit << 8;
    } else {
        d.high &= ~(kBusyBit << 8);
    }
    write_access_byte(ctx, selector, d);
}

// Virtual-8086 segment caches: base selector * 16, a 64 KiB limit, DPL 3.
void load_segment_v86(CpuState& st, SegReg r, std::uint16_t selector) {
    const std::uint16_t attributes =
        (r == SegReg::Cs ? seg_attr::kRealModeCode : seg_attr::kRealModeData) |
        (3u << seg_attr::kDplShift);
    st.segment(r) = SegmentRegister{std::uint32_t{selector} << 4, 0xFFFF, selector, attributes};
}

// The new task's LDT (SDM Vol. 3A, 7.3, step 12): faults are #TS(LDT).
bool load_task_ldt(CpuContext& ctx, std::uint16_t selector, std::uint32_t ext) {
    CpuState& st = ctx.state;
    const std::uint32_t error = (selector & 0xFFFCu) | ext;
    if ((selector & 0xFFFC) == 0) {
        st.ldtr = SegmentRegister{0, 0, selector, 0};
        return true;
    }
    std::optional<Descriptor> d;
    if (!(selector & 4)) d = find_descriptor(ctx, selector);
    if (ctx.abort_instruction) return false;
    if (!d || !d->is_system() || d->type() != 2 || !d->present()) {
        runtime::raise_fault(ctx, vector::TS, error);
        return false;
    }
    st.ldtr = d->to_cache(selector);
    return true;
}

// The new task's code segment, at the privilege its RPL names.
bool load_task_code(CpuContext& ctx, std::uint16_t selector, std::uint32_t ext) {
    const std::uint32_t error = (selector & 0xFFFCu) | ext;
    std::optional<Descriptor> d;
    if ((selector & 0xFFFC) != 0) d = find_descriptor(ctx, selector);
    if (ctx.abort_instruction) return false;
    const unsigned rpl = selector & 3;
    if (!d || !d->is_code() || (d->conforming() ? d->dpl() > rpl : d->dpl() != rpl)) {
        runtime::raise_fault(ctx, vector::TS, error);
        return false;
    }
    return load_present_segment(ctx, SegReg::Cs, selector, *d, error);
}

// A data segment register of the new task: null is allowed.
bool load_task_data(CpuContext& ctx, SegReg r, std::uint16_t selector, std::uint32_t ext) {
    CpuState& st = ctx.state;
    const std::uint32_t error = (selector & 0xFFFCu) | ext;
    if ((selector & 0xFFFC) == 0) {
        st.segment(r) = SegmentRegister{0, 0, selector, 0};
        return true;
    }
    std::optional<Descriptor> d = find_descriptor(ctx, selector);
    if (ctx.abort_instruction) return false;
    if (!d || !data_segment_allowed(*d, st.cpl(), selector & 3)) {
        runtime::raise_fault(ctx, vector::TS, error);
        return false;
    }
    return load_present_segment(ctx, r, selector, *d, error);
}

// The new task's CR3, with the PDPTEs it names under PAE: a present one
// with reserved bits set is #GP(0) in the new task, with CR3 as it was.
bool load_task_cr3(CpuContext& ctx, std::uint32_t cr3) {
    CpuState& st = ctx.state;
    const std::uint32_t old = st.cr3;
    st.cr3 = cr3;
    if (configure_paging(ctx, st, true)) return true;
    st.cr3 = old;
    runtime::raise_fault(ctx, vector::GP, 0);
    return false;
}

// Everything of the new task that can fault, after the commit point.
bool load_task_segments(CpuContext& ctx, const TaskImage& t, std::uint32_t ext) {
    CpuState& st = ctx.state;
    if (!load_task_ldt(ctx, t.ldt, ext)) return false;
    if (st.v86_mode()) {
        for (unsigned i = 0; i < kNumSegRegs; ++i)
            load_segment_v86(st, static_cast<SegReg>(i), t.seg[i]);
        return true;
    }
    if (!load_task_code(ctx, t.seg[static_cast<unsigned>(SegReg::Cs)], ext)) return false;
    const std::uint16_t ss = t.seg[static_cast<unsigned>(SegReg::Ss)];
    std::optional<Descriptor> d = check_stack_segment(ctx, ss, st.cpl(), vector::TS, ext);
    if (!d || !load_present_segment(ctx, SegReg::Ss, ss, *d, (ss & 0xFFFCu) | ext)) return false;
    for (SegReg r : {SegReg::Ds, SegReg::Es, SegReg::Fs, SegReg::Gs}) {
        if (!load_task_data(ctx, r, t.seg[static_cast<unsigned>(r)], ext)) return false;
    }
    if (st.eip > st.segment(SegReg::Cs).limit) {
        runtime::raise_fault(ctx, vector::GP, ext);
        return false;
    }
    return true;
}

}  // namespace

bool tss_stack(CpuContext& ctx, unsigned dpl, std::uint32_t ext, std::uint16_t& ss,
               std::uint32_t& esp) {
    const SegmentRegister& tr = ctx.state.tr;
    const bool is32 = is_tss32(tr.attributes & seg_attr::kTypeMask);
    // ESPn at 4 + 8n and SSn at 8 + 8n (32-bit); SPn at 2 + 4n, SSn at 4 + 4n.
    const std::uint32_t at = is32 ? 4 + 8 * dpl : 2 + 4 * dpl;
    const std::uint32_t last = at + (is32 ? 7 : 3);
    if (last > tr.limit) {
        runtime::raise_fault(ctx, vector::TS, (tr.selector & 0xFFFCu) | ext);
        return false;
    }
    const unsigned width = is32 ? 4 : 2;
    esp = runtime::read_system(ctx, tr.base + at, width);
    if (ctx.abort_instruction) return false;
    ss = static_cast<std::uint16_t>(runtime::read_system(ctx, tr.base + at + width, 2));
    return !ctx.abort_instruction;
}

bool task_target(CpuContext& ctx, std::uint16_t selector, const Descriptor& d, std::uint32_t ext,
                 std::uint16_t& tss_selector, Descriptor& tss) {
    tss_selector = selector;
    tss = d;
    if (d.is_system() && d.type() == 5) {  // a task gate names the TSS
        if (!d.present()) {
            runtime::raise_fault(ctx, vector::NP, (selector & 0xFFFCu) | ext);
            return false;
        }
        tss_selector = static_cast<std::uint16_t>(d.low >> 16);
        const std::uint32_t error = (tss_selector & 0xFFFCu) | ext;
        std::optional<Descriptor> t;
        if (!(tss_selector & 4)) t = find_descriptor(ctx, tss_selector);
        if (ctx.abort_instruction) return false;
        if (!t) {
            runtime::raise_fault(ctx, vector::GP, error);
            return false;
        }
        tss = *t;
    }
    const std::uint32_t error = (tss_selector & 0xFFFCu) | ext;
    const unsigned type = tss.type();
    if ((tss_selector & 4) || !tss.is_system() ||
        (type != kTss16Available && type != kTss32Available)) {
        runtime::raise_fault(ctx, vector::GP, error);
        return false;
    }
    if (!tss.present()) {
        runtime::raise_fault(ctx, vector::NP, error);
        return false;
    }
    return true;
}

bool switch_task(CpuContext& ctx, std::uint16_t selector, Descriptor tss, TaskSwitch how,
                 std::uint32_t return_eip, std::uint32_t ext) {
    CpuState& st = ctx.state;
    const bool new32 = is_tss32(tss.type());
    if (tss.limit() < (new32 ? kTss32MinLimit : kTss16MinLimit)) {
        runtime::raise_fault(ctx, vector::TS, (selector & 0xFFFCu) | ext);
        return false;
    }
    TaskImage next;
    if (!read_image(ctx, tss.base(), new32, next)) return false;

    // The outgoing task: its registers, with EIP past the switching
    // instruction (or at a faulting one) and NT cleared when it is left
    // for good by IRET.
    const std::uint16_t old_selector = st.tr.selector;
    const SegmentRegister old_tr = st.tr;
    const bool old32 = is_tss32(old_tr.attributes & seg_attr::kTypeMask);
    TaskImage old;
    old.eip = return_eip;
    old.eflags = st.eflags();
    if (how == TaskSwitch::Iret) old.eflags &= ~eflags::NT;
    old.gpr = st.gpr;
    for (unsigned i = 0; i < kNumSegRegs; ++i)
        old.seg[i] = st.seg[i].selector;
    if (how != TaskSwitch::Call) {
        std::optional<Descriptor> current = find_descriptor(ctx, old_selector);
        if (ctx.abort_instruction) return false;
        if (current) {
            set_busy(ctx, old_selector, *current, false);
            if (ctx.abort_instruction) return false;
        }
    }
    if (!write_image(ctx, old_tr.base, old32, old)) return false;
    if (how == TaskSwitch::Call) {
        runtime::write_system(ctx, tss.base(), 2, old_selector);  // the back link
        if (ctx.abort_instruction) return false;
        next.eflags |= eflags::NT;
    }
    if (how != TaskSwitch::Iret) {
        tss.high |= kBusyBit << 8;
        set_busy(ctx, selector, tss, true);
        if (ctx.abort_instruction) return false;
    }

    // The commit point: from here on the new task is loaded, and faults are
    // its own.
    st.tr = tss.to_cache(selector);
    st.cr0 |= cr0::TS;
    // CR3 is loaded with paging on, whatever its value: the TLB keeps only
    // global entries (SDM Vol. 3A, 7.3 and 4.10.4).
    bool ok = !(new32 && st.paging()) || load_task_cr3(ctx, next.cr3);
    st.eip = next.eip;
    st.set_eflags((new32 ? next.eflags : (next.eflags & 0xFFFF)) | eflags::Fixed1);
    st.gpr = next.gpr;
    // Selectors first, unusable, so that a fault loading one leaves the
    // new task's selectors in place (the CPL follows the new CS).
    for (unsigned i = 0; i < kNumSegRegs; ++i)
        st.seg[i] = SegmentRegister{0, 0, next.seg[i], 0};
    st.dr[7] &= ~kDr7LocalEnables;  // the local breakpoints belong to the task left
    ok = ok && load_task_segments(ctx, next, ext);
    sync_segment_checks(ctx);
    if (ok && next.trap) {
        st.dr[6] |= kDr6TaskSwitch;
        ctx.pending_event = Event{EventKind::Trap, vector::DB, false, 0, st.eip};
    }
    return true;
}

void defer_fault(CpuContext& ctx) {
    if (!ctx.abort_instruction || !ctx.event.pending()) return;
    ctx.pending_event = ctx.event;
    ctx.event = {};
    ctx.abort_instruction = 0;
}

}  // namespace jitterbug::cpu
