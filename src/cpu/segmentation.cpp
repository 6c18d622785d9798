#include "cpu/segmentation.hpp"

#include "cpu/cpu.hpp"
#include "cpu/runtime.hpp"

namespace jitterbug::cpu {

namespace {

bool usable(const SegmentRegister& s) { return (s.attributes & seg_attr::P) != 0; }

std::uint8_t limit_fault_vector(SegReg s) { return s == SegReg::Ss ? vector::SS : vector::GP; }

}  // namespace

void sync_segment_checks(CpuContext& ctx) {
    const CpuState& st = ctx.state;
    const bool real = !st.protected_mode() || st.v86_mode();
    for (unsigned i = 0; i < kNumSegRegs; ++i) {
        const SegmentRegister& s = st.seg[i];
        std::int64_t read = s.limit;
        std::int64_t write = s.limit;
        if (!real) {
            const bool code = (s.attributes & seg_attr::kCode) != 0;
            const bool expand_down = !code && (s.attributes & seg_attr::kExpandDown);
            if (!usable(s) || expand_down || !(s.attributes & seg_attr::S)) {
                read = write = -1;
            } else if (code) {
                write = -1;
                if (!(s.attributes & seg_attr::kReadable)) read = -1;
            } else if (!(s.attributes & seg_attr::kWritable)) {
                write = -1;
            }
        }
        ctx.seg_read_limit[i] = read;
        ctx.seg_write_limit[i] = write;
    }
    ctx.tlb_set = mmu::tlb_set_of_cpl(st.cpl());
}

bool segment_allows(const SegmentRegister& seg, bool real, std::uint32_t offset, unsigned size,
                    bool write) {
    const std::uint64_t first = offset;
    const std::uint64_t last = first + size - 1;
    if (real) return last <= seg.limit;
    if (!usable(seg) || !(seg.attributes & seg_attr::S)) return false;
    if (seg.attributes & seg_attr::kCode) {
        return !write && (seg.attributes & seg_attr::kReadable) && last <= seg.limit;
    }
    if (write && !(seg.attributes & seg_attr::kWritable)) return false;
    if (seg.attributes & seg_attr::kExpandDown) {
        // Valid offsets lie above the limit, up to 64 KiB or 4 GiB (SDM Vol. 3A, 5.3).
        const std::uint64_t upper = seg.big() ? 0xFFFFFFFFull : 0xFFFFull;
        return first > seg.limit && last <= upper;
    }
    return last <= seg.limit;
}

bool check_segment_access(CpuContext& ctx, SegReg s, std::uint32_t offset, unsigned size,
                          bool write) {
    const CpuState& st = ctx.state;
    const bool real = !st.protected_mode() || st.v86_mode();
    const bool ok = segment_allows(st.segment(s), real, offset, size, write);
    if (!ok) runtime::raise_fault(ctx, limit_fault_vector(s), 0);
    return ok;
}

bool stack_fits(const StackPointer& stack, bool real, unsigned slots, unsigned bytes) {
    for (unsigned k = 1; k <= slots; ++k) {
        const std::uint32_t slot = (stack.esp - k * bytes) & stack.mask();
        if (!segment_allows(stack.ss, real, slot, bytes, true)) return false;
    }
    return true;
}

bool push_to(CpuContext& ctx, StackPointer& stack, std::uint32_t value, unsigned bytes) {
    const std::uint32_t sp = (stack.esp - bytes) & stack.mask();
    runtime::write_in(ctx, stack.set, stack.ss.base + sp, bytes, value);
    if (ctx.abort_instruction) return false;
    stack.esp = (stack.esp & ~stack.mask()) | sp;
    return true;
}

bool check_stack_room(CpuContext& ctx, unsigned slots, unsigned bytes) {
    const CpuState& st = ctx.state;
    const bool stack32 = st.segment(SegReg::Ss).big();
    const std::uint32_t mask = stack32 ? 0xFFFFFFFFu : 0xFFFFu;
    for (unsigned k = 1; k <= slots; ++k) {
        const std::uint32_t slot = (st.reg(Gpr::Esp) - k * bytes) & mask;
        if (!check_segment_access(ctx, SegReg::Ss, slot, bytes, true)) return false;
    }
    return true;
}

std::optional<Descriptor> find_descriptor(CpuContext& ctx, std::uint16_t selector) {
    const CpuState& st = ctx.state;
    const bool local = (selector & 4) != 0;
    const std::uint32_t base = local ? st.ldtr.base : st.gdtr.base;
    const std::uint32_t limit = local ? st.ldtr.limit : st.gdtr.limit;
    const std::uint32_t offset = selector & 0xFFF8u;
    if ((local && !usable(st.ldtr)) || offset + 7 > limit) return std::nullopt;
    Descriptor d;
    d.low = runtime::read_system(ctx, base + offset, 4);
    if (ctx.abort_instruction) return std::nullopt;
    d.high = runtime::read_system(ctx, base + offset + 4, 4);
    if (ctx.abort_instruction) return std::nullopt;
    return d;
}

std::optional<Descriptor> read_descriptor(CpuContext& ctx, std::uint16_t selector) {
    std::optional<Descriptor> d = find_descriptor(ctx, selector);
    if (!d && !ctx.abort_instruction) runtime::raise_fault(ctx, vector::GP, selector & 0xFFFC);
    return d;
}

void write_access_byte(CpuContext& ctx, std::uint16_t selector, const Descriptor& d) {
    const CpuState& st = ctx.state;
    const std::uint32_t base = (selector & 4) ? st.ldtr.base : st.gdtr.base;
    runtime::write_system(ctx, base + (selector & 0xFFF8u) + 5, 1, (d.high >> 8) & 0xFF);
}

void mark_accessed(CpuContext& ctx, std::uint16_t selector, Descriptor& d) {
    if (d.high & (1u << 8)) return;
    d.high |= 1u << 8;
    write_access_byte(ctx, selector, d);
}

void load_null_segment(CpuContext& ctx, SegReg s, std::uint16_t selector) {
    ctx.state.segment(s) = SegmentRegister{0, 0, selector, 0};
    sync_segment_checks(ctx);
}

std::optional<Descriptor> check_stack_segment(CpuContext& ctx, std::uint16_t selector, unsigned cpl,
                                              std::uint8_t type_fault, std::uint32_t ext) {
    const std::uint32_t error = (selector & 0xFFFCu) | ext;
    if ((selector & 0xFFFC) == 0) {
        runtime::raise_fault(ctx, type_fault, ext);
        return std::nullopt;
    }
    std::optional<Descriptor> d = find_descriptor(ctx, selector);
    if (!d) {
        if (!ctx.abort_instruction) runtime::raise_fault(ctx, type_fault, error);
        return std::nullopt;
    }
    if ((selector & 3) != cpl || d->dpl() != cpl || !d->writable_data()) {
        runtime::raise_fault(ctx, type_fault, error);
        return std::nullopt;
    }
    if (!d->present()) {
        runtime::raise_fault(ctx, vector::SS, error);
        return std::nullopt;
    }
    return d;
}

void drop_inner_segments(CpuContext& ctx) {
    CpuState& st = ctx.state;
    for (SegReg r : {SegReg::Es, SegReg::Ds, SegReg::Fs, SegReg::Gs}) {
        const SegmentRegister& s = st.segment(r);
        const bool conforming_code =
            (s.attributes & seg_attr::kCode) && (s.attributes & seg_attr::kConforming);
        if ((s.selector & 0xFFFC) != 0 && !conforming_code && s.dpl() < st.cpl()) {
            st.segment(r) = SegmentRegister{0, 0, 0, 0};
        }
    }
    sync_segment_checks(ctx);
}

bool data_segment_allowed(const Descriptor& d, unsigned cpl, unsigned rpl) {
    const bool readable = !d.is_system() && (!d.is_code() || (d.type() & 2));
    return readable && (d.conforming() || (d.dpl() >= cpl && d.dpl() >= rpl));
}

bool load_present_segment(CpuContext& ctx, SegReg r, std::uint16_t selector, Descriptor d,
                          std::uint32_t error) {
    if (!d.present()) {
        runtime::raise_fault(ctx, vector::NP, error);
        return false;
    }
    mark_accessed(ctx, selector, d);
    if (ctx.abort_instruction) return false;
    ctx.state.segment(r) = d.to_cache(selector);
    return true;
}

bool load_data_segment(CpuContext& ctx, SegReg s, std::uint16_t selector) {
    CpuState& st = ctx.state;
    std::optional<Descriptor> d;
    if (s == SegReg::Ss) {
        d = check_stack_segment(ctx, selector, st.cpl(), vector::GP, 0);
        if (!d) return false;
    } else {
        if ((selector & 0xFFFC) == 0) {
            load_null_segment(ctx, s, selector);
            return true;
        }
        d = read_descriptor(ctx, selector);
        if (!d) return false;
        if (!data_segment_allowed(*d, st.cpl(), selector & 3)) {
            runtime::raise_fault(ctx, vector::GP, selector & 0xFFFCu);
            return false;
        }
    }
    if (!load_present_segment(ctx, s, selector, *d, selector & 0xFFFCu)) return false;
    sync_segment_checks(ctx);
    return true;
}

bool load_code_segment(CpuContext& ctx, std::uint16_t selector, std::uint32_t eip) {
    CpuState& st = ctx.state;
    const unsigned cpl = st.cpl();
    const std::uint16_t error = selector & 0xFFFC;
    if (error == 0) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return false;
    }
    std::optional<Descriptor> d = read_descriptor(ctx, selector);
    if (!d) return false;
    if (!d->is_code()) {
        // Call gates, task gates and TSS targets arrive with the system architecture.
        runtime::raise_fault(ctx, vector::GP, error);
        return false;
    }
    const bool conforming = (d->type() & 4) != 0;
    const unsigned rpl = selector & 3;
    if ((conforming && d->dpl() > cpl) || (!conforming && (rpl > cpl || d->dpl() != cpl))) {
        runtime::raise_fault(ctx, vector::GP, error);
        return false;
    }
    if (!d->present()) {
        runtime::raise_fault(ctx, vector::NP, error);
        return false;
    }
    if (eip > d->limit()) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return false;
    }
    mark_accessed(ctx, selector, *d);
    if (ctx.abort_instruction) return false;
    // CS.RPL becomes the CPL (SDM Vol. 3A, 5.8.1).
    st.segment(SegReg::Cs) = d->to_cache(static_cast<std::uint16_t>((selector & ~3u) | cpl));
    st.eip = eip;
    sync_segment_checks(ctx);
    return true;
}

}  // namespace jitterbug::cpu
