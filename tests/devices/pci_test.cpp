// PCI configuration mechanism #1 at 0xCF8/0xCFC, the 82441FX host bridge,
// the PIIX3 PCI-to-ISA bridge, BAR sizing on a function of our own, the
// PIIX3 reset control register at 0xCF9, reset and save/restore.
// Expectations from the PCI Local Bus Specification 3.0 (3.2.2.3.2, 6.1,
// 6.2.5.1), the 82441FX and 82371SB datasheets, and the accesses Linux's
// arch/x86/pci/direct.c and bus scan make.
#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "devices/pci.hpp"
#include "devices/port_io_bus.hpp"

using namespace jitterbug::devices;

namespace {

// A function with an I/O BAR, a memory BAR, a prefetchable memory BAR, an
// interrupt pin and a register of its own that is half writable.
class TestFunction final : public PciFunction {
  public:
    TestFunction() : PciFunction(PciIdentity{0x1234, 0x5678, 0x01, 0x018000, 0x00}) {
        define_register(kCommand, 2, 0x0000,
                        kCommandIoSpace | kCommandMemorySpace | kCommandBusMaster);
        define_register(kStatus, 2, kStatusDevselMedium, 0,
                        kStatusDetectedParityError | kStatusSignaledSystemError |
                            kStatusReceivedMasterAbort | kStatusReceivedTargetAbort |
                            kStatusSignaledTargetAbort | kStatusMasterDataParityError);
        define_bar(0, {PciBar::Space::kIo, 16});
        define_bar(1, {PciBar::Space::kMemory32, 4096});
        define_bar(2, {PciBar::Space::kMemory32, 1u << 20, true});
        define_interrupt_pin(1);  // INTA#
        define_register(0x40, 2, 0xA5A5, 0x0FF0);
    }
    using PciFunction::set_status_bits;
};

struct Pc {
    std::vector<PciHost::ResetKind> resets;
    int pam_changes = 0;
    std::vector<unsigned> pirq_changes;
    I440fxHostBridge host_bridge{[this] { ++pam_changes; }};
    Piix3IsaBridge isa_bridge{[this](unsigned pirq) { pirq_changes.push_back(pirq); }};
    TestFunction test_function;
    PciBus bus;
    PciHost host{bus, [this](PciHost::ResetKind kind) { resets.push_back(kind); }};
    PortIoBus ports;

    explicit Pc(bool with_test_function = true) {
        REQUIRE(bus.add(0, 0, host_bridge).ok());
        REQUIRE(bus.add(1, 0, isa_bridge).ok());
        if (with_test_function) REQUIRE(bus.add(3, 0, test_function).ok());
        REQUIRE(ports.map(0xCF8, 8, host, "pci").ok());
    }

    void outb(std::uint8_t v, std::uint16_t port) { ports.write(port, 1, v); }
    void outw(std::uint16_t v, std::uint16_t port) { ports.write(port, 2, v); }
    void outl(std::uint32_t v, std::uint16_t port) { ports.write(port, 4, v); }
    std::uint8_t inb(std::uint16_t port) { return static_cast<std::uint8_t>(ports.read(port, 1)); }
    std::uint16_t inw(std::uint16_t port) {
        return static_cast<std::uint16_t>(ports.read(port, 2));
    }
    std::uint32_t inl(std::uint16_t port) { return ports.read(port, 4); }

