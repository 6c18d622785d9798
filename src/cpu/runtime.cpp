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

std::uint32_t read_slow(CpuContext& ctx, mmu::TlbSet set, std::uint32_t linear, unsigned size) {
    std::uint32_t value = 0;
    mmu::PageFault fault;
    if (ctx.cpu->mmu().read(linear, size, set, value, fault) == mmu::AccessStatus::Fault) {
        raise_page_fault(ctx, fault);
        return 0;
    }
    // (Pages a data breakpoint watches never take the fast path.)
    ctx.breakpoint_hits |= data_breakpoint_hits(ctx.breakpoints, linear, size, false);
    return value;
}

void write_slow(CpuContext& ctx, mmu::TlbSet set, std::uint32_t linear, unsigned size,
                std::uint32_t value) {
    mmu::PageFault fault;
    switch (ctx.cpu->mmu().write(linear, size, set, value, fault)) {
        case mmu::AccessStatus::Ok:
            ctx.breakpoint_hits |= data_breakpoint_hits(ctx.breakpoints, linear, size, true);
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

bool probe_write(CpuContext& ctx, std::uint32_t linear, unsigned size) {
    mmu::Mmu& mmu = ctx.cpu->mmu();
    const std::uint32_t last = linear + size - 1;
    PhysicalAddress phys;
    mmu::PageFault fault;
    if (!mmu.translate(linear, mmu::Access::Write, ctx.tlb_set, phys, fault) ||
        ((last ^ linear) & kPageMask &&
         !mmu.translate(last & kPageMask, mmu::Access::Write, ctx.tlb_set, phys, fault))) {
        raise_page_fault(ctx, fault);
        return false;
    }
    return true;
}

namespace {
void check_mappings_kept(CpuContext& ctx, std::uint64_t epoch) {
    if (ctx.cpu->mmu().mapping_epoch() == epoch) return;
    ctx.internal_error = "a data access changed the memory map (only helpers may)";
    ctx.abort_instruction = 1;
}
}  // namespace

std::uint32_t jit_read_slow(CpuContext& ctx, std::uint32_t linear, unsigned size) {
    const std::uint64_t epoch = ctx.cpu->mmu().mapping_epoch();
    const std::uint32_t value = read_slow(ctx, ctx.tlb_set, linear, size);
    check_mappings_kept(ctx, epoch);
    return value;
}

void jit_write_slow(CpuContext& ctx, std::uint32_t linear, unsigned size, std::uint32_t value) {
    const std::uint64_t epoch = ctx.cpu->mmu().mapping_epoch();
    write_slow(ctx, ctx.tlb_set, linear, size, value);
    check_mappings_kept(ctx, epoch);
}

std::uint64_t probe_page_group(CpuContext& ctx, std::uint32_t first, std::uint32_t last, bool read,
                               bool write) {
    if (const auto addend = ctx.cpu->mmu().probe(first, last, ctx.tlb_set, read, write))
        return *addend;
    ctx.deoptimize_block = ctx.current_block;
    ctx.abort_instruction = 1;
    return 0;
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
