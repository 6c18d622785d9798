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

bool Mmu::translate(std::uint32_t linear, Access, PhysicalAddress& phys, PageFault&) {
    phys = PhysicalAddress{linear & a20_mask_};
    return true;
}

void Mmu::refill(std::uint32_t linear, PhysicalAddress phys) {
    const Region* r = memory_.find(phys);
    TlbEntry& e = tlb_.entry(linear);
    e = TlbEntry{};
    if (!r || r->kind == RegionKind::Mmio) return;
    const std::uint64_t page_phys = phys.value & ~std::uint64_t{kPageOffsetMask};
    // The whole page must lie in the region for the fast path to cover it.
    if (page_phys < r->base.value || page_phys + kPageSize > r->end().value) return;
    const std::uint32_t page_linear = linear & kPageMask;
    const std::uint32_t phys_page = static_cast<std::uint32_t>(page_phys >> kPageShift);
    e.phys_page = phys_page;
    e.addend =
        reinterpret_cast<std::uintptr_t>(r->host + (page_phys - r->base.value)) - page_linear;
    e.read_tag = page_linear;
    e.code_tag = page_linear;
    const bool code = observer_ && observer_->is_code_page(phys_page);
    if (r->kind == RegionKind::Ram && !code && !write_log_) e.write_tag = page_linear;
}

std::optional<std::uintptr_t> Mmu::probe(std::uint32_t lo, std::uint32_t hi, bool read,
                                         bool write) {
    if ((lo & kPageMask) != (hi & kPageMask)) return std::nullopt;
    PhysicalAddress phys;
    PageFault fault;
    if (!translate(lo, write ? Access::Write : Access::Read, phys, fault)) return std::nullopt;
    refill(lo, phys);
    const TlbEntry& e = tlb_.entry(lo);
    const std::uint32_t page = lo & kPageMask;
    if ((read && e.read_tag != page) || (write && e.write_tag != page)) return std::nullopt;
    return e.addend;
}

AccessStatus Mmu::read(std::uint32_t linear, unsigned size, std::uint32_t& value,
                       PageFault& fault) {
    const std::uint32_t last = linear + size - 1;
    if ((linear & kPageMask) == (last & kPageMask)) {
        PhysicalAddress phys;
        if (!translate(linear, Access::Read, phys, fault)) return AccessStatus::Fault;
        refill(linear, phys);
        value = static_cast<std::uint32_t>(memory_.read(phys, size));
        return AccessStatus::Ok;
    }
    // Crossing a page boundary: translate both pages before reading either.
    PhysicalAddress lo, hi;
    if (!translate(linear, Access::Read, lo, fault)) return AccessStatus::Fault;
    if (!translate(last & kPageMask, Access::Read, hi, fault)) return AccessStatus::Fault;
    const unsigned first = kPageSize - (linear & kPageOffsetMask);
    const std::uint64_t a = memory_.read(lo, first);
    const std::uint64_t b = memory_.read(hi, size - first);
    value = static_cast<std::uint32_t>(a | (b << (8 * first)));
    return AccessStatus::Ok;
}

AccessStatus Mmu::write_page(std::uint32_t linear, PhysicalAddress phys, unsigned size,
                             std::uint32_t value) {
    refill(linear, phys);
    memory_.write(phys, size, value);
    return AccessStatus::Ok;
}

AccessStatus Mmu::write(std::uint32_t linear, unsigned size, std::uint32_t value,
                        PageFault& fault) {
    const std::uint32_t last = linear + size - 1;
    const bool crossing = (linear & kPageMask) != (last & kPageMask);
    PhysicalAddress lo, hi;
    if (!translate(linear, Access::Write, lo, fault)) return AccessStatus::Fault;
    if (crossing && !translate(last & kPageMask, Access::Write, hi, fault))
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
    if (!crossing) return write_page(linear, lo, size, value);
    memory_.write(lo, first, value);
    memory_.write(hi, size - first, value >> (8 * first));
    return AccessStatus::Ok;
}

bool Mmu::fetch(std::uint32_t linear, std::span<std::uint8_t> out, PhysicalAddress& phys,
                PageFault& fault) {
    if (!translate(linear, Access::Execute, phys, fault)) return false;
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
