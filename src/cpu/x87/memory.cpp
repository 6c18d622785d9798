#include "cpu/x87/memory.hpp"

#include <algorithm>

#include "cpu/runtime.hpp"
#include "cpu/segmentation.hpp"

namespace jitterbug::cpu::x87 {

std::uint32_t linear_address(const CpuContext& ctx, const MemoryOperand& m) {
    return ctx.state.segment(m.segment).base + m.offset;
}

bool read_memory(CpuContext& ctx, const MemoryOperand& m, unsigned size, std::uint8_t* out) {
    if (!check_segment_access(ctx, m.segment, m.offset, size, false)) return false;
    const std::uint32_t linear = linear_address(ctx, m);
    for (unsigned i = 0; i < size;) {
        const unsigned n = std::min(4u, size - i);
        const std::uint32_t v = runtime::read(ctx, linear + i, n);
        if (ctx.abort_instruction) return false;
        for (unsigned k = 0; k < n; ++k)
            out[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
        i += n;
    }
    return true;
}

bool check_writable(CpuContext& ctx, const MemoryOperand& m, unsigned size) {
    if (!check_segment_access(ctx, m.segment, m.offset, size, true)) return false;
    return runtime::probe_write(ctx, linear_address(ctx, m), size);
}

bool write_memory(CpuContext& ctx, const MemoryOperand& m, unsigned size, const std::uint8_t* in) {
    const std::uint32_t linear = linear_address(ctx, m);
    for (unsigned i = 0; i < size;) {
        const unsigned n = std::min(4u, size - i);
        std::uint32_t v = 0;
        for (unsigned k = 0; k < n; ++k)
            v |= std::uint32_t{in[i + k]} << (8 * k);
        runtime::write(ctx, linear + i, n, v);
        if (ctx.abort_instruction) return false;
        i += n;
    }
    return true;
}

}  // namespace jitterbug::cpu::x87