    // Linux's PCI_CONF1_ADDRESS.
    static std::uint32_t address(unsigned bus_number, unsigned device, unsigned function,
                                 unsigned reg) {
        return 0x80000000u | bus_number << 16 | device << 11 | function << 8 | (reg & 0xFC);
    }
    // pci_conf1_read and pci_conf1_write on bus 0.
    std::uint32_t read(unsigned device, unsigned function, unsigned reg, unsigned len) {
        outl(address(0, device, function, reg), 0xCF8);
        if (len == 1) return inb(static_cast<std::uint16_t>(0xCFC + (reg & 3)));
        if (len == 2) return inw(static_cast<std::uint16_t>(0xCFC + (reg & 2)));
        return inl(0xCFC);
    }
    void write(unsigned device, unsigned function, unsigned reg, unsigned len, std::uint32_t v) {
        outl(address(0, device, function, reg), 0xCF8);
        if (len == 1) {
            outb(static_cast<std::uint8_t>(v), static_cast<std::uint16_t>(0xCFC + (reg & 3)));
        } else if (len == 2) {
            outw(static_cast<std::uint16_t>(v), static_cast<std::uint16_t>(0xCFC + (reg & 2)));
        } else {
            outl(v, 0xCFC);
        }
    }
};

// Linux's pci_sanity_check: some function on bus 0 is a host bridge or VGA
// (class word at 0x0A), or is Intel's or Compaq's (vendor word at 0x00).
bool linux_sanity_check(Pc& pc) {
    for (unsigned devfn = 0; devfn < 0x100; ++devfn) {
        const std::uint32_t cls = pc.read(devfn >> 3, devfn & 7, 0x0A, 2);
        if (cls == 0x0600 || cls == 0x0300) return true;
        const std::uint32_t vendor = pc.read(devfn >> 3, devfn & 7, 0x00, 2);
        if (vendor == 0x8086 || vendor == 0x0E11) return true;
    }
    return false;
}

struct Found {
    unsigned device, function;
    std::uint32_t vendor_device, class_revision;
    std::uint8_t header_type;
};

// Linux's pci_scan_slot over bus 0: the vendor/device dword, the header
// type byte, the class/revision dword; functions 1-7 only of a device
// whose function 0 says it has several.
std::vector<Found> linux_scan(Pc& pc) {
    std::vector<Found> found;
    for (unsigned device = 0; device < 32; ++device) {
        for (unsigned function = 0; function < 8; ++function) {
            const std::uint32_t id = pc.read(device, function, 0x00, 4);
            if (id == 0xFFFFFFFFu || id == 0 || id == 0x0000FFFFu || id == 0xFFFF0000u) {
                if (function == 0) break;
                continue;
            }
            const auto header = static_cast<std::uint8_t>(pc.read(device, function, 0x0E, 1));
            found.push_back({device, function, id, pc.read(device, function, 0x08, 4), header});
            if (function == 0 && !(header & 0x80)) break;
        }
    }
    return found;
}

// Linux's __pci_read_base: the size a BAR decodes, by writing all ones.
std::uint32_t bar_size(Pc& pc, unsigned device, unsigned bar) {
    const unsigned reg = 0x10 + 4 * bar;
    const std::uint32_t saved = pc.read(device, 0, reg, 4);
    pc.write(device, 0, reg, 4, 0xFFFFFFFFu);
    const std::uint32_t sizing = pc.read(device, 0, reg, 4);
    pc.write(device, 0, reg, 4, saved);
    const std::uint32_t mask = (sizing & 1) ? 0x0000FFFCu : 0xFFFFFFF0u;
    const std::uint32_t decoded = sizing & mask;
    return decoded & ~(decoded - 1);  // the lowest address bit it decodes
}

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("CONFIG_ADDRESS is latched by 32-bit writes only and reads back without bits 1:0") {
        Pc pc;
        CHECK(pc.inl(0xCF8) == 0x00000000);
        pc.outl(0x80001A47, 0xCF8);
        CHECK(pc.inl(0xCF8) == 0x80001A44);  // bits 1:0 read as 0
        // Bits 30:24 are reserved and read as 0.
        pc.outl(0xFFFFFFFF, 0xCF8);
        CHECK(pc.inl(0xCF8) == 0x80FFFFFC);
        CHECK(pc.host.config_address() == 0x80FFFFFC);
        // Byte and word accesses are not CONFIG_ADDRESS: they go to an
        // undriven bus (and the byte at 0xCF9 is the reset control register).
        pc.outl(0x80000800, 0xCF8);
        pc.outb(0x01, 0xCFB);
        pc.outb(0x00, 0xCF8);
        pc.outb(0x00, 0xCFA);
        pc.outw(0x1234, 0xCF8);
        pc.outw(0x1234, 0xCFA);
        CHECK(pc.inl(0xCF8) == 0x80000800);
        CHECK(pc.inb(0xCF8) == 0xFF);
        CHECK(pc.inb(0xCFA) == 0xFF);
        CHECK(pc.inb(0xCFB) == 0xFF);
        CHECK(pc.inw(0xCF8) == 0xFFFF);
        CHECK(pc.inw(0xCFA) == 0xFFFF);
        // A dword at 0xCF9 is not one at 0xCF8 either.
        pc.outl(0x80001000, 0xCF9);
        CHECK(pc.inl(0xCF8) == 0x80000800);
        CHECK(pc.inl(0xCF9) == 0xFFFFFFFF);
    }

