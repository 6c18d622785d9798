// LocationDescriptor: what identifies a translation of guest code — its
// EIP, the CS base it was fetched through, and the mode bits that change how
// it translates.
#pragma once

#include <cstdint>
#include <functional>

namespace jitterbug {

// Mode bits of a LocationDescriptor.
namespace mode {
constexpr std::uint32_t kCode32 = 1u << 0;      // CS.D: default operand/address size 32
constexpr std::uint32_t kStack32 = 1u << 1;     // SS.B: ESP (not SP) addresses the stack
constexpr std::uint32_t kProtected = 1u << 2;   // CR0.PE
constexpr std::uint32_t kV86 = 1u << 3;         // EFLAGS.VM
constexpr std::uint32_t kSingleStep = 1u << 4;  // translate one instruction only
constexpr unsigned kCplShift = 5;               // 2 bits: CPL
constexpr std::uint32_t kCplMask = 3u << kCplShift;
// DS, ES and SS are flat: base 0, every offset up to 4 GiB - 1 readable and
// writable. Their accesses then skip the segment base and check only for
// wrapping past 4 GiB; a block ends after any segment register load.
constexpr std::uint32_t kFlat = 1u << 7;
// Linear addresses are physical ones the CPU's mmu::GuestWindow shows: the
// JIT accesses memory there directly (its fault handler takes what faults
// to the slow path).
constexpr std::uint32_t kFastmem = 1u << 8;
// CR0.PG: linear addresses are translated by paging, so what a linear page
// holds changes with the page tables. Such blocks chain only to blocks that
// start on their own linear page and lie on one page (a link is then valid
// for as long as the block it leaves from, whose page was looked up).
constexpr std::uint32_t kPaging = 1u << 9;
}  // namespace mode

struct LocationDescriptor {
    std::uint32_t eip = 0;
    std::uint32_t cs_base = 0;
    std::uint32_t mode = 0;

    bool code32() const { return (mode & mode::kCode32) != 0; }
    bool stack32() const { return (mode & mode::kStack32) != 0; }
    bool protected_mode() const { return (mode & mode::kProtected) != 0; }
    bool v86() const { return (mode & mode::kV86) != 0; }
    bool single_step() const { return (mode & mode::kSingleStep) != 0; }
    unsigned cpl() const { return (mode & mode::kCplMask) >> mode::kCplShift; }
    bool flat() const { return (mode & mode::kFlat) != 0; }
    bool fastmem() const { return (mode & mode::kFastmem) != 0; }
    bool paging() const { return (mode & mode::kPaging) != 0; }
    // Real mode or virtual-8086 mode: segment registers load without descriptors.
    bool real_addressing() const { return !protected_mode() || v86(); }
    std::uint32_t linear_eip() const { return cs_base + eip; }

    bool operator==(const LocationDescriptor&) const = default;
};

}  // namespace jitterbug
