// GuestWindow: host address space laid out for the JIT's direct guest
// memory accesses ("fastmem"): 4 GiB in which guest physical address a is
// host address base() + a, then guard pages. RAM appears in it as a second mapping of its
// host pages (HostMemory is a memory file for this); everything else —
// MMIO, ROM, holes, and for writes the pages that hold translated code — is
// inaccessible or read-only there, so that an access to it faults and the
// JIT's fault handler sends it to the access's slow path.
// Translated code reaches guest address a as GS:[a], GS's base being the
// window's: no lookup, no check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mmu/host_memory.hpp"

namespace jitterbug::mmu {

class GuestWindow {
  public:
    static constexpr std::uint64_t kSpan = std::uint64_t{1} << 32;
    // Past 4 GiB: an access wrapping around the top faults here.
    static constexpr std::uint64_t kGuard = std::uint64_t{64} << 10;

    // Reserves the window; !valid() when the host cannot (no address space
    // to spare, pages not 4 KiB).
    GuestWindow();
    GuestWindow(const GuestWindow&) = delete;
    GuestWindow& operator=(const GuestWindow&) = delete;
    ~GuestWindow();

    bool valid() const { return base_ != nullptr; }
    std::uint8_t* base() const { return base_; }

    // Shows `size` bytes of RAM, the file `backing`'s, at guest physical
    // address `phys`, writable. False when they cannot be mapped again (no
    // file, not page-aligned): the window then stays inaccessible there.
    bool alias(std::uint64_t phys, std::uint64_t size, FileBacking backing);
    // Whether writes to the RAM page at `phys` go straight through (false:
    // read-only, the page holds translated code). Not RAM: nothing to do.
    void set_writable(std::uint64_t phys_page, bool writable);

  private:
    bool is_ram(std::uint64_t phys) const;

    std::uint8_t* base_ = nullptr;
    struct Range {
        std::uint64_t base;
        std::uint64_t size;
    };
    std::vector<Range> ram_;
};

}  // namespace jitterbug::mmu