    TEST_CASE("CONFIG_DATA reads bytes words and dwords at every offset of the selected dword") {
        Pc pc;
        pc.outl(Pc::address(0, 0, 0, 0x00), 0xCF8);  // 82441FX vendor and device IDs
        CHECK(pc.inl(0xCFC) == 0x12378086);
        CHECK(pc.inb(0xCFC) == 0x86);
        CHECK(pc.inb(0xCFD) == 0x80);
        CHECK(pc.inb(0xCFE) == 0x37);
        CHECK(pc.inb(0xCFF) == 0x12);
        CHECK(pc.inw(0xCFC) == 0x8086);
        CHECK(pc.inw(0xCFD) == 0x3780);
        CHECK(pc.inw(0xCFE) == 0x1237);
        // Accesses running past 0xCFF: the bytes beyond are not the host's.
        CHECK(pc.inw(0xCFF) == 0xFF12);
        CHECK(pc.inl(0xCFE) == 0xFFFF1237);
        // The register number comes from CONFIG_ADDRESS, the byte from the port.
        pc.outl(Pc::address(0, 0, 0, 0x08), 0xCF8);
        CHECK(pc.inl(0xCFC) == 0x06000002);  // class 06 00 00, revision 02
        CHECK(pc.inb(0xCFC) == 0x02);
        CHECK(pc.inw(0xCFE) == 0x0600);
        pc.outl(Pc::address(0, 1, 0, 0x0C), 0xCF8);
        CHECK(pc.inb(0xCFE) == 0x80);  // PIIX3 header type
    }

    TEST_CASE("CONFIG_DATA writes bytes words and dwords at every offset of the selected dword") {
        Pc pc;
        pc.outl(Pc::address(0, 0, 0, 0x5C), 0xCF8);  // PAM3-PAM6
        pc.outb(0x11, 0xCFC);
        pc.outb(0x22, 0xCFD);
        pc.outw(0x3313, 0xCFE);
        CHECK(pc.inl(0xCFC) == 0x33132211);
        CHECK(pc.host_bridge.pam(3) == 0x11);
        CHECK(pc.host_bridge.pam(4) == 0x22);
        CHECK(pc.host_bridge.pam(5) == 0x13);
        CHECK(pc.host_bridge.pam(6) == 0x33);
        pc.outw(0x1031, 0xCFD);
        CHECK(pc.inl(0xCFC) == 0x33103111);
        pc.outl(0x01020310, 0xCFC);
        CHECK(pc.inl(0xCFC) == 0x01020310);
        // A word at 0xCFF: its low byte is PAM6's, its high byte no one's.
        pc.outw(0x3333, 0xCFF);
        CHECK(pc.inl(0xCFC) == 0x33020310);
        // CONFIG_ADDRESS bits 1:0 do not select a byte: the port does.
        pc.outl(Pc::address(0, 0, 0, 0x58) | 1, 0xCF8);
        pc.outb(0x10, 0xCFD);
        CHECK(pc.host_bridge.pam(0) == 0x10);
    }

    TEST_CASE(
        "absent functions and buses read all ones and writes with the enable bit clear go "
        "nowhere") {
        Pc pc;
        pc.outl(Pc::address(0, 2, 0, 0x00), 0xCF8);
        CHECK(pc.inl(0xCFC) == 0xFFFFFFFF);
        CHECK(pc.inw(0xCFE) == 0xFFFF);
        CHECK(pc.inb(0xCFF) == 0xFF);
        pc.outl(0x12345678, 0xCFC);  // dropped
        CHECK(pc.inl(0xCFC) == 0xFFFFFFFF);
        CHECK(pc.read(0, 1, 0x00, 4) == 0xFFFFFFFF);  // the 82441FX is single-function
        CHECK(pc.read(1, 1, 0x00, 4) == 0xFFFFFFFF);  // no PIIX3 IDE yet
        CHECK(pc.read(31, 7, 0xFC, 4) == 0xFFFFFFFF);
        pc.outl(Pc::address(1, 0, 0, 0x00), 0xCF8);  // bus 1: there is no bridge to it
        CHECK(pc.inl(0xCFC) == 0xFFFFFFFF);

        // Enable bit clear: CONFIG_DATA is an ordinary, undriven port.
        pc.outl(0x00000000, 0xCF8);  // would be 00:00.0 register 0
        CHECK(pc.inl(0xCFC) == 0xFFFFFFFF);
        CHECK(pc.inb(0xCFC) == 0xFF);
        pc.outl(0x0000005C, 0xCF8);
        pc.outl(0x33333333, 0xCFC);
        pc.outb(0x33, 0xCFD);
        CHECK(pc.host_bridge.pam(3) == 0x00);
        CHECK(pc.host_bridge.pam(4) == 0x00);
        CHECK(pc.pam_changes == 0);
        CHECK(pc.read(0, 0, 0x5C, 4) == 0x00000000);
    }

