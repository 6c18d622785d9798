// Segmentation: segment descriptors, loading segment registers, and the
// limit and access-rights checks of accesses (SDM Vol. 3A, chapters 3 and 5).
#pragma once

#include <cstdint>
#include <optional>

#include "cpu/cpu_context.hpp"

namespace jitterbug::cpu {

// A raw 8-byte descriptor from the GDT or LDT.
struct Descriptor {
    std::uint32_t low = 0;
    std::uint32_t high = 0;

    std::uint32_t base() const {
        return (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF000000u);
    }
    std::uint32_t limit() const {
        const std::uint32_t raw = (low & 0xFFFF) | (high & 0x000F0000u);
        return (high & (1u << 23)) ? (raw << 12) | 0xFFF : raw;
    }
    std::uint16_t attributes() const { return static_cast<std::uint16_t>((high >> 8) & 0xF0FF); }
    bool present() const { return (high & (1u << 15)) != 0; }
    unsigned dpl() const { return (high >> 13) & 3; }
    bool is_system() const { return (high & (1u << 12)) == 0; }
    bool is_code() const { return !is_system() && (high & (1u << 11)); }
    unsigned type() const { return (high >> 8) & 0xF; }

    SegmentRegister to_cache(std::uint16_t selector) const {
        return SegmentRegister{base(), limit(), selector, attributes()};
    }
};

// Recomputes the inline segment-check bounds of every segment register
// (CpuContext::seg_read_limit / seg_write_limit) and the TLB set of the CPL
// (CpuContext::tlb_set). Call after any change to a descriptor cache or to
// CR0.PE / EFLAGS.VM.
void sync_segment_checks(CpuContext& ctx);

// The full check of an access of `size` bytes at `offset` through segment
// `s`; raises #GP(0) or #SS(0) and returns false when it fails.
bool check_segment_access(CpuContext& ctx, SegReg s, std::uint32_t offset, unsigned size,
                          bool write);

// Checks that `slots` pushes of `bytes` each fit below the current stack
// pointer, before any of them is written (multi-push instructions and
// interrupt frames either push everything or nothing). Raises and returns
// false when one does not.
bool check_stack_room(CpuContext& ctx, unsigned slots, unsigned bytes);

// Reads the descriptor `selector` names from the GDT or LDT, or nothing
// when it lies beyond the table's limit (or the LDT is unusable) — without
// a fault, as LAR, LSL, VERR and VERW need it; a page fault reading it is
// raised (CpuContext::abort_instruction).
std::optional<Descriptor> find_descriptor(CpuContext& ctx, std::uint16_t selector);
// Reads the descriptor `selector` names from the GDT or LDT. On failure
// (beyond the table limit, or a fault reading it) raises #GP(selector) and
// returns nothing.
std::optional<Descriptor> read_descriptor(CpuContext& ctx, std::uint16_t selector);
// Writes byte 5 (type, S, DPL, P) of descriptor `d` back to its table.
void write_access_byte(CpuContext& ctx, std::uint16_t selector, const Descriptor& d);
// Sets the accessed bit of a descriptor in memory.
void mark_accessed(CpuContext& ctx, std::uint16_t selector, Descriptor& d);

// MOV/POP to a data or stack segment register in protected mode, with the
// checks of SDM Vol. 2B, MOV. Raises and returns false on failure.
bool load_data_segment(CpuContext& ctx, SegReg s, std::uint16_t selector);
// Loads CS for a far JMP/CALL/RET to a code segment at the same privilege
// level (or a conforming one). Raises and returns false on failure.
bool load_code_segment(CpuContext& ctx, std::uint16_t selector, std::uint32_t eip);

// Real-mode and virtual-8086 segment load: base follows the selector.
inline void load_segment_real(CpuState& s, SegReg r, std::uint16_t selector) {
    s.segment(r).selector = selector;
    s.segment(r).base = std::uint32_t{selector} << 4;
}

}  // namespace jitterbug::cpu
