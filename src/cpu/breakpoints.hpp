// Breakpoints: what DR0-DR3 and DR7 ask for (SDM Vol. 3A, 17.2.4 and
// 17.2.5), in the form the run loop and the memory and port slow paths
// check. While any is enabled the CPU runs one instruction per block: an
// instruction breakpoint is checked before each, and data accesses to the
// watched pages leave the TLB's fast path (mmu::Mmu::set_watchpoints) for
// the slow paths, which note the hits; the #DB trap follows the instruction.
#pragma once

#include <array>
#include <cstdint>

#include "cpu/cpu_state.hpp"

namespace jitterbug::cpu {

// DR7 bits L0, G0 ... L3, G3: breakpoint n is enabled by either of bits 2n, 2n + 1.
constexpr std::uint32_t kDr7Enables = 0xFF;
// DR7 bits L0-L3 and LE: cleared by a task switch (SDM Vol. 3A, 17.2.4).
constexpr std::uint32_t kDr7LocalEnables = 0x155;
// DR6 bits B0-B3: the breakpoint conditions met.
constexpr std::uint32_t kDr6Hits = 0xF;

struct Breakpoints {
    // The bytes each breakpoint covers: its address with LEN's low bits
    // cleared, up to LEN's last byte.
    struct Range {
        std::uint32_t first = 0;
        std::uint32_t last = 0;
        bool operator==(const Range&) const = default;
    };
    std::array<Range, 4> range{};
    // Per kind of condition, the DR6 bit (1 << n) of each enabled breakpoint of that kind.
    std::uint8_t execute = 0;  // R/W 00: instruction fetches
    std::uint8_t write = 0;    // R/W 01 and 11: data writes
    std::uint8_t read = 0;     // R/W 11: data reads
    std::uint8_t io = 0;       // R/W 10 with CR4.DE: port I/O

    bool any() const { return (execute | write | io) != 0; }
    bool data() const { return write != 0; }
    bool operator==(const Breakpoints&) const = default;
};

// The breakpoints `st`'s debug registers enable.
Breakpoints breakpoints_of(const CpuState& st);

// The DR6 B0-B3 bits of the instruction breakpoints at linear address `eip`.
std::uint32_t instruction_breakpoint_hits(const Breakpoints& b, std::uint32_t eip);
// The DR6 B0-B3 bits of the data breakpoints an access of `size` bytes at
// `linear` meets: any of its bytes in a breakpoint's range.
std::uint32_t data_breakpoint_hits(const Breakpoints& b, std::uint32_t linear, unsigned size,
                                   bool write);
// The same for I/O breakpoints and an access of `size` bytes at `port`.
std::uint32_t io_breakpoint_hits(const Breakpoints& b, std::uint32_t port, unsigned size);

}  // namespace jitterbug::cpu