    TEST_CASE("Linux's direct probe finds configuration type 1 and passes its sanity check") {
        Pc pc;
        // pci_check_type1
        pc.outb(0x01, 0xCFB);
        const std::uint32_t saved = pc.inl(0xCF8);
        pc.outl(0x80000000, 0xCF8);
        CHECK(pc.inl(0xCF8) == 0x80000000);
        CHECK(linux_sanity_check(pc));
        pc.outl(saved, 0xCF8);
        CHECK(pc.inl(0xCF8) == saved);
        // pci_check_type2 must fail: the byte writes do not reach anything.
        pc.outb(0x00, 0xCFB);
        pc.outb(0x00, 0xCF8);
        pc.outb(0x00, 0xCFA);
        CHECK_FALSE((pc.inb(0xCF8) == 0x00 && pc.inb(0xCFA) == 0x00));
    }

    TEST_CASE("Linux's bus scan finds the 82441FX and the PIIX3 with their IDs and header types") {
        Pc pc(false);
        const std::vector<Found> found = linux_scan(pc);
        REQUIRE(found.size() == 2);
        CHECK(found[0].device == 0);
        CHECK(found[0].function == 0);
        CHECK(found[0].vendor_device == 0x12378086);
        CHECK(found[0].class_revision == 0x06000002);  // host bridge, revision 02
        CHECK(found[0].header_type == 0x00);
        CHECK(found[1].device == 1);
        CHECK(found[1].function == 0);
        CHECK(found[1].vendor_device == 0x70008086);
        CHECK((found[1].class_revision >> 8) == 0x060100);  // PCI-to-ISA bridge
        CHECK(found[1].header_type == 0x80);                // multi-function
        // Command and status at reset (82441FX: 0006h/0280h; PIIX3: 0007h/0200h).
        CHECK(pc.read(0, 0, 0x04, 4) == 0x02800006);
        CHECK(pc.read(1, 0, 0x04, 4) == 0x02000007);
    }

    TEST_CASE("read-only registers keep their values when written") {
        Pc pc;
        for (unsigned reg : {0x00u, 0x08u, 0x10u, 0x2Cu, 0x3Cu, 0x40u, 0x50u, 0x60u, 0xFCu}) {
            const std::uint32_t before = pc.read(0, 0, reg, 4);
            pc.write(0, 0, reg, 4, 0xFFFFFFFF);
            pc.write(0, 0, reg, 4, 0x00000000);
            CHECK(pc.read(0, 0, reg, 4) == before);
        }
        for (unsigned reg : {0x00u, 0x08u, 0x10u, 0x3Cu, 0x50u, 0xFCu}) {
            const std::uint32_t before = pc.read(1, 0, reg, 4);
            pc.write(1, 0, reg, 4, 0xFFFFFFFF);
            pc.write(1, 0, reg, 4, 0x00000000);
            CHECK(pc.read(1, 0, reg, 4) == before);
        }
        CHECK(pc.read(0, 0, 0x00, 4) == 0x12378086);
        CHECK(pc.read(1, 0, 0x00, 4) == 0x70008086);
        CHECK(pc.read(1, 0, 0x0E, 1) == 0x80);
        // 82441FX: of dword 0x0C only the latency timer's bits 7:3 are writable.
        pc.write(0, 0, 0x0C, 4, 0xFFFFFFFF);
        CHECK(pc.read(0, 0, 0x0C, 4) == 0x0000F800);
        // Memory access and bus master are hardwired on in both bridges (and
        // I/O in the PIIX3's).
        pc.write(0, 0, 0x04, 2, 0x0000);
        pc.write(1, 0, 0x04, 2, 0x0000);
        CHECK(pc.read(0, 0, 0x04, 2) == 0x0006);
        CHECK(pc.read(1, 0, 0x04, 2) == 0x0007);
    }

