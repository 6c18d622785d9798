#include "cpu/runtime.hpp"

#include "cpu/cpu.hpp"
#include "cpu/segmentation.hpp"

namespace jitterbug::cpu {

// Declarations of every helper (definitions in src/cpu/helpers/).
#define HELPER(name, props) \
    std::uint64_t helper_##name(CpuContext&, std::uint32_t, std::uint32_t, std::uint32_t);
#include "cpu/helpers.inc"
#undef HELPER

namespace runtime {

void raise(CpuContext& ctx, const Event& event) {
    ctx.event = event;
    ctx.abort_instruction = 1;
}

void raise_fault(CpuContext& ctx, std::uint8_t vector) {
    raise(ctx, Event{EventKind::Fault, vector, false, 0, ctx.state.eip});
}

void raise_fault(CpuContext& ctx, std::uint8_t vector, std::uint32_t error_code) {
    raise(ctx, Event{EventKind::Fault, vector, true, error_code, ctx.state.eip});
}

namespace {
void raise_page_fault(CpuContext& ctx, const mmu::PageFault& fault) {
    Event e{EventKind::Fault, vector::PF, true, fault.error_code, ctx.state.eip};
    e.fault_address = fault.linear;
    raise(ctx, e);
}
}  // namespace

std::uint32_t read_slow(CpuContext& ctx, std::uint32_t linear, unsigned size) {
    std::uint32_t value = 0;
    mmu::PageFault fault;
    if (ctx.cpu->mmu().read(linear, size, value, fault) == mmu::AccessStatus::Fault) {
        raise_page_fault(ctx, fault);
        return 0;
    }
    return value;
}

void write_slow(CpuContext& ctx, std::uint32_t linear, unsigned size, std::uint32_t value) {
    mmu::PageFault fault;
    switch (ctx.cpu->mmu().write(linear, size, value, fault)) {
        case mmu::AccessStatus::Ok:
            return;
        case mmu::AccessStatus::Fault:
            raise_page_fault(ctx, fault);
            return;
        case mmu::AccessStatus::Retry:
            ctx.retry_current_instruction = true;
            ctx.abort_instruction = 1;
            return;
    }
}

void check_segment_slow(CpuContext& ctx, unsigned seg, std::uint32_t offset, std::uint32_t info) {
    check_segment_access(ctx, static_cast<SegReg>(seg), offset, (info & 0xFF) + 1,
                         (info >> 8) == kAccessWrite);
}

const std::array<HelperFn, kNumHelpers>& helpers() {
    static constexpr std::array<HelperFn, kNumHelpers> table = {
#define HELPER(name, props) &helper_##name,
#include "cpu/helpers.inc"
#undef HELPER
    };
    return table;
}

}  // namespace runtime
}  // namespace jitterbug::cpu
