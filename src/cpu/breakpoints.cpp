#include "cpu/breakpoints.hpp"

namespace jitterbug::cpu {

namespace {

// LEN (SDM Vol. 3A, 17.2.5): 00 one byte, 01 two, 11 four, 10 eight (an
// encoding P6 processors leave undefined; later ones give it eight bytes).
std::uint32_t length_of(unsigned len) {
    static constexpr std::array<std::uint32_t, 4> kBytes = {1, 2, 8, 4};
    return kBytes[len & 3];
}

bool overlaps(const Breakpoints::Range& r, std::uint32_t first, std::uint32_t last) {
    return first <= r.last && r.first <= last;
}

std::uint32_t hits_in(const Breakpoints& b, std::uint8_t candidates, std::uint32_t first,
                      std::uint32_t last) {
    std::uint32_t hits = 0;
    for (unsigned n = 0; n < 4; ++n) {
        if ((candidates >> n) & 1) {
            if (overlaps(b.range[n], first, last)) hits |= 1u << n;
        }
    }
    return hits;
}

// An access that wraps past 4 GiB (or 64 KiB of ports) is checked as its
// two pieces.
std::uint32_t hits_of_access(const Breakpoints& b, std::uint8_t candidates, std::uint32_t first,
                             unsigned size, std::uint32_t top) {
    const std::uint64_t last = std::uint64_t{first} + size - 1;
    if (last <= top) return hits_in(b, candidates, first, static_cast<std::uint32_t>(last));
    return hits_in(b, candidates, first, top) |
           hits_in(b, candidates, 0, static_cast<std::uint32_t>(last - top - 1));
}

}  // namespace

Breakpoints breakpoints_of(const CpuState& st) {
    Breakpoints b;
    const std::uint32_t dr7 = st.dr[7];
    for (unsigned n = 0; n < 4; ++n) {
        if (((dr7 >> (2 * n)) & 3) == 0) continue;
        const unsigned rw = (dr7 >> (16 + 4 * n)) & 3;
        const std::uint32_t bytes = rw == 0 ? 1 : length_of(dr7 >> (18 + 4 * n));
        // The address is aligned down to the length (17.2.5: the low bits are ignored).
        const std::uint32_t first = st.dr[n] & ~(bytes - 1);
        b.range[n] = Breakpoints::Range{first, first + (bytes - 1)};
        const auto bit = static_cast<std::uint8_t>(1u << n);
        switch (rw) {
            case 0:
                b.execute |= bit;
                break;
            case 1:
                b.write |= bit;
                break;
            case 2:
                // Undefined without CR4.DE (17.2.4): nothing is watched then.
                if (st.cr4 & cr4::DE) b.io |= bit;
                break;
            default:
                b.write |= bit;
                b.read |= bit;
                break;
        }
    }
    return b;
}

std::uint32_t instruction_breakpoint_hits(const Breakpoints& b, std::uint32_t eip) {
    if (!b.execute) return 0;
    return hits_in(b, b.execute, eip, eip);
}

std::uint32_t data_breakpoint_hits(const Breakpoints& b, std::uint32_t linear, unsigned size,
                                   bool write) {
    const std::uint8_t candidates = write ? b.write : b.read;
    if (!candidates) return 0;
    return hits_of_access(b, candidates, linear, size, 0xFFFFFFFFu);
}

std::uint32_t io_breakpoint_hits(const Breakpoints& b, std::uint32_t port, unsigned size) {
    if (!b.io) return 0;
    return hits_of_access(b, b.io, port, size, 0xFFFFu);
}

}  // namespace jitterbug::cpu
