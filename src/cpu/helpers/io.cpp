// IN/OUT and the I/O permission checks.
#include "cpu/helpers/helpers.hpp"
#include "devices/port_io_bus.hpp"

namespace jitterbug::cpu {

bool check_io_permission(CpuContext& ctx, std::uint16_t port, unsigned size) {
    const CpuState& st = ctx.state;
    // (Noted before the checks: a fault discards what its instruction noted.)
    ctx.breakpoint_hits |= io_breakpoint_hits(ctx.breakpoints, port, size);
    if (!st.protected_mode()) return true;
    const unsigned iopl = (st.eflags() & eflags::IOPL) >> 12;
    if (!st.v86_mode() && st.cpl() <= iopl) return true;
    // The I/O permission bitmap of a 32-bit TSS: every bit of the accessed
    // ports must be clear; bytes beyond the TSS limit count as set.
    const SegmentRegister& tr = st.tr;
    const unsigned type = tr.attributes & seg_attr::kTypeMask;
    if ((type == 0x9 || type == 0xB) && tr.limit >= 0x67) {
        const std::uint32_t map = runtime::read_system(ctx, tr.base + 0x66, 2);
        if (ctx.abort_instruction) return false;
        const std::uint32_t at = map + port / 8;
        if (at + 1 <= tr.limit) {
            const std::uint32_t bits = runtime::read_system(ctx, tr.base + at, 2);
            if (ctx.abort_instruction) return false;
            const std::uint32_t mask = ((1u << size) - 1) << (port % 8);
            if ((bits & mask) == 0) return true;
        }
    }
    runtime::raise_fault(ctx, vector::GP, 0);
    return false;
}

std::uint64_t helper_io_in(CpuContext& ctx, std::uint32_t port, std::uint32_t size, std::uint32_t) {
    const auto p = static_cast<std::uint16_t>(port);
    if (!check_io_permission(ctx, p, size)) return 0;
    return ctx.cpu->io().read(p, size);
}

std::uint64_t helper_io_out(CpuContext& ctx, std::uint32_t port, std::uint32_t size,
                            std::uint32_t value) {
    const auto p = static_cast<std::uint16_t>(port);
    if (!check_io_permission(ctx, p, size)) return 0;
    ctx.cpu->io().write(p, size, value);
    return 0;
}

}  // namespace jitterbug::cpu