    TEST_CASE("a write changes only the bits the writable mask lets through") {
        Pc pc;
        CHECK(pc.read(3, 0, 0x40, 2) == 0xA5A5);
        pc.write(3, 0, 0x40, 2, 0xFFFF);
        CHECK(pc.read(3, 0, 0x40, 2) == 0xAFF5);
        pc.write(3, 0, 0x40, 2, 0x0000);
        CHECK(pc.read(3, 0, 0x40, 2) == 0xA005);
        pc.write(3, 0, 0x41, 1, 0x0C);
        CHECK(pc.read(3, 0, 0x40, 2) == 0xAC05);
        // Interrupt Line is software's; Interrupt Pin is the device's.
        CHECK(pc.read(3, 0, 0x3D, 1) == 0x01);
        pc.write(3, 0, 0x3C, 2, 0x040B);
        CHECK(pc.read(3, 0, 0x3C, 2) == 0x010B);
        // The command register's I/O and memory space enables.
        CHECK_FALSE(pc.test_function.decodes_io());
        pc.write(3, 0, 0x04, 2, 0xFFFF);
        CHECK(pc.read(3, 0, 0x04, 2) == 0x0007);
        CHECK(pc.test_function.decodes_io());
        CHECK(pc.test_function.decodes_memory());
    }

    TEST_CASE("status error bits clear when written with 1 and keep when written with 0") {
        Pc pc;
        pc.test_function.set_status_bits(PciFunction::kStatusReceivedMasterAbort |
                                         PciFunction::kStatusReceivedTargetAbort);
        CHECK(pc.read(3, 0, 0x06, 2) == 0x3200);
        pc.write(3, 0, 0x06, 2, 0x0000);
        CHECK(pc.read(3, 0, 0x06, 2) == 0x3200);
        pc.write(3, 0, 0x06, 2, 0x1000);
        CHECK(pc.read(3, 0, 0x06, 2) == 0x2200);
        // A dword write of the command register with zeros in the status half
        // leaves the status alone.
        pc.write(3, 0, 0x04, 4, 0x00000005);
        CHECK(pc.read(3, 0, 0x04, 4) == 0x22000005);
        // DEVSEL timing is read-only.
        pc.write(3, 0, 0x06, 2, 0xFFFF);
        CHECK(pc.read(3, 0, 0x06, 2) == 0x0200);
        // The 82441FX's status: nothing set, writes of ones change nothing.
        pc.write(0, 0, 0x06, 2, 0xFFFF);
        CHECK(pc.read(0, 0, 0x06, 2) == 0x0280);
    }

    TEST_CASE("BARs report their size to a write of all ones and keep their flag bits") {
        Pc pc;
        CHECK(pc.read(3, 0, 0x10, 4) == 0x00000001);  // I/O
        CHECK(pc.read(3, 0, 0x14, 4) == 0x00000000);  // 32-bit memory
        CHECK(pc.read(3, 0, 0x18, 4) == 0x00000008);  // prefetchable 32-bit memory
        pc.write(3, 0, 0x10, 4, 0xFFFFFFFF);
        CHECK(pc.read(3, 0, 0x10, 4) == 0x0000FFF1);  // 16 ports, 16-bit decode
        pc.write(3, 0, 0x14, 4, 0xFFFFFFFF);
        CHECK(pc.read(3, 0, 0x14, 4) == 0xFFFFF000);
        pc.write(3, 0, 0x18, 4, 0xFFFFFFFF);
        CHECK(pc.read(3, 0, 0x18, 4) == 0xFFF00008);
        // BARs the function does not implement are hardwired to 0.
        for (unsigned reg : {0x1Cu, 0x20u, 0x24u}) {
            pc.write(3, 0, reg, 4, 0xFFFFFFFF);
            CHECK(pc.read(3, 0, reg, 4) == 0x00000000);
        }
        CHECK(bar_size(pc, 3, 0) == 16);
        CHECK(bar_size(pc, 3, 1) == 4096);
        CHECK(bar_size(pc, 3, 2) == 1u << 20);
        // Programming them: the bits below the size are not the address's.
        pc.write(3, 0, 0x10, 4, 0x0000C000);
        CHECK(pc.read(3, 0, 0x10, 4) == 0x0000C001);
        pc.write(3, 0, 0x10, 4, 0x0001C00F);
        CHECK(pc.read(3, 0, 0x10, 4) == 0x0000C001);
        pc.write(3, 0, 0x14, 4, 0xFEBF1234);
        CHECK(pc.read(3, 0, 0x14, 4) == 0xFEBF1000);
        pc.write(3, 0, 0x18, 4, 0xFD000000);
        CHECK(pc.read(3, 0, 0x18, 4) == 0xFD000008);
        CHECK(pc.test_function.bar_address(0) == 0xC000);
        CHECK(pc.test_function.bar_address(1) == 0xFEBF1000);
        CHECK(pc.test_function.bar_address(2) == 0xFD000000);
        CHECK(pc.test_function.bar_address(3) == 0);
        REQUIRE(pc.test_function.bar(0).has_value());
        CHECK(pc.test_function.bar(0)->space == PciBar::Space::kIo);
        CHECK_FALSE(pc.test_function.bar(4).has_value());
    }

