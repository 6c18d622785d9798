// Tlb: the software TLB. Direct-mapped; an entry maps one linear page to
// host memory with one addend, and holds a tag per access kind. A tag is the
// linear page address when that kind of access may take the fast path, and
// kInvalidTag otherwise (never equal to a page address: its low bit is set).
// Pages that are not plain RAM (ROM for writes, MMIO, pages holding
// translated code for writes) keep the tag invalid, which sends the access
// to the slow path. The inline fast path is: index by the page of the first
// byte, compare the page of the last byte with the tag, add the addend.
#pragma once

#include <array>
#include <cstdint>

#include "mmu/address.hpp"

namespace jitterbug::mmu {

constexpr std::uint32_t kInvalidTag = 1;

struct TlbEntry {
    std::uint32_t read_tag = kInvalidTag;
    std::uint32_t write_tag = kInvalidTag;
    std::uint32_t code_tag = kInvalidTag;
    std::uint32_t phys_page = 0;  // physical page number the entry maps
    std::uintptr_t addend = 0;    // host address = linear address + addend
    std::uintptr_t reserved = 0;  // keeps entries 32 bytes: index << 5
};
static_assert(sizeof(TlbEntry) == 32);

class Tlb {
  public:
    static constexpr unsigned kIndexBits = 10;
    static constexpr unsigned kEntries = 1u << kIndexBits;

    static unsigned index(std::uint32_t linear) { return (linear >> kPageShift) & (kEntries - 1); }

    // (For filling: a flush then has something to clear.)
    TlbEntry& entry(std::uint32_t linear) {
        filled_ = true;
        return entries_[index(linear)];
    }
    const TlbEntry& entry(std::uint32_t linear) const { return entries_[index(linear)]; }

    // Host pointer for an access of `size` bytes at `linear`, or nullptr when
    // the access must take the slow path.
    std::uint8_t* lookup_read(std::uint32_t linear, unsigned size) const {
        const TlbEntry& e = entry(linear);
        if (((linear + size - 1) & kPageMask) != e.read_tag) return nullptr;
        return reinterpret_cast<std::uint8_t*>(linear + e.addend);
    }
    std::uint8_t* lookup_write(std::uint32_t linear, unsigned size) const {
        const TlbEntry& e = entry(linear);
        if (((linear + size - 1) & kPageMask) != e.write_tag) return nullptr;
        return reinterpret_cast<std::uint8_t*>(linear + e.addend);
    }

    // (Creating a machine flushes a TLB that holds nothing yet, more than once.)
    void flush() {
        if (!filled_) return;
        entries_.fill(TlbEntry{});
        filled_ = false;
    }

    // Sends writes to physical page `phys_page` to the slow path (the page
    // now holds translated code).
    void protect_physical_page(std::uint32_t phys_page) {
        if (!filled_) return;
        for (TlbEntry& e : entries_) {
            if (e.phys_page == phys_page) e.write_tag = kInvalidTag;
        }
    }

    static constexpr std::size_t entries_offset() { return 0; }

  private:
    std::array<TlbEntry, kEntries> entries_{};
    bool filled_ = false;  // an entry may be other than invalid
};

}  // namespace jitterbug::mmu
