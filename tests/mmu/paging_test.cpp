// Paging (SDM Vol. 3A, chapter 4): what a walk grants, the page-fault error
// codes, accessed and dirty bits, large and global pages, INVLPG and the
// PAE rules, through the Mmu and its TLB.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "mmu/mmu.hpp"
#include "util/bits.hpp"

using namespace jitterbug;
using namespace jitterbug::mmu;

namespace {

constexpr std::uint32_t P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
constexpr std::uint32_t kDirectory = 0x1000;
constexpr std::uint32_t kTable = 0x2000;

struct Paged {
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(4u << 20);
    PhysicalMemory memory;
    std::unique_ptr<Tlb> tlb = std::make_unique<Tlb>();
    Mmu mmu{memory, *tlb};

    Paged() { REQUIRE(memory.map_ram(PhysicalAddress{0}, ram, "ram").ok()); }
    std::uint32_t word(std::uint32_t phys) const { return load_le<std::uint32_t>(&ram[phys]); }
    void set_word(std::uint32_t phys, std::uint32_t v) { store_le<std::uint32_t>(&ram[phys], v); }
    std::uint64_t quad(std::uint32_t phys) const { return load_le<std::uint64_t>(&ram[phys]); }
    void set_quad(std::uint32_t phys, std::uint64_t v) { store_le<std::uint64_t>(&ram[phys], v); }

    // Linear 0x400000-0x403FFF through one page table, 0x800000 as a 4 MiB page at 0.
    void two_level(PagingConfig config = {}) {
        set_word(kDirectory + 1 * 4, kTable | P | RW | US);
        set_word(kTable + 0 * 4, 0x5000 | P | US);           // user, read-only
        set_word(kTable + 1 * 4, 0x6000 | P | RW);           // supervisor only
        set_word(kTable + 3 * 4, 0x7000 | P | RW | US | G);  // (entry 2: not present)
        set_word(kDirectory + 2 * 4, 0x000000 | P | RW | PS);
        config.enabled = true;
        config.cr3 = kDirectory;
        REQUIRE(mmu.configure(config, true));
    }

    // The physical address, or the page fault's error code | 1 << 31.
    std::uint64_t access(std::uint32_t linear, Access kind, TlbSet set) {
        PhysicalAddress phys;
        PageFault fault;
        if (!mmu.translate(linear, kind, set, phys, fault)) {
            CHECK(fault.linear == linear);
            return fault.error_code | (std::uint64_t{1} << 31);
        }
        return phys.value;
    }
};

constexpr std::uint64_t fault(std::uint32_t error) { return error | (std::uint64_t{1} << 31); }
constexpr std::uint32_t kP = pf_error::P, kW = pf_error::W, kU = pf_error::U,
                        kRsvd = pf_error::RSVD, kId = pf_error::ID;

}  // namespace