    TEST_CASE("PIRQ route control registers steer PIRQA to PIRQD to the routable ISA IRQs") {
        Pc pc;
        for (unsigned n = 0; n < 4; ++n) {
            CHECK(pc.read(1, 0, 0x60 + n, 1) == 0x80);  // routing disabled
            CHECK(pc.isa_bridge.pirq_irq(n) == std::nullopt);
        }
        pc.write(1, 0, 0x60, 1, 0x0B);
        CHECK(pc.read(1, 0, 0x60, 1) == 0x0B);
        CHECK(pc.isa_bridge.pirq_irq(0) == 11u);
        CHECK(pc.pirq_changes == std::vector<unsigned>{0});
        // Bits 6:4 are reserved; bit 7 disables the routing.
        pc.write(1, 0, 0x61, 1, 0xFF);
        CHECK(pc.read(1, 0, 0x61, 1) == 0x8F);
        CHECK(pc.isa_bridge.pirq_irq(1) == std::nullopt);
        pc.write(1, 0, 0x60, 4, 0x0F0E0C09);
        CHECK(pc.isa_bridge.pirq_irq(0) == 9u);
        CHECK(pc.isa_bridge.pirq_irq(1) == 12u);
        CHECK(pc.isa_bridge.pirq_irq(2) == 14u);
        CHECK(pc.isa_bridge.pirq_irq(3) == 15u);
        CHECK(pc.pirq_changes == std::vector<unsigned>{0, 1, 0, 1, 2, 3});
        // IRQ 0, 1, 2, 8 and 13 are reserved values.
        for (unsigned irq = 0; irq < 16; ++irq) {
            pc.write(1, 0, 0x62, 1, irq);
            const bool routable = irq >= 3 && irq != 8 && irq != 13;
            CHECK(pc.isa_bridge.pirq_irq(2) ==
                  (routable ? std::optional<unsigned>(irq) : std::optional<unsigned>()));
        }
        CHECK(pc.isa_bridge.pirq_irq(4) == std::nullopt);
        // A write elsewhere reroutes nothing.
        pc.pirq_changes.clear();
        pc.write(1, 0, 0x64, 4, 0xFFFFFFFF);
        CHECK(pc.pirq_changes.empty());
    }

    TEST_CASE("the PIIX3's documented registers have their reset values") {
        Pc pc;
        CHECK(pc.read(1, 0, 0x4C, 1) == 0x4D);    // IORT
        CHECK(pc.read(1, 0, 0x4E, 2) == 0x0003);  // XBCS: RTC and keyboard decode
        CHECK(pc.read(1, 0, 0x69, 1) == 0x02);    // TOM
        CHECK(pc.read(1, 0, 0x6A, 2) == 0x0000);  // MSTAT
        CHECK(pc.read(1, 0, 0x70, 1) == 0x80);    // MBIRQ0
        CHECK(pc.read(1, 0, 0x78, 2) == 0x0002);  // PCSC
        CHECK(pc.read(1, 0, 0x80, 1) == 0x00);    // APICBASE
        CHECK(pc.read(1, 0, 0xA0, 1) == 0x08);    // SMICNTL
        CHECK(pc.read(1, 0, 0xA8, 1) == 0x0F);    // FTMR
        // TOM bit 0 is reserved.
        pc.write(1, 0, 0x69, 1, 0xFF);
        CHECK(pc.read(1, 0, 0x69, 1) == 0xFE);
        pc.write(1, 0, 0x69, 1, 0x12);
        CHECK(pc.read(1, 0, 0x69, 1) == 0x12);
    }

