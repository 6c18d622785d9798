// Tlb: the software TLB. Two direct-mapped sets, one per privilege class
// (supervisor: CPL 0-2, user: CPL 3), since paging grants them different
// rights to the same page. An entry maps one linear page to host memory
// with one addend, and holds a tag per access kind. A tag is the linear
// page address when that kind of access may take the fast path, and
// kInvalidTag otherwise (never equal to a page address: its low bit is
// set). Pages that are not plain RAM (ROM for writes, MMIO, pages holding
// translated code for writes), pages the set may not access that way, and
// pages whose dirty bit is still clear (for writes: the slow path sets it)
// keep the tag invalid, which sends the access to the slow path. The inline
// fast path is: index by the page of the first byte, compare the page of
// the last byte with the tag, add the addend.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "mmu/address.hpp"

namespace jitterbug::mmu {

constexpr std::uint32_t kInvalidTag = 1;

// TlbEntry::flags
namespace tlb_flag {
constexpr std::uint32_t kGlobal = 1u << 0;  // survives CR3 loads (CR4.PGE, PTE.G)
constexpr std::uint32_t kLarge = 1u << 1;   // a piece of a 4 MiB or 2 MiB page
}  // namespace tlb_flag

struct TlbEntry {
    std::uint32_t read_tag = kInvalidTag;
    std::uint32_t write_tag = kInvalidTag;
    std::uint32_t code_tag = kInvalidTag;
    std::uint32_t phys_page = 0;              // physical page number the entry maps
    std::uintptr_t addend = 0;                // host address = linear address + addend
    std::uint32_t linear_page = kInvalidTag;  // the linear page, whatever the tags
    std::uint32_t flags = 0;                  // tlb_flag
};
static_assert(sizeof(TlbEntry) == 32);

// The set of a privilege class.
enum class TlbSet : std::uint8_t { Supervisor = 0, User = 1 };
constexpr TlbSet tlb_set_of_cpl(unsigned cpl) {
    return cpl == 3 ? TlbSet::User : TlbSet::Supervisor;
}

class Tlb {
  public:
    static constexpr unsigned kIndexBits = 10;
    static constexpr unsigned kEntries = 1u << kIndexBits;
    static constexpr unsigned kSets = 2;

    static unsigned index(std::uint32_t linear) { return (linear >> kPageShift) & (kEntries - 1); }
    // Byte offset of a set's first entry in the Tlb (generated code indexes from there).
    static constexpr std::size_t set_offset(TlbSet set) {
        return static_cast<std::size_t>(set) * kEntries * sizeof(TlbEntry);
    }

    // (For filling: a flush then has something to clear.)
    TlbEntry& entry(TlbSet set, std::uint32_t linear) {
        filled_ = true;
        return sets_[static_cast<unsigned>(set)][index(linear)];
    }
    const TlbEntry& entry(TlbSet set, std::uint32_t linear) const {
        return sets_[static_cast<unsigned>(set)][index(linear)];
    }

    // Host pointer for an access of `size` bytes at `linear`, or nullptr when
    // the access must take the slow path.
    std::uint8_t* lookup_read(TlbSet set, std::uint32_t linear, unsigned size) const {
        const TlbEntry& e = entry(set, linear);
        if (((linear + size - 1) & kPageMask) != e.read_tag) return nullptr;
        return reinterpret_cast<std::uint8_t*>(linear + e.addend);
    }
    std::uint8_t* lookup_write(TlbSet set, std::uint32_t linear, unsigned size) const {
        const TlbEntry& e = entry(set, linear);
        if (((linear + size - 1) & kPageMask) != e.write_tag) return nullptr;
        return reinterpret_cast<std::uint8_t*>(linear + e.addend);
    }

    // (Creating a machine flushes a TLB that holds nothing yet, more than once.)
    void flush() {
        if (!filled_) return;
        for (auto& set : sets_)
            set.fill(TlbEntry{});
        filled_ = false;
        large_ = false;
    }
    // Drops every entry but the global ones (a CR3 load with CR4.PGE).
    void flush_non_global() {
        if (!filled_) return;
        for (auto& set : sets_) {
            for (TlbEntry& e : set) {
                if (!(e.flags & tlb_flag::kGlobal)) e = TlbEntry{};
            }
        }
    }
    // Drops the entries of linear pages [first_page, last_page] (page
    // addresses), global or not (INVLPG).
    void invalidate(std::uint32_t first_page, std::uint32_t last_page) {
        if (!filled_) return;
        for (auto& set : sets_) {
            if (last_page - first_page < kEntries * kPageSize) {
                for (std::uint32_t p = first_page;; p += kPageSize) {
                    TlbEntry& e = set[index(p)];
                    if (e.linear_page == p) e = TlbEntry{};
                    if (p == last_page) break;
                }
            } else {
                for (TlbEntry& e : set) {
                    if (e.linear_page >= first_page && e.linear_page <= last_page) e = TlbEntry{};
                }
            }
        }
    }
    // Whether an entry of a large page may be held (INVLPG then drops the whole page).
    bool holds_large_pages() const { return large_; }
    void note_large_page() { large_ = true; }

    // Sends writes to physical page `phys_page` to the slow path (the page
    // now holds translated code).
    void protect_physical_page(std::uint32_t phys_page) {
        if (!filled_) return;
        for (auto& set : sets_) {
            for (TlbEntry& e : set) {
                if (e.phys_page == phys_page) e.write_tag = kInvalidTag;
            }
        }
    }

  private:
    std::array<std::array<TlbEntry, kEntries>, kSets> sets_{};
    bool filled_ = false;  // an entry may be other than invalid
    bool large_ = false;   // an entry of a large page may be held
};

}  // namespace jitterbug::mmu
