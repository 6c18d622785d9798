// Mmu: the guest's view of memory through linear addresses — translation
// (the A20 gate, and paging: 32-bit two-level with 4 MiB pages, and PAE
// three-level with NX; SDM Vol. 3A, chapter 4), the TLB refills, and the
// slow paths of reads, writes and code fetches. Stores into pages that hold
// translated code are reported to a CodeWriteObserver before they happen.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "mmu/address.hpp"
#include "mmu/physical_memory.hpp"
#include "mmu/tlb.hpp"

namespace jitterbug::mmu {

enum class Access : std::uint8_t { Read, Write, Execute };

enum class AccessStatus : std::uint8_t {
    Ok,
    Fault,  // a page fault: see PageFault
    Retry,  // the store hit the code of the running block; nothing was written
};

struct PageFault {
    std::uint32_t linear = 0;      // CR2
    std::uint32_t error_code = 0;  // SDM Vol. 3A, 4.7: pf_error
};

// Bits of a page fault's error code (SDM Vol. 3A, 4.7).
namespace pf_error {
constexpr std::uint32_t P = 1u << 0;     // a protection violation (else: not present)
constexpr std::uint32_t W = 1u << 1;     // a write
constexpr std::uint32_t U = 1u << 2;     // a user-mode access
constexpr std::uint32_t RSVD = 1u << 3;  // a reserved bit set in a paging-structure entry
constexpr std::uint32_t ID = 1u << 4;    // an instruction fetch (PAE with EFER.NXE only)
}  // namespace pf_error

// What translation depends on: CR0.PG and WP, CR3, CR4.PSE, PAE and PGE,
// EFER.NXE.
struct PagingConfig {
    bool enabled = false;  // CR0.PG
    bool pae = false;      // CR4.PAE
    bool pse = false;      // CR4.PSE: 4 MiB pages (32-bit paging)
    bool pge = false;      // CR4.PGE: global pages
    bool wp = false;       // CR0.WP: supervisor writes honour read-only pages
    bool nxe = false;      // EFER.NXE: the execute-disable bit (PAE)
    std::uint32_t cr3 = 0;

    bool operator==(const PagingConfig&) const = default;
};

// The highest physical address bit + 1 that paging can produce (PAE and
// PSE-36: 36, as on P6 processors).
constexpr unsigned kMaxPhysicalAddressBits = 36;

// What a page walk found out about a page.
struct PageRights {
    bool user = true;
    bool writable = true;
    bool executable = true;
    bool dirty = true;
    bool global = false;
    bool large = false;  // the entry is a piece of a 4 MiB or 2 MiB page
};

class CodeWriteObserver {
  public:
    virtual ~CodeWriteObserver() = default;
    virtual bool is_code_page(std::uint32_t phys_page) const = 0;
    // Bytes [phys, phys + size) are about to be written. Returns false when the
    // running block's own code is among them: the store must not happen yet.
    virtual bool code_written(PhysicalAddress phys, unsigned size) = 0;
};

class Mmu {
  public:
    Mmu(PhysicalMemory& memory, Tlb& tlb) : memory_(memory), tlb_(tlb) {}

    void set_code_observer(CodeWriteObserver* observer) { observer_ = observer; }
    // The A20 gate: when disabled, address bit 20 reads as 0 (8086 wrap-around).
    void set_a20(bool enabled);
    bool a20() const { return a20_mask_ == ~std::uint64_t{0}; }
    // TLB refills so far: the TLB misses.
    std::uint64_t tlb_refills() const { return refills_; }

    // New paging settings after a write to CR0, CR4 or EFER, or a load of
    // CR3 (`cr3_load`, even of the value it had). A CR3 load with everything
    // else as before drops the TLB's entries but the global ones; any other
    // change drops them all. With PAE paging the four PDPTEs are loaded from
    // CR3 by a CR3 load and when paging or PAE changes (SDM Vol. 3A, 4.4.1):
    // false when a present one has reserved bits set, and then nothing
    // changed (the caller raises #GP(0)).
    bool configure(const PagingConfig& config, bool cr3_load);
    const PagingConfig& paging() const { return paging_; }
    bool paging_enabled() const { return paging_.enabled; }
    // INVLPG: drops what the TLB holds for the page of `linear` (a large
    // page as a whole), global or not.
    void invalidate_page(std::uint32_t linear);

