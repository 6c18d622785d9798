#include "mmu/mmu.hpp"

#include <algorithm>
#include <cstring>

namespace jitterbug::mmu {

void Mmu::set_a20(bool enabled) {
    const std::uint64_t mask = enabled ? ~std::uint64_t{0} : ~(std::uint64_t{1} << 20);
    if (mask != a20_mask_) {
        a20_mask_ = mask;
        flush_tlb();
    }
}

namespace {

// Paging-structure entry bits (SDM Vol. 3A, 4.3 and 4.4).
namespace pte {
constexpr std::uint64_t P = 1u << 0;
constexpr std::uint64_t RW = 1u << 1;
constexpr std::uint64_t US = 1u << 2;
constexpr std::uint64_t A = 1u << 5;
constexpr std::uint64_t D = 1u << 6;
constexpr std::uint64_t PS = 1u << 7;
constexpr std::uint64_t G = 1u << 8;
constexpr std::uint64_t XD = std::uint64_t{1} << 63;
}  // namespace pte

// Address bits of PAE entries: 35:12.
constexpr std::uint64_t kPaeAddress =
    ((std::uint64_t{1} << kMaxPhysicalAddressBits) - 1) & ~std::uint64_t{kPageOffsetMask};
// Bits 62:36 of PAE entries are reserved (63 too, without EFER.NXE).
constexpr std::uint64_t kPaeHighReserved =
    ~((std::uint64_t{1} << kMaxPhysicalAddressBits) - 1) & ~pte::XD;
// A PAE PDPTE also reserves bits 2:1 and 8:5 (and 63).
constexpr std::uint64_t kPdpteReserved = kPaeHighReserved | pte::XD | 0x1E6;

}  // namespace

bool Mmu::load_pdptes(std::uint32_t cr3, std::array<std::uint64_t, 4>& out) {
    // CR3 bits 31:5 locate the 32-byte aligned table.
    const std::uint64_t base = cr3 & ~std::uint32_t{0x1F};
    for (unsigned i = 0; i < 4; ++i) {
        out[i] = read_entry(base + 8 * i, 8);
        if ((out[i] & pte::P) && (out[i] & kPdpteReserved)) return false;
    }
    return true;
}

bool Mmu::configure(const PagingConfig& config, bool cr3_load) {
    if (config == paging_ && !cr3_load) return true;
    PagingConfig only_cr3 = paging_;
    only_cr3.cr3 = config.cr3;
    const bool same_mode = only_cr3 == config;
    if (config.enabled && config.pae && (cr3_load || !same_mode)) {
        std::array<std::uint64_t, 4> loaded{};
        if (!load_pdptes(config.cr3, loaded)) return false;
        pdptes_ = loaded;
    }
    paging_ = config;
    if (same_mode && config.pge) {
        tlb_.flush_non_global();
        ++mapping_epoch_;
    } else {
        flush_tlb();
    }
    return true;
}

void Mmu::invalidate_page(std::uint32_t linear) {
    std::uint32_t first = linear & kPageMask;
    std::uint32_t last = first;
    if (tlb_.holds_large_pages()) {
        // The page may be a piece of a large one: drop all of that.
        const std::uint32_t large = paging_.pae ? (2u << 20) : (4u << 20);
        first = linear & ~(large - 1);
        last = first + large - kPageSize;
    }
    tlb_.invalidate(first, last);
    ++mapping_epoch_;
}

std::uint64_t Mmu::read_entry(std::uint64_t phys, unsigned size) {
    return memory_.read(PhysicalAddress{phys & a20_mask_}, size);
}

// Sets accessed and dirty bits (always in an entry's low dword). Translated
// code on the page is invalidated as by any other store.
void Mmu::write_entry(std::uint64_t phys, std::uint32_t low) {
    const PhysicalAddress at{phys & a20_mask_};
    if (observer_ && observer_->is_code_page(static_cast<std::uint32_t>(at.value >> kPageShift))) {
        // (A running block whose own bytes hold the entry runs to its end.)
        observer_->code_written(at, 4);
    }
    note_write(at, 4);
    memory_.write(at, 4, low);
}

bool Mmu::walk(std::uint32_t linear, Access kind, TlbSet set, PhysicalAddress& phys,
               PageRights& rights, PageFault& fault) {
    const bool user = set == TlbSet::User;
    const bool write = kind == Access::Write;
    std::uint32_t error = (write ? pf_error::W : 0) | (user ? pf_error::U : 0);
    if (kind == Access::Execute && paging_.pae && paging_.nxe) error |= pf_error::ID;
    const auto fail = [&](std::uint32_t bits) {
        fault.linear = linear;
        fault.error_code = error | bits;
        return false;
    };
    const std::uint64_t reserved_high = kPaeHighReserved | (paging_.nxe ? 0 : pte::XD);
    // The entries of the walk, top down (the leaf last), and their addresses.
    std::array<std::uint64_t, 3> entries{};
    std::array<std::uint64_t, 3> where{};
    unsigned levels = 0;
    std::uint64_t page_base = 0;
    std::uint32_t page_size = kPageSize;
    if (paging_.pae) {
        const std::uint64_t pdpte = pdptes_[linear >> 30];
        if (!(pdpte & pte::P)) return fail(0);
        const std::uint64_t pde_at = (pdpte & kPaeAddress) + ((linear >> 21) & 0x1FF) * 8;
        const std::uint64_t pde = read_entry(pde_at, 8);
        if (!(pde & pte::P)) return fail(0);
        if (pde & reserved_high) return fail(pf_error::P | pf_error::RSVD);
        entries[levels] = pde;
        where[levels++] = pde_at;
        if (pde & pte::PS) {
            if (pde & 0x1FE000) return fail(pf_error::P | pf_error::RSVD);  // bits 20:13
            page_base = pde & kPaeAddress & ~std::uint64_t{0x1FFFFF};
            page_size = 2u << 20;
        } else {
            const std::uint64_t pte_at = (pde & kPaeAddress) + ((linear >> 12) & 0x1FF) * 8;
            const std::uint64_t entry = read_entry(pte_at, 8);
            if (!(entry & pte::P)) return fail(0);
            if (entry & reserved_high) return fail(pf_error::P | pf_error::RSVD);
            entries[levels] = entry;
            where[levels++] = pte_at;
            page_base = entry & kPaeAddress;
        }
    } else {
        const std::uint64_t pde_at = (paging_.cr3 & kPageMask) + (linear >> 22) * 4;
        const std::uint64_t pde = read_entry(pde_at, 4);
        if (!(pde & pte::P)) return fail(0);
        entries[levels] = pde;
        where[levels++] = pde_at;
        if (paging_.pse && (pde & pte::PS)) {
            // Bits 16:13 are physical address bits 35:32 (PSE-36); 21:17 are reserved.
            if (pde & 0x3E0000) return fail(pf_error::P | pf_error::RSVD);
            page_base = (pde & 0xFFC00000u) | (((pde >> 13) & 0xF) << 32);
            page_size = 4u << 20;
        } else {
            const std::uint64_t pte_at = (pde & kPageMask) + ((linear >> 12) & 0x3FF) * 4;
            const std::uint64_t entry = read_entry(pte_at, 4);
            if (!(entry & pte::P)) return fail(0);
            entries[levels] = entry;
            where[levels++] = pte_at;
            page_base = entry & kPageMask;
        }
    }
    // Rights are those every level grants (SDM Vol. 3A, 4.6).
    rights = PageRights{};
    for (unsigned i = 0; i < levels; ++i) {
        rights.user = rights.user && (entries[i] & pte::US);
        rights.writable = rights.writable && (entries[i] & pte::RW);
        if (paging_.nxe && (entries[i] & pte::XD)) rights.executable = false;
    }
    const std::uint64_t leaf = entries[levels - 1];
    rights.dirty = (leaf & pte::D) != 0;
    rights.global = paging_.pge && (leaf & pte::G);
    rights.large = page_size != kPageSize;
    if (user && !rights.user) return fail(pf_error::P);
    if (write && !rights.writable && (user || paging_.wp)) return fail(pf_error::P);
    if (kind == Access::Execute && !rights.executable) return fail(pf_error::P);
    // The accessed bits of every level, the dirty bit of the leaf on a write.
    for (unsigned i = 0; i < levels; ++i) {
        std::uint64_t updated = entries[i] | pte::A;
        if (write && i == levels - 1) updated |= pte::D;
        if (updated != entries[i]) write_entry(where[i], static_cast<std::uint32_t>(updated));
    }
    if (write) rights.dirty = true;
    phys = PhysicalAddress{(page_base + (linear & (page_size - 1))) & a20_mask_};
    return true;
}

bool Mmu::translate(std::uint32_t linear, Access kind, TlbSet set, PhysicalAddress& phys,
                    PageFault& fault) {
    const TlbEntry& e = tlb_.entry(set, linear);
    const std::uint32_t page = linear & kPageMask;
    const std::uint32_t tag = kind == Access::Read    ? e.read_tag
                              : kind == Access::Write ? e.write_tag
                                                      : e.code_tag;
    if (tag == page) {
        phys = PhysicalAddress{(std::uint64_t{e.phys_page} << kPageShift) |
                               (linear & kPageOffsetMask)};
        return true;
    }
    PageRights rights;  // (without paging: every right)
    if (!paging_.enabled) {
        phys = PhysicalAddress{linear & a20_mask_};
    } else if (!walk(linear, kind, set, phys, rights, fault)) {
        return false;
    }
    refill(linear, phys, set, rights);
    return true;
}

void Mmu::refill(std::uint32_t linear, PhysicalAddress phys, TlbSet set, const PageRights& rights) {
    ++refills_;
    const Region* r = memory_.find(phys);
    TlbEntry& e = tlb_.entry(set, linear);
    e = TlbEntry{};
    if (!r || r->kind == RegionKind::Mmio) return;
    const std::uint64_t page_phys = phys.value & ~std::uint64_t{kPageOffsetMask};
    // The whole page must lie in the region for the fast path to cover it.
    if (page_phys < r->base.value || page_phys + kPageSize > r->end().value) return;
    const std::uint32_t page_linear = linear & kPageMask;
    const std::uint32_t phys_page = static_cast<std::uint32_t>(page_phys >> kPageShift);
    const bool user = set == TlbSet::User;
    e.phys_page = phys_page;
    e.linear_page = page_linear;
    e.addend =
        reinterpret_cast<std::uintptr_t>(r->host + (page_phys - r->base.value)) - page_linear;
    if (rights.global) e.flags |= tlb_flag::kGlobal;
    if (rights.large) {
        e.flags |= tlb_flag::kLarge;
        tlb_.note_large_page();
    }
    if (!user || rights.user) {
        e.read_tag = page_linear;
        if (rights.executable) e.code_tag = page_linear;
    }
    const bool may_write = user ? rights.user && rights.writable : rights.writable || !paging_.wp;
    const bool code = observer_ && observer_->is_code_page(phys_page);
    if (may_write && rights.dirty && r->kind == RegionKind::Ram && !code && !write_log_)
        e.write_tag = page_linear;
    for (unsigned i = 0; i < num_watchpoints_; ++i) {
        const Watchpoint& w = watchpoints_[i];
        if (w.first > page_linear + kPageOffsetMask || w.last < page_linear) continue;
        e.write_tag = kInvalidTag;
        if (w.reads) e.read_tag = kInvalidTag;
    }
}

void Mmu::set_watchpoints(std::span<const Watchpoint> watchpoints) {
    num_watchpoints_ =
        static_cast<unsigned>(std::min<std::size_t>(watchpoints.size(), kMaxWatchpoints));
    std::copy_n(watchpoints.begin(), num_watchpoints_, watchpoints_.begin());
    flush_tlb();
}

std::optional<std::uintptr_t> Mmu::probe(std::uint32_t lo, std::uint32_t hi, TlbSet set, bool read,
                                         bool write) {
    if ((lo & kPageMask) != (hi & kPageMask)) return std::nullopt;
    PhysicalAddress phys;
    PageFault fault;
    if (!translate(lo, write ? Access::Write : Access::Read, set, phys, fault)) return std::nullopt;
    const TlbEntry& e = tlb_.entry(set, lo);
    const std::uint32_t page = lo & kPageMask;
    if ((read && e.read_tag != page) || (write && e.write_tag != page)) return std::nullopt;
    return e.addend;
}

AccessStatus Mmu::read(std::uint32_t linear, unsigned size, TlbSet set, std::uint32_t& value,
                       PageFault& fault) {
    const std::uint32_t last = linear + size - 1;
    if ((linear & kPageMask) == (last & kPageMask)) {
        PhysicalAddress phys;
        if (!translate(linear, Access::Read, set, phys, fault)) return AccessStatus::Fault;
        value = static_cast<std::uint32_t>(memory_.read(phys, size));
        return AccessStatus::Ok;
    }
    // Crossing a page boundary: translate both pages before reading either.
    PhysicalAddress lo, hi;
    if (!translate(linear, Access::Read, set, lo, fault)) return AccessStatus::Fault;
    if (!translate(last & kPageMask, Access::Read, set, hi, fault)) return AccessStatus::Fault;
    const unsigned first = kPageSize - (linear & kPageOffsetMask);
    const std::uint64_t a = memory_.read(lo, first);
    const std::uint64_t b = memory_.read(hi, size - first);
    value = static_cast<std::uint32_t>(a | (b << (8 * first)));
    return AccessStatus::Ok;
}

AccessStatus Mmu::write(std::uint32_t linear, unsigned size, TlbSet set, std::uint32_t value,
                        PageFault& fault) {
    const std::uint32_t last = linear + size - 1;
    const bool crossing = (linear & kPageMask) != (last & kPageMask);
    PhysicalAddress lo, hi;
    if (!translate(linear, Access::Write, set, lo, fault)) return AccessStatus::Fault;
    if (crossing && !translate(last & kPageMask, Access::Write, set, hi, fault))
        return AccessStatus::Fault;
    const unsigned first = crossing ? kPageSize - (linear & kPageOffsetMask) : size;
    // Translated code in the way: invalidate it first; if the running block is
    // among the victims, nothing is written and the instruction is retried.
    if (observer_) {
        const auto touches_code = [&](PhysicalAddress p, unsigned n) {
            return observer_->is_code_page(static_cast<std::uint32_t>(p.value >> kPageShift)) &&
                   !observer_->code_written(p, n);
        };
        bool retry = touches_code(lo, first);
        if (crossing) retry = touches_code(hi, size - first) || retry;
        if (retry) return AccessStatus::Retry;
    }
    note_write(lo, first);
    if (crossing) note_write(hi, size - first);
    if (!crossing) {
        memory_.write(lo, size, value);
        return AccessStatus::Ok;
    }
    memory_.write(lo, first, value);
    memory_.write(hi, size - first, value >> (8 * first));
    return AccessStatus::Ok;
}

bool Mmu::fetch(std::uint32_t linear, std::span<std::uint8_t> out, TlbSet set,
                PhysicalAddress& phys, PageFault& fault) {
    if (!translate(linear, Access::Execute, set, phys, fault)) return false;
    const std::size_t n = std::min<std::size_t>(out.size(), kPageSize - (linear & kPageOffsetMask));
    for (std::size_t i = 0; i < n;) {
        const Region* r = memory_.find(phys + i);
        if (r && r->kind != RegionKind::Mmio) {
            const std::uint64_t offset = phys.value + i - r->base.value;
            const std::size_t chunk = std::min<std::size_t>(n - i, r->size - offset);
            std::memcpy(out.data() + i, r->host + offset, chunk);
            i += chunk;
        } else {
            out[i] = static_cast<std::uint8_t>(memory_.read(phys + i, 1));
            ++i;
        }
    }
    return true;
}

}  // namespace jitterbug::mmu