    TEST_CASE("the 82441FX stores its PAM registers and tells of their changes") {
        Pc pc;
        for (unsigned n = 0; n < 7; ++n)
            CHECK(pc.read(0, 0, 0x59 + n, 1) == 0x00);
        // The BIOS making its shadow RAM read/write (RE and WE of each half).
        pc.write(0, 0, 0x59, 1, 0x30);
        for (unsigned n = 1; n < 7; ++n)
            pc.write(0, 0, 0x59 + n, 1, 0x33);
        CHECK(pc.pam_changes == 7);
        CHECK(pc.read(0, 0, 0x58, 4) == 0x33333000);
        CHECK(pc.read(0, 0, 0x5C, 4) == 0x33333333);
        // Cache enables (bits 6 and 2) are reserved on the 82441FX, and so is
        // PAM0's low half.
        pc.write(0, 0, 0x59, 1, 0xFF);
        pc.write(0, 0, 0x5A, 1, 0xFF);
        CHECK(pc.host_bridge.pam(0) == 0x30);
        CHECK(pc.host_bridge.pam(1) == 0x33);
        // Read-only shadow: RE only.
        pc.write(0, 0, 0x5C, 4, 0x11111111);
        CHECK(pc.read(0, 0, 0x5C, 4) == 0x11111111);
        const int before = pc.pam_changes;
        pc.write(0, 0, 0x04, 2, 0x0006);
        CHECK(pc.pam_changes == before);
    }

    TEST_CASE("the 82441FX SMRAM register opens and closes until D_LCK locks it") {
        Pc pc;
        CHECK(pc.read(0, 0, 0x72, 1) == 0x02);  // C_BASE_SEG 010: 0xA0000
        pc.write(0, 0, 0x72, 1, 0x4A);          // D_OPEN, G_SMRAME
        CHECK(pc.host_bridge.smram() == 0x4A);
        pc.write(0, 0, 0x72, 1, 0x85);  // bit 7 reserved, C_BASE_SEG read-only
        CHECK(pc.host_bridge.smram() == 0x02);
        // D_LCK clears D_OPEN and makes the register read-only...
        pc.write(0, 0, 0x72, 1, 0x5A);
        CHECK(pc.host_bridge.smram() == 0x1A);
        pc.write(0, 0, 0x72, 1, 0x42);
        CHECK(pc.host_bridge.smram() == 0x1A);
        // ... until reset.
        pc.host.reset();
        CHECK(pc.host_bridge.smram() == 0x02);
        pc.write(0, 0, 0x72, 1, 0x4A);
        CHECK(pc.host_bridge.smram() == 0x4A);
    }

    TEST_CASE("the reset control register at 0xCF9 asks for a hard or a soft reset") {
        Pc pc;
        CHECK(pc.inb(0xCF9) == 0x00);
        // Linux's reboot=pci: SRST first, then RCPU.
        const auto cf9 = static_cast<std::uint8_t>(pc.inb(0xCF9) & ~0x06);
        pc.outb(static_cast<std::uint8_t>(cf9 | 0x02), 0xCF9);
        CHECK(pc.resets.empty());
        CHECK(pc.inb(0xCF9) == 0x02);
        pc.outb(static_cast<std::uint8_t>(cf9 | 0x06), 0xCF9);
        CHECK(pc.resets == std::vector<PciHost::ResetKind>{PciHost::ResetKind::kHard});
        // RCPU staying at 1 is no new request.
        pc.outb(0x06, 0xCF9);
        CHECK(pc.resets.size() == 1);
        // SRST = 0: a soft reset (INIT).
        pc.outb(0x00, 0xCF9);
        pc.outb(0x04, 0xCF9);
        CHECK(pc.resets.back() == PciHost::ResetKind::kSoft);
        CHECK(pc.inb(0xCF9) == 0x04);
        // Reserved bits read as 0.
        pc.outb(0xF9, 0xCF9);
        CHECK(pc.inb(0xCF9) == 0x00);
        // The ACPI reset register's write (0x06) in one go.
        pc.outb(0x06, 0xCF9);
        CHECK(pc.resets.size() == 3);
        CHECK(pc.resets.back() == PciHost::ResetKind::kHard);
        // Only a byte access at 0xCF9 reaches it.
        pc.outb(0x00, 0xCF9);
        pc.outw(0x0600, 0xCF8);
        pc.outw(0x0006, 0xCF9);
        CHECK(pc.resets.size() == 3);
        CHECK(pc.inb(0xCF9) == 0x00);
        pc.outb(0x02, 0xCF9);
        pc.host.reset();
        CHECK(pc.inb(0xCF9) == 0x00);
    }