    // Linear to physical for an access of `kind` with the privilege of
    // `set` (user: a CPL 3 access other than the CPU's own accesses to
    // descriptor tables and the TSS); false with `fault` set on a page fault.
    // Refills the set's TLB entry for the page (a hit there skips the walk).
    bool translate(std::uint32_t linear, Access kind, TlbSet set, PhysicalAddress& phys,
                   PageFault& fault);

    // Slow paths of guest data accesses (size 1, 2 or 4). Refill the TLB.
    AccessStatus read(std::uint32_t linear, unsigned size, TlbSet set, std::uint32_t& value,
                      PageFault& fault);
    AccessStatus write(std::uint32_t linear, unsigned size, TlbSet set, std::uint32_t value,
                       PageFault& fault);

    // Code fetch for the translator: copies up to out.size() bytes starting at
    // `linear` but not past the end of its page. Returns the physical address
    // of the first byte; false with `fault` set on a page fault.
    bool fetch(std::uint32_t linear, std::span<std::uint8_t> out, TlbSet set, PhysicalAddress& phys,
               PageFault& fault);

    void flush_tlb() {
        tlb_.flush();
        ++mapping_epoch_;
    }
    // Changes whenever what a linear address maps to may have changed (a TLB
    // flush or invalidation, the A20 gate, paging settings): an addend read from the TLB before is
    // stale. Mappings change only outside the slow paths of data accesses (in helpers: port I/O,
    // control registers), which lets translated code keep a checked page's addend across those slow
    // paths (jit/backend/x64: page groups); the JIT's slow paths check it.
    std::uint64_t mapping_epoch() const { return mapping_epoch_; }

    // For a page group: the addend of the page holding bytes [lo, hi] when
    // the TLB, filled as an access there would fill it, lets the kinds of
    // access asked for take the fast path on it; nothing when it does not
    // (the bytes span two pages, MMIO, ROM or translated code for writes, a
    // page fault — which the access itself then raises).
    std::optional<std::uintptr_t> probe(std::uint32_t lo, std::uint32_t hi, TlbSet set, bool read,
                                        bool write);
    // Writes to this physical page must now take the slow path.
    void protect_code_page(std::uint32_t phys_page) { tlb_.protect_physical_page(phys_page); }

    PhysicalMemory& memory() { return memory_; }
    Tlb& tlb() { return tlb_; }

    // Linear ranges that data breakpoints watch: the TLB never lets writes
    // to a page holding one take the fast path, nor reads where `reads`,
    // so that the slow paths see every access to them. Replaces the earlier
    // set (empty: none) and flushes the TLB.
    struct Watchpoint {
        std::uint32_t first = 0;
        std::uint32_t last = 0;
        bool reads = false;
    };
    static constexpr unsigned kMaxWatchpoints = 4;
    void set_watchpoints(std::span<const Watchpoint> watchpoints);

    // With a log, the TLB never allows writes, so that every guest write
    // passes here (or through note_write()) and its physical page is
    // appended to the log: lockstep compares just those pages. Null: off.
    void set_write_log(std::vector<std::uint32_t>* log) {
        write_log_ = log;
        flush_tlb();
    }
    bool logs_writes() const { return write_log_ != nullptr; }
    void note_write(PhysicalAddress phys, std::uint64_t size) {
        if (!write_log_ || size == 0) return;
        for (std::uint64_t p = phys.value >> kPageShift; p <= (phys.value + size - 1) >> kPageShift;
             ++p)
            write_log_->push_back(static_cast<std::uint32_t>(p));
    }

  private:
    bool walk(std::uint32_t linear, Access kind, TlbSet set, PhysicalAddress& phys,
              PageRights& rights, PageFault& fault);
    bool load_pdptes(std::uint32_t cr3, std::array<std::uint64_t, 4>& out);
    std::uint64_t read_entry(std::uint64_t phys, unsigned size);
    void write_entry(std::uint64_t phys, std::uint32_t low);
    void refill(std::uint32_t linear, PhysicalAddress phys, TlbSet set, const PageRights& rights);

    std::uint64_t refills_ = 0;
    PhysicalMemory& memory_;
    Tlb& tlb_;
    CodeWriteObserver* observer_ = nullptr;
    std::uint64_t a20_mask_ = ~std::uint64_t{0};
    PagingConfig paging_;
    std::array<std::uint64_t, 4> pdptes_{};  // PAE: loaded with CR3
    std::uint64_t mapping_epoch_ = 0;
    std::vector<std::uint32_t>* write_log_ = nullptr;
    std::array<Watchpoint, kMaxWatchpoints> watchpoints_{};
    unsigned num_watchpoints_ = 0;
};

}  // namespace jitterbug::mmu
