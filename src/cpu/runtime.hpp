// The runtime interface of translated code: what both backends call for
// guest memory accesses, segment checks and helpers. A call that cannot let
// the current guest instruction complete sets CpuContext::abort_instruction;
// the backend then leaves the block with EIP at that instruction.
#pragma once

#include <array>
#include <cstdint>

#include "cpu/cpu_context.hpp"
#include "cpu/helper_id.hpp"
#include "util/bits.hpp"

namespace jitterbug::cpu::runtime {

// Slow paths: TLB misses, ROM, MMIO, code pages, page-crossing accesses,
// with the privilege of a TLB set.
std::uint32_t read_slow(CpuContext& ctx, mmu::TlbSet set, std::uint32_t linear, unsigned size);
void write_slow(CpuContext& ctx, mmu::TlbSet set, std::uint32_t linear, unsigned size,
                std::uint32_t value);
// The JIT's slow paths of data accesses: as above, but a mapping changed by
// the access (mmu::Mmu::mapping_epoch) ends the run with an internal error
// (translated code keeps page addends across these: jit/backend/x64).
std::uint32_t jit_read_slow(CpuContext& ctx, std::uint32_t linear, unsigned size);
void jit_write_slow(CpuContext& ctx, std::uint32_t linear, unsigned size, std::uint32_t value);
// A JIT page group's check that failed inline, for bytes [first, last] and
// reads and/or writes: the page's TLB addend once its entry is filled, or 0
// with the instruction aborted to have the block made without page groups
// (CpuContext::deoptimize_block).
std::uint64_t probe_page_group(CpuContext& ctx, std::uint32_t first, std::uint32_t last, bool read,
                               bool write);
// The full segment check of an access; info = (size - 1) | kind << 8.
void check_segment_slow(CpuContext& ctx, unsigned seg, std::uint32_t offset, std::uint32_t info);

// Whether `size` bytes at `linear` may be written with the privilege of the
// CPL (both pages of a crossing access are translated); raises the #PF
// when not. For instructions that write several pieces: nothing is written
// unless every piece can be.
bool probe_write(CpuContext& ctx, std::uint32_t linear, unsigned size);

// Raises `event` for the running instruction.
void raise(CpuContext& ctx, const Event& event);
// Raises a fault with or without an error code.
void raise_fault(CpuContext& ctx, std::uint8_t vector);
void raise_fault(CpuContext& ctx, std::uint8_t vector, std::uint32_t error_code);

using HelperFn = std::uint64_t (*)(CpuContext&, std::uint32_t, std::uint32_t, std::uint32_t);
// Helper functions by HelperId.
const std::array<HelperFn, kNumHelpers>& helpers();

constexpr unsigned kAccessRead = 0;
constexpr unsigned kAccessWrite = 1;
constexpr std::uint32_t segment_check_info(unsigned size, unsigned kind) {
    return (size - 1) | (kind << 8);
}

// ---- Inline fast paths (the interpreter's; the JIT emits the same in host code)

// Accesses with the privilege of a TLB set.
inline std::uint32_t read_in(CpuContext& ctx, mmu::TlbSet set, std::uint32_t linear,
                             unsigned size) {
    if (const std::uint8_t* p = ctx.tlb.lookup_read(set, linear, size)) {
        switch (size) {
            case 1:
                return *p;
            case 2:
                return load_le<std::uint16_t>(p);
            default:
                return load_le<std::uint32_t>(p);
        }
    }
    return read_slow(ctx, set, linear, size);
}

inline void write_in(CpuContext& ctx, mmu::TlbSet set, std::uint32_t linear, unsigned size,
                     std::uint32_t value) {
    if (std::uint8_t* p = ctx.tlb.lookup_write(set, linear, size)) {
        switch (size) {
            case 1:
                *p = static_cast<std::uint8_t>(value);
                return;
            case 2:
                store_le<std::uint16_t>(p, static_cast<std::uint16_t>(value));
                return;
            default:
                store_le<std::uint32_t>(p, value);
                return;
        }
    }
    write_slow(ctx, set, linear, size, value);
}

// The guest's accesses, with the privilege of the CPL (CpuContext::tlb_set).
inline std::uint32_t read(CpuContext& ctx, std::uint32_t linear, unsigned size) {
    return read_in(ctx, ctx.tlb_set, linear, size);
}
inline void write(CpuContext& ctx, std::uint32_t linear, unsigned size, std::uint32_t value) {
    write_in(ctx, ctx.tlb_set, linear, size, value);
}

// The CPU's own accesses to the GDT, LDT, IDT and TSS, which paging checks
// as supervisor accesses whatever the CPL (SDM Vol. 3A, 4.6).
inline std::uint32_t read_system(CpuContext& ctx, std::uint32_t linear, unsigned size) {
    return read_in(ctx, mmu::TlbSet::Supervisor, linear, size);
}
inline void write_system(CpuContext& ctx, std::uint32_t linear, unsigned size,
                         std::uint32_t value) {
    write_in(ctx, mmu::TlbSet::Supervisor, linear, size, value);
}

inline void check_segment(CpuContext& ctx, unsigned seg, std::uint32_t offset, std::uint32_t info) {
    const std::int64_t last = std::int64_t{offset} + (info & 0xFF);
    const std::int64_t limit =
        (info >> 8) == kAccessWrite ? ctx.seg_write_limit[seg] : ctx.seg_read_limit[seg];
    if (last <= limit) return;
    check_segment_slow(ctx, seg, offset, info);
}

}  // namespace jitterbug::cpu::runtime
