// The string instructions, element by element. Registers advance only after
// an element completes, so a fault leaves the state of the last completed
// element with EIP at the instruction (SDM Vol. 2B, REP). A REP does at most
// kBytesPerCall bytes per call (an element alone counts as kElementCost) so
// that interrupts are noticed in between. REP MOVS
// and REP STOS over plain RAM go a page at a time with host memcpy/memset.
#include <algorithm>
#include <cstring>

#include "cpu/cpu.hpp"
#include "cpu/helpers/helpers.hpp"
#include "cpu/string_op.hpp"
#include "devices/port_io_bus.hpp"
#include "jit/ir/eval.hpp"

namespace jitterbug::cpu {

namespace {

constexpr std::uint32_t kBytesPerCall = 256 * 1024;
// What an element done one at a time takes of that: a call does at most
// 1024 of them (a guest's REP LODS over 4 GiB of MMIO or open bus is
// legitimate, but must not keep interrupts and stop requests waiting), and
// so many bytes in bulk.
constexpr std::uint32_t kElementCost = 256;

struct Cursor {
    std::uint32_t mask;  // address-size mask of (E)SI/(E)DI/(E)CX
    std::int32_t step;   // +size or -size by EFLAGS.DF
};

bool load(CpuContext& ctx, SegReg seg, std::uint32_t offset, unsigned size, std::uint32_t& value) {
    if (!check_segment_access(ctx, seg, offset, size, false)) return false;
    value = runtime::read(ctx, ctx.state.segment(seg).base + offset, size);
    return !ctx.abort_instruction;
}

bool store(CpuContext& ctx, SegReg seg, std::uint32_t offset, unsigned size, std::uint32_t value) {
    if (!check_segment_access(ctx, seg, offset, size, true)) return false;
    runtime::write(ctx, ctx.state.segment(seg).base + offset, size, value);
    return !ctx.abort_instruction;
}

void set_flags_of_compare(CpuState& st, unsigned size, std::uint32_t a, std::uint32_t b) {
    const ir::eval::Out o = size == 1   ? ir::eval::sub<8>(a, b, 0)
                            : size == 2 ? ir::eval::sub<16>(a, b, 0)
                                        : ir::eval::sub<32>(a, b, 0);
    st.set_eflags((st.eflags() & ~eflags::kArithmetic) | o.flags);
}

std::uint32_t accumulator(const CpuState& st, unsigned size) {
    const std::uint32_t eax = st.reg(Gpr::Eax);
    return size == 4 ? eax : eax & ((1u << (8 * size)) - 1);
}

void set_accumulator(CpuState& st, unsigned size, std::uint32_t v) {
    std::uint32_t& eax = st.reg(Gpr::Eax);
    if (size == 4) {
        eax = v;
    } else {
        const std::uint32_t mask = (1u << (8 * size)) - 1;
        eax = (eax & ~mask) | (v & mask);
    }
}

void advance(CpuState& st, Gpr r, const Cursor& c) {
    std::uint32_t& reg = st.reg(r);
    reg = (reg & ~c.mask) | ((reg + static_cast<std::uint32_t>(c.step)) & c.mask);
}

// One element; false when an access faulted (nothing committed).
bool element(CpuContext& ctx, const StringOp& op, const Cursor& c) {
    CpuState& st = ctx.state;
    const auto src_seg = static_cast<SegReg>(op.segment);
    const std::uint32_t si = st.reg(Gpr::Esi) & c.mask;
    const std::uint32_t di = st.reg(Gpr::Edi) & c.mask;
    const auto port = static_cast<std::uint16_t>(st.reg(Gpr::Edx));
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    switch (op.kind) {
        case StringOpKind::Movs:
            if (!load(ctx, src_seg, si, op.size, a) || !store(ctx, SegReg::Es, di, op.size, a))
                return false;
            advance(st, Gpr::Esi, c);
            advance(st, Gpr::Edi, c);
            return true;
        case StringOpKind::Stos:
            if (!store(ctx, SegReg::Es, di, op.size, accumulator(st, op.size))) return false;
            advance(st, Gpr::Edi, c);
            return true;
        case StringOpKind::Lods:
            if (!load(ctx, src_seg, si, op.size, a)) return false;
            set_accumulator(st, op.size, a);
            advance(st, Gpr::Esi, c);
            return true;
        case StringOpKind::Cmps:
            if (!load(ctx, src_seg, si, op.size, a) || !load(ctx, SegReg::Es, di, op.size, b))
                return false;
            set_flags_of_compare(st, op.size, a, b);
            advance(st, Gpr::Esi, c);
            advance(st, Gpr::Edi, c);
            return true;
        case StringOpKind::Scas:
            if (!load(ctx, SegReg::Es, di, op.size, b)) return false;
            set_flags_of_compare(st, op.size, accumulator(st, op.size), b);
            advance(st, Gpr::Edi, c);
            return true;
        case StringOpKind::Ins:
            if (!check_io_permission(ctx, port, op.size)) return false;
            // The destination is checked before the port is read (a read may
            // have side effects on the device).
            if (!check_segment_access(ctx, SegReg::Es, di, op.size, true)) return false;
            a = ctx.cpu->io().read(port, op.size);
            if (!store(ctx, SegReg::Es, di, op.size, a)) return false;
            advance(st, Gpr::Edi, c);
            return true;
        case StringOpKind::Outs:
            if (!check_io_permission(ctx, port, op.size)) return false;
            if (!load(ctx, src_seg, si, op.size, a)) return false;
            ctx.cpu->io().write(port, op.size, a);
            advance(st, Gpr::Esi, c);
            return true;
    }
    return false;
}

// How many whole elements, starting at `offset` and moving in the string
// direction, stay on the current page, inside the segment limit and inside
// the address size — all of which the element-by-element path would check.
std::uint32_t room(const CpuContext& ctx, SegReg seg, std::uint32_t offset, bool write,
                   const Cursor& c, unsigned size) {
    const std::int64_t limit = write ? ctx.seg_write_limit[static_cast<unsigned>(seg)]
                                     : ctx.seg_read_limit[static_cast<unsigned>(seg)];
    if (limit < 0 || std::int64_t{offset} + size - 1 > limit) return 0;
    const std::uint32_t linear = ctx.state.segment(seg).base + offset;
    const std::uint32_t in_page = linear & kPageOffsetMask;
    if (in_page + size > kPageSize) return 0;  // the element itself straddles pages
    if (c.step > 0) {
        const std::uint64_t last =
            std::min<std::uint64_t>(static_cast<std::uint64_t>(limit), c.mask);
        const std::uint64_t by_limit = (last - offset + 1) / size;
        return static_cast<std::uint32_t>(
            std::min<std::uint64_t>(by_limit, (kPageSize - in_page) / size));
    }
    return std::min(offset / size + 1, in_page / size + 1);
}

// Host memory for `size` bytes at `linear` within one page of plain RAM —
// through the TLB, or else by translation (a bulk copy with source and
// destination on conflicting TLB entries must not fall back to elements).
// Null when the element path must handle it: writes to pages holding
// translated code, ROM, MMIO, translation faults.
std::uint8_t* ram_pointer(CpuContext& ctx, std::uint32_t linear, std::uint32_t size, bool write) {
    if (std::uint8_t* p = write ? ctx.tlb.lookup_write(ctx.tlb_set, linear, size)
                                : ctx.tlb.lookup_read(ctx.tlb_set, linear, size)) {
        return p;
    }
    mmu::Mmu& mmu = ctx.cpu->mmu();
    PhysicalAddress phys;
    mmu::PageFault fault;
    if (!mmu.translate(linear, write ? mmu::Access::Write : mmu::Access::Read, ctx.tlb_set, phys,
                       fault))
        return nullptr;
    if (write && ctx.cpu->is_code_page(static_cast<std::uint32_t>(phys.value >> kPageShift)))
        return nullptr;
    std::uint8_t* p = mmu.memory().ram_pointer(phys, size);
    if (p && write) mmu.note_write(phys, size);
    return p;
}

// Fills `bytes` bytes (a multiple of `size`) at dst with the low `size`
// bytes of value, little-endian: memset when they are all the same byte,
// else one element and then copies of what is written, doubling.
void fill(std::uint8_t* dst, std::uint32_t value, unsigned size, std::size_t bytes) {
    const std::uint8_t b0 = value & 0xFF;
    const std::uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    const bool uniform = ((value ^ (b0 * 0x01010101u)) & mask) == 0;
    if (uniform) {
        std::memset(dst, b0, bytes);
        return;
    }
    for (unsigned k = 0; k < size; ++k)
        dst[k] = static_cast<std::uint8_t>(value >> (8 * k));
    std::size_t done = size;
    while (done < bytes) {
        const std::size_t chunk = std::min(done, bytes - done);
        std::memcpy(dst + done, dst, chunk);
        done += chunk;
    }
}

// REP MOVS and REP STOS over plain RAM, a page at a time, with host memory
// operations. Returns the elements done; 0 when the next element needs the
// general path (a TLB miss, ROM, MMIO, translated code, a limit).
std::uint32_t bulk(CpuContext& ctx, const StringOp& op, const Cursor& c, std::uint32_t count) {
    CpuState& st = ctx.state;
    const unsigned size = op.size;
    const bool movs = op.kind == StringOpKind::Movs;
    const auto src_seg = static_cast<SegReg>(op.segment);
    const std::uint32_t di = st.reg(Gpr::Edi) & c.mask;
    const std::uint32_t si = st.reg(Gpr::Esi) & c.mask;
    std::uint32_t n = std::min(count, room(ctx, SegReg::Es, di, true, c, size));
    if (movs) n = std::min(n, room(ctx, src_seg, si, false, c, size));
    if (n == 0) return 0;
    // The lowest address of each run: the first element going up, the last going down.
    const std::uint32_t back = c.step > 0 ? 0 : (n - 1) * size;
    std::uint8_t* dst = ram_pointer(ctx, st.segment(SegReg::Es).base + di - back, n * size, true);
    if (!dst) return 0;
    if (!movs) {
        fill(dst, st.reg(Gpr::Eax), size, n * size);
        return n;
    }
    const std::uint8_t* src =
        ram_pointer(ctx, st.segment(src_seg).base + si - back, n * size, false);
    if (!src) return 0;
    if (dst + n * size <= src || src + n * size <= dst) {
        std::memcpy(dst, src, n * size);
    } else if (c.step > 0) {
        // Overlapping: element by element, in the instruction's own order
        // (a forward copy onto itself repeats a pattern).
        for (std::uint32_t k = 0; k < n; ++k)
            std::memmove(dst + k * size, src + k * size, size);
    } else {
        for (std::uint32_t k = n; k-- > 0;)
            std::memmove(dst + k * size, src + k * size, size);
    }
    return n;
}

void advance_by(CpuState& st, Gpr r, const Cursor& c, std::uint32_t n) {
    std::uint32_t& reg = st.reg(r);
    reg = (reg & ~c.mask) | ((reg + static_cast<std::uint32_t>(c.step) * n) & c.mask);
}

}  // namespace

std::uint64_t helper_string_op(CpuContext& ctx, std::uint32_t packed, std::uint32_t,
                               std::uint32_t) {
    const StringOp op = StringOp::unpack(packed);
    CpuState& st = ctx.state;
    const Cursor c{op.address32 ? 0xFFFFFFFFu : 0xFFFFu,
                   (st.eflags() & eflags::DF) ? -static_cast<std::int32_t>(op.size) : op.size};
    if (op.rep == 0) {
        element(ctx, op, c);
        return 1;
    }
    const bool compares = op.kind == StringOpKind::Cmps || op.kind == StringOpKind::Scas;
    const bool bulk_kind = (op.kind == StringOpKind::Movs || op.kind == StringOpKind::Stos) &&
                           (ctx.cpu == nullptr || ctx.cpu->options().bulk_strings);
    // Single-stepping traps after each iteration, and a data breakpoint
    // after the iteration that met it, with EIP at the instruction until
    // its count runs out; RF is set then, so that its instruction
    // breakpoint does not fault again (SDM Vol. 3A, 17.3.1.1 and 17.3.1.4).
    const bool by_iteration = (st.eflags() & eflags::TF) || ctx.breakpoints.any();
    // At most this much work per call: the block then re-enters the
    // instruction, and a pending interrupt or stop request is noticed.
    std::uint32_t budget = kBytesPerCall;
    while (budget >= kElementCost) {
        const std::uint32_t count = st.reg(Gpr::Ecx) & c.mask;
        if (count == 0) return 1;
        if (by_iteration && budget < kBytesPerCall &&
            ((st.eflags() & eflags::TF) || ctx.breakpoint_hits)) {
            st.set_eflags(st.eflags() | eflags::RF);
            return 0;
        }
        if (bulk_kind && !by_iteration) {
            if (const std::uint32_t n = bulk(ctx, op, c, std::min(count, budget / op.size))) {
                advance_by(st, Gpr::Edi, c, n);
                if (op.kind == StringOpKind::Movs) advance_by(st, Gpr::Esi, c, n);
                st.reg(Gpr::Ecx) = (st.reg(Gpr::Ecx) & ~c.mask) | ((count - n) & c.mask);
                budget -= n * op.size;
                continue;
            }
        }
        if (!element(ctx, op, c)) return 0;
        budget -= kElementCost;
        st.reg(Gpr::Ecx) = (st.reg(Gpr::Ecx) & ~c.mask) | ((count - 1) & c.mask);
        if (compares) {
            // REPE stops when ZF = 0, REPNE when ZF = 1.
            const bool zf = (st.eflags() & eflags::ZF) != 0;
            if ((op.rep == 1 && !zf) || (op.rep == 2 && zf)) return 1;
        }
        // I/O can end the run (exit device) or raise an interrupt.
        if ((op.kind == StringOpKind::Ins || op.kind == StringOpKind::Outs) &&
            ctx.exit_request.load(std::memory_order_relaxed)) {
            return (st.reg(Gpr::Ecx) & c.mask) == 0;
        }
    }
    return (st.reg(Gpr::Ecx) & c.mask) == 0;
}

}  // namespace jitterbug::cpu
