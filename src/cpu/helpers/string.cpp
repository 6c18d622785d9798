// The string instructions, element by element. Registers advance only after
// an element completes, so a fault leaves the state of the last completed
// element with EIP at the instruction (SDM Vol. 2B, REP). A REP runs at most
// kElementsPerCall elements per call so interrupts are noticed in between.
#include "cpu/helpers/helpers.hpp"
#include "cpu/string_op.hpp"
#include "devices/port_io_bus.hpp"
#include "jit/ir/eval.hpp"

namespace jitterbug::cpu {

namespace {

constexpr std::uint32_t kElementsPerCall = 4096;

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
    st.eflags = (st.eflags & ~eflags::kArithmetic) | o.flags;
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

}  // namespace

std::uint64_t helper_string_op(CpuContext& ctx, std::uint32_t packed, std::uint32_t,
                               std::uint32_t) {
    const StringOp op = StringOp::unpack(packed);
    CpuState& st = ctx.state;
    const Cursor c{op.address32 ? 0xFFFFFFFFu : 0xFFFFu,
                   (st.eflags & eflags::DF) ? -static_cast<std::int32_t>(op.size) : op.size};
    if (op.rep == 0) {
        element(ctx, op, c);
        return 1;
    }
    const bool compares = op.kind == StringOpKind::Cmps || op.kind == StringOpKind::Scas;
    for (std::uint32_t n = 0; n < kElementsPerCall; ++n) {
        const std::uint32_t count = st.reg(Gpr::Ecx) & c.mask;
        if (count == 0) return 1;
        if (!element(ctx, op, c)) return 0;
        st.reg(Gpr::Ecx) = (st.reg(Gpr::Ecx) & ~c.mask) | ((count - 1) & c.mask);
        if (compares) {
            // REPE stops when ZF = 0, REPNE when ZF = 1.
            const bool zf = (st.eflags & eflags::ZF) != 0;
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
