// DIV and IDIV: #DE on a zero divisor or a quotient too large for its
// register, with the registers unchanged (SDM Vol. 2A, DIV/IDIV). All six
// status flags are undefined; they are set as the hardware sets them: CF and
// OF kept, AF set, SF, ZF and PF cleared.
#include <limits>

#include "cpu/helpers/helpers.hpp"

namespace jitterbug::cpu {

namespace {
std::uint64_t divide_error(CpuContext& ctx) {
    runtime::raise_fault(ctx, vector::DE);
    return 0;
}

template <typename T>
T divided(CpuContext& ctx, T result) {
    std::uint32_t& f = ctx.state.flags_status;
    f = (f & ~(eflags::SF | eflags::ZF | eflags::PF)) | eflags::AF;
    return result;
}
}  // namespace

std::uint64_t helper_div8(CpuContext& ctx, std::uint32_t ax, std::uint32_t divisor, std::uint32_t) {
    const std::uint32_t d = divisor & 0xFF;
    if (d == 0) return divide_error(ctx);
    const std::uint32_t q = (ax & 0xFFFF) / d;
    if (q > 0xFF) return divide_error(ctx);
    return divided(ctx, std::uint64_t{q | (((ax & 0xFFFF) % d) << 8)});
}

std::uint64_t helper_idiv8(CpuContext& ctx, std::uint32_t ax, std::uint32_t divisor,
                           std::uint32_t) {
    const std::int32_t n = static_cast<std::int16_t>(ax);
    const std::int32_t d = static_cast<std::int8_t>(divisor);
    if (d == 0) return divide_error(ctx);
    const std::int32_t q = n / d;
    if (q > 127 || q < -128) return divide_error(ctx);
    const std::int32_t r = n % d;
    return divided(ctx, std::uint64_t{(static_cast<std::uint32_t>(q) & 0xFF) |
                                      ((static_cast<std::uint32_t>(r) & 0xFF) << 8)});
}

std::uint64_t helper_div16(CpuContext& ctx, std::uint32_t dx_ax, std::uint32_t divisor,
                           std::uint32_t) {
    const std::uint32_t d = divisor & 0xFFFF;
    if (d == 0) return divide_error(ctx);
    const std::uint32_t q = dx_ax / d;
    if (q > 0xFFFF) return divide_error(ctx);
    return divided(ctx, std::uint64_t{q | ((dx_ax % d) << 16)});
}

std::uint64_t helper_idiv16(CpuContext& ctx, std::uint32_t dx_ax, std::uint32_t divisor,
                            std::uint32_t) {
    const std::int64_t n = static_cast<std::int32_t>(dx_ax);
    const std::int64_t d = static_cast<std::int16_t>(divisor);
    if (d == 0) return divide_error(ctx);
    const std::int64_t q = n / d;
    if (q > 32767 || q < -32768) return divide_error(ctx);
    const std::int64_t r = n % d;
    return divided(ctx, std::uint64_t{(static_cast<std::uint32_t>(q) & 0xFFFF) |
                                      ((static_cast<std::uint32_t>(r) & 0xFFFF) << 16)});
}

std::uint64_t helper_div32(CpuContext& ctx, std::uint32_t divisor, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    if (divisor == 0) return divide_error(ctx);
    const std::uint64_t n = (std::uint64_t{st.reg(Gpr::Edx)} << 32) | st.reg(Gpr::Eax);
    const std::uint64_t q = n / divisor;
    if (q > 0xFFFFFFFFu) return divide_error(ctx);
    st.reg(Gpr::Eax) = static_cast<std::uint32_t>(q);
    st.reg(Gpr::Edx) = static_cast<std::uint32_t>(n % divisor);
    return divided(ctx, std::uint64_t{0});
}

std::uint64_t helper_idiv32(CpuContext& ctx, std::uint32_t divisor, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    const std::int64_t d = static_cast<std::int32_t>(divisor);
    if (d == 0) return divide_error(ctx);
    const auto n =
        static_cast<std::int64_t>((std::uint64_t{st.reg(Gpr::Edx)} << 32) | st.reg(Gpr::Eax));
    // INT64_MIN / -1 overflows the host division too: its quotient never fits.
    if (n == std::numeric_limits<std::int64_t>::min() && d == -1) return divide_error(ctx);
    const std::int64_t q = n / d;
    if (q > std::numeric_limits<std::int32_t>::max() ||
        q < std::numeric_limits<std::int32_t>::min()) {
        return divide_error(ctx);
    }
    st.reg(Gpr::Eax) = static_cast<std::uint32_t>(q);
    st.reg(Gpr::Edx) = static_cast<std::uint32_t>(n % d);
    return divided(ctx, std::uint64_t{0});
}

}  // namespace jitterbug::cpu
