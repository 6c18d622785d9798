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
    bool conforming() const { return is_code() && (type() & 4); }
    bool writable_data() const { return !is_system() && !is_code() && (type() & 2); }

    SegmentRegister to_cache(std::uint16_t selector) const {
        return SegmentRegister{base(), limit(), selector, attributes()};
    }
};

// Recomputes the inline segment-check bounds of every segment register
// (CpuContext::seg_read_limit / seg_write_limit) and the TLB set of the CPL
// (CpuContext::tlb_set). Call after any change to a descriptor cache or to
// CR0.PE / EFLAGS.VM.
void sync_segment_checks(CpuContext& ctx);

// Whether an access of `size` bytes at `offset` through a segment with
// cache `seg` passes the limit and type checks (`real`: real or
// virtual-8086 mode, where only the limit counts).
bool segment_allows(const SegmentRegister& seg, bool real, std::uint32_t offset, unsigned size,
                    bool write);

// The full check of an access of `size` bytes at `offset` through segment
// `s`; raises #GP(0) or #SS(0) and returns false when it fails.
bool check_segment_access(CpuContext& ctx, SegReg s, std::uint32_t offset, unsigned size,
                          bool write);

// Checks that `slots` pushes of `bytes` each fit below the current stack
// pointer, before any of them is written (multi-push instructions and
// interrupt frames either push everything or nothing). Raises and returns
// false when one does not.
bool check_stack_room(CpuContext& ctx, unsigned slots, unsigned bytes);

// A stack named by its descriptor cache and pointer: for the transfers that
// build a frame on a stack before SS is loaded with it (privilege changes,
// task switches). Accesses go through TLB set `set`, that of the privilege
// level the stack belongs to.
struct StackPointer {
    SegmentRegister ss;
    std::uint32_t esp = 0;
    mmu::TlbSet set = mmu::TlbSet::Supervisor;

    // SS.B: ESP, else SP, addresses the stack (the upper half of ESP stays).
    std::uint32_t mask() const { return ss.big() ? 0xFFFFFFFFu : 0xFFFFu; }
};

// Whether `slots` pushes of `bytes` each fit below the stack's pointer.
bool stack_fits(const StackPointer& stack, bool real, unsigned slots, unsigned bytes);
// Pushes `value` (checked by stack_fits first); false when a page fault was
// raised.
bool push_to(CpuContext& ctx, StackPointer& stack, std::uint32_t value, unsigned bytes);

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

// Loads segment `s` with a null selector: unusable (SDM Vol. 3A, 3.4.2).
void load_null_segment(CpuContext& ctx, SegReg s, std::uint16_t selector);
// The checks of a new stack segment for privilege level `cpl` on a
// privilege change: RPL and DPL equal `cpl`, a writable data segment, else
// `type_fault`(selector | ext) (#TS on the way in, #GP on returns); not
// present gives #SS(selector | ext). Null gives `type_fault`(ext).
std::optional<Descriptor> check_stack_segment(CpuContext& ctx, std::uint16_t selector, unsigned cpl,
                                              std::uint8_t type_fault, std::uint32_t ext);
// On a return to an outer privilege level: ES, DS, FS and GS holding data
// or non-conforming code segments more privileged than the new CPL become
// null (SDM Vol. 2A, RET and IRET).
void drop_inner_segments(CpuContext& ctx);

// Whether DS, ES, FS or GS may hold `d` at privilege `cpl` through a
// selector of RPL `rpl`: a data or readable code segment, and unless it is
// conforming code, DPL >= CPL and DPL >= RPL (SDM Vol. 2B, MOV).
bool data_segment_allowed(const Descriptor& d, unsigned cpl, unsigned rpl);
// The last steps of loading segment register `r` from a descriptor that
// passed its other checks: #NP(error) when it is not present, else its
// accessed bit set and the cache filled (the caller then syncs the segment
// checks). False after a fault.
bool load_present_segment(CpuContext& ctx, SegReg r, std::uint16_t selector, Descriptor d,
                          std::uint32_t error);
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