TEST_SUITE("mmu") {
    TEST_CASE("a 32-bit walk grants what every level grants and sets accessed and dirty bits") {
        Paged m;
        m.two_level();
        CHECK(m.access(0x400010, Access::Read, TlbSet::User) == 0x5010);
        CHECK((m.word(kDirectory + 4) & A) != 0);
        CHECK((m.word(kTable) & (A | D)) == A);
        // Read-only for the user; the supervisor may write without CR0.WP, and dirties it.
        CHECK(m.access(0x400010, Access::Write, TlbSet::User) == fault(kP | kW | kU));
        CHECK((m.word(kTable) & D) == 0);
        CHECK(m.access(0x400010, Access::Write, TlbSet::Supervisor) == 0x5010);
        CHECK((m.word(kTable) & D) != 0);
        // Supervisor-only, and not present.
        CHECK(m.access(0x401000, Access::Read, TlbSet::User) == fault(kP | kU));
        CHECK(m.access(0x401008, Access::Write, TlbSet::Supervisor) == 0x6008);
        CHECK(m.access(0x402000, Access::Read, TlbSet::Supervisor) == fault(0));
        CHECK(m.access(0x402000, Access::Execute, TlbSet::User) == fault(kU));  // no I/D bit
        CHECK(m.access(0xC00000, Access::Write, TlbSet::User) == fault(kW | kU));
        // Without CR4.PSE a directory entry's PS bit means nothing: it names a table.
        CHECK(m.access(0x800000, Access::Read, TlbSet::Supervisor) == fault(0));  // entry 0 at 0
        m.set_word(0, 0x3000 | P);
        CHECK(m.access(0x800000, Access::Read, TlbSet::Supervisor) == 0x3000);
    }

    TEST_CASE("CR0.WP makes read-only pages read-only for the supervisor too") {
        Paged m;
        m.two_level(PagingConfig{.wp = true});
        CHECK(m.access(0x400010, Access::Write, TlbSet::Supervisor) == fault(kP | kW));
        CHECK(m.tlb->lookup_write(TlbSet::Supervisor, 0x400010, 4) == nullptr);
    }

    TEST_CASE("4 MiB pages map with CR4.PSE and their reserved bits fault") {
        Paged m;
        m.two_level(PagingConfig{.pse = true});
        CHECK(m.access(0x812345, Access::Write, TlbSet::Supervisor) == 0x012345);
        CHECK((m.word(kDirectory + 8) & (A | D)) == (A | D));
        m.set_word(kDirectory + 3 * 4, 0x000000 | P | PS | (1u << 21));
        CHECK(m.access(0xC00000, Access::Read, TlbSet::Supervisor) == fault(kP | kRsvd));
    }

    TEST_CASE("the TLB keeps translations until INVLPG or a CR3 load and global ones past CR3") {
        Paged m;
        PagingConfig config{.pge = true};
        m.two_level(config);
        config.enabled = true;
        config.cr3 = kDirectory;
        CHECK(m.access(0x400000, Access::Read, TlbSet::Supervisor) == 0x5000);
        CHECK(m.access(0x403000, Access::Read, TlbSet::Supervisor) == 0x7000);
        m.set_word(kTable + 0 * 4, 0x9000 | P | US);
        m.set_word(kTable + 3 * 4, 0xA000 | P | RW | US | G);
        // Cached: the old pages still.
        CHECK(m.access(0x400000, Access::Read, TlbSet::Supervisor) == 0x5000);
        // Reloading CR3 (with the value it had) drops all but the global page.
        REQUIRE(m.mmu.configure(config, true));
        CHECK(m.access(0x400000, Access::Read, TlbSet::Supervisor) == 0x9000);
        CHECK(m.access(0x403000, Access::Read, TlbSet::Supervisor) == 0x7000);
        m.mmu.invalidate_page(0x403FFF);
        CHECK(m.access(0x403000, Access::Read, TlbSet::Supervisor) == 0xA000);
    }

    TEST_CASE("INVLPG anywhere in a large page drops all of it") {
        Paged m;
        m.two_level(PagingConfig{.pse = true});
        CHECK(m.access(0x800000, Access::Read, TlbSet::Supervisor) == 0x000000);
        CHECK(m.access(0x9FF000, Access::Read, TlbSet::Supervisor) == 0x1FF000);
        m.set_word(kDirectory + 2 * 4, 0x400000 | P | RW | PS);
        m.mmu.invalidate_page(0x800000);
        CHECK(m.access(0x9FF000, Access::Read, TlbSet::Supervisor) == 0x5FF000);
    }

    TEST_CASE("PAE walks three levels with NX under EFER.NXE and reserved bits otherwise") {
        constexpr std::uint32_t kPdpt = 0x3000, kPd = 0x4000, kPt = 0x8000;
        constexpr std::uint64_t XD = std::uint64_t{1} << 63;
        Paged m;
        m.set_quad(kPdpt, kPd | P);
        m.set_quad(kPd, kPt | P | RW | US);
        m.set_quad(kPt + 5 * 8, 0x9000 | P | RW | US | XD);
        m.set_quad(kPt + 6 * 8, std::uint64_t{0x1A000} | P | RW | US);
        m.set_quad(kPd + 1 * 8, 0x200000 | P | RW | PS);  // a 2 MiB page at 2 MiB
        PagingConfig config{.enabled = true, .pae = true, .nxe = true, .cr3 = kPdpt};
        REQUIRE(m.mmu.configure(config, true));
        CHECK(m.access(0x5123, Access::Read, TlbSet::User) == 0x9123);
        CHECK(m.access(0x5123, Access::Execute, TlbSet::User) == fault(kP | kU | kId));
        CHECK(m.access(0x6000, Access::Execute, TlbSet::User) == 0x1A000);
        CHECK(m.access(0x3FF000, Access::Write, TlbSet::Supervisor) == 0x3FF000);
        CHECK((m.quad(kPd + 8) & (A | D)) == (A | D));
        CHECK(m.access(0x7000, Access::Execute, TlbSet::Supervisor) == fault(kId));
        // Without NXE, bit 63 is reserved.
        config.nxe = false;
        REQUIRE(m.mmu.configure(config, false));
        CHECK(m.access(0x5123, Access::Read, TlbSet::User) == fault(kP | kU | kRsvd));
        // A PDPTE with reserved bits set is refused at the CR3 load; nothing changes.
        m.set_quad(kPdpt + 8, 0x10000 | P | RW);
        config.cr3 = kPdpt;
        CHECK_FALSE(m.mmu.configure(config, true));
        CHECK(m.mmu.paging().nxe == false);
        CHECK(m.access(0x6000, Access::Read, TlbSet::User) == 0x1A000);
    }
}
