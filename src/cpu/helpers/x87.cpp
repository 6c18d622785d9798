// The x87's helpers: FWAIT, and one call per x87 instruction
// (src/cpu/x87/unit.cpp).
#include "cpu/helpers/helpers.hpp"
#include "cpu/x87/unit.hpp"

namespace jitterbug::cpu {

std::uint64_t helper_fwait(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    x87::wait(ctx);
    return 0;
}

std::uint64_t helper_x87(CpuContext& ctx, std::uint32_t instruction, std::uint32_t offset,
                         std::uint32_t eip) {
    x87::execute(ctx, x87::X87Instruction::unpack(instruction), offset, eip);
    return 0;
}

}  // namespace jitterbug::cpu