    TEST_CASE("reset puts back the reset values and forgets CONFIG_ADDRESS") {
        Pc pc;
        const PciHost::State fresh = pc.host.save();
        pc.write(0, 0, 0x5C, 4, 0x33333333);
        pc.write(1, 0, 0x60, 4, 0x0B0A0B0A);
        pc.write(3, 0, 0x10, 4, 0xC000);
        pc.outb(0x02, 0xCF9);
        CHECK_FALSE(pc.host.save() == fresh);
        pc.pirq_changes.clear();
        pc.host.reset();
        CHECK(pc.host.save() == fresh);
        CHECK(pc.inl(0xCF8) == 0);
        CHECK(pc.isa_bridge.pirq_irq(0) == std::nullopt);
        CHECK(pc.pirq_changes == std::vector<unsigned>{0, 1, 2, 3});
    }

    TEST_CASE("save and restore carry CONFIG_ADDRESS the reset control and every function") {
        Pc a;
        a.write(0, 0, 0x59, 4, 0x33333330);
        a.write(0, 0, 0x72, 1, 0x4A);
        a.write(1, 0, 0x60, 4, 0x800E0B0A);
        a.write(3, 0, 0x10, 4, 0xC000);
        a.write(3, 0, 0x04, 2, 0x0001);
        a.test_function.set_status_bits(PciFunction::kStatusReceivedMasterAbort);
        a.outb(0x02, 0xCF9);
        a.outl(Pc::address(0, 3, 0, 0x10), 0xCF8);
        const PciHost::State saved = a.host.save();

        Pc b;
        REQUIRE(b.host.restore(saved).ok());
        CHECK(b.host.save() == saved);
        CHECK(b.inl(0xCF8) == Pc::address(0, 3, 0, 0x10));
        CHECK(b.inl(0xCFC) == 0x0000C001);
        CHECK(b.inb(0xCF9) == 0x02);
        CHECK(b.host_bridge.pam(0) == 0x30);
        CHECK(b.host_bridge.smram() == 0x4A);
        CHECK(b.isa_bridge.pirq_irq(0) == 10u);
        CHECK(b.isa_bridge.pirq_irq(3) == std::nullopt);
        CHECK(b.read(3, 0, 0x04, 4) == 0x22000001);
        CHECK(b.test_function.bar_address(0) == 0xC000);
        // The functions hear of their restored registers.
        CHECK(b.pam_changes == 1);
        CHECK(b.pirq_changes == std::vector<unsigned>{0, 1, 2, 3});
        CHECK(b.resets.empty());

        // A machine without the same functions refuses the state, unchanged.
        Pc c(false);
        const PciHost::State before = c.host.save();
        CHECK_FALSE(c.host.restore(saved).ok());
        CHECK(c.host.save() == before);
    }

    TEST_CASE("the bus refuses a taken or out-of-range slot") {
        PciBus bus;
        I440fxHostBridge host_bridge;
        Piix3IsaBridge isa_bridge;
        CHECK(bus.add(0, 0, host_bridge).ok());
        CHECK_FALSE(bus.add(0, 0, isa_bridge).ok());
        CHECK_FALSE(bus.add(32, 0, isa_bridge).ok());
        CHECK_FALSE(bus.add(1, 8, isa_bridge).ok());
        CHECK(bus.add(1, 0, isa_bridge).ok());
        CHECK(bus.find(0, 0) == &host_bridge);
        CHECK(bus.find(1, 0) == &isa_bridge);
        CHECK(bus.find(2, 0) == nullptr);
        CHECK(bus.find(40, 0) == nullptr);
    }
}
