// The port bus, the 16550 UART, the CMOS NVRAM, the exit device and the
// x87 error latch.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "devices/cmos.hpp"
#include "devices/debug_exit.hpp"
#include "devices/debug_ports.hpp"
#include "devices/port_io_bus.hpp"
#include "devices/uart16550.hpp"
#include "devices/x87_error.hpp"

using namespace jitterbug;
using namespace jitterbug::devices;

namespace {

// A CMOS register through the index and data ports.
std::uint8_t read_register(Cmos& cmos, std::uint8_t r) {
    cmos.io_write(Cmos::kIndexPort, 1, r);
    return static_cast<std::uint8_t>(cmos.io_read(Cmos::kDataPort, 1));
}

void write_register(Cmos& cmos, std::uint8_t r, std::uint8_t v) {
    cmos.io_write(Cmos::kIndexPort, 1, r);
    cmos.io_write(Cmos::kDataPort, 1, v);
}

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("unclaimed ports float high and double claims are refused") {
        PortIoBus bus;
        Cmos cmos;
        CHECK(bus.read(0x80, 1) == 0xFF);
        CHECK(bus.read(0x80, 2) == 0xFFFF);
        CHECK(bus.read(0x80, 4) == 0xFFFFFFFF);
        REQUIRE(bus.map(0x70, 2, cmos, "cmos").ok());
        const Result<void> again = bus.map(0x71, 1, cmos, "again");
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().message.find("already claimed by 'cmos'") != std::string::npos);
        CHECK_FALSE(bus.map(0xFFFF, 2, cmos, "past the end").ok());
    }

    TEST_CASE("a claim reaches exactly its ports across 256-port pages and at the last port") {
        struct Echo final : PortIoHandler {
            std::vector<std::pair<std::uint16_t, std::uint32_t>> writes;
            std::uint32_t io_read(std::uint16_t port, unsigned) override { return port; }
            void io_write(std::uint16_t port, unsigned, std::uint32_t value) override {
                writes.emplace_back(port, value);
            }
        } echo, last;
        PortIoBus bus;
        REQUIRE(bus.map(0x1FE, 4, echo, "echo").ok());
        REQUIRE(bus.map(0xFFFF, 1, last, "last").ok());
        CHECK(bus.read(0x1FD, 1) == 0xFF);
        for (std::uint16_t p = 0x1FE; p <= 0x201; ++p)
            CHECK(bus.read(p, 2) == p);
        CHECK(bus.read(0x202, 1) == 0xFF);
        CHECK(bus.read(0xFFFF, 4) == 0xFFFF);
        CHECK(bus.read(0xFFFE, 1) == 0xFF);
        bus.write(0x200, 1, 0x5A);
        bus.write(0x202, 1, 0x5B);  // unclaimed: dropped
        CHECK(echo.writes == std::vector<std::pair<std::uint16_t, std::uint32_t>>{{0x200, 0x5A}});
        CHECK_FALSE(bus.map(0x1FC, 3, last, "overlap").ok());
    }

    TEST_CASE("the UART transmits THR writes and reports an empty transmitter") {
        std::string out;
        Uart16550 uart(0x3F8, [&](std::uint8_t b) { out.push_back(static_cast<char>(b)); });
        uart.io_write(0x3F8, 1, 'h');
        uart.io_write(0x3F8, 1, 'i');
        CHECK(out == "hi");
        CHECK((uart.io_read(0x3FD, 1) & 0x60) == 0x60);  // THRE and TEMT
        CHECK((uart.io_read(0x3FD, 1) & 0x01) == 0);     // no data
    }

    TEST_CASE("the UART divisor latch hides THR and IER while DLAB is set") {
        std::string out;
        Uart16550 uart(0x3F8, [&](std::uint8_t b) { out.push_back(static_cast<char>(b)); });
        uart.io_write(0x3FB, 1, 0x80);
        uart.io_write(0x3F8, 1, 0x01);
        uart.io_write(0x3F9, 1, 0x02);
        CHECK(uart.io_read(0x3F8, 1) == 0x01);
        CHECK(uart.io_read(0x3F9, 1) == 0x02);
        CHECK(out.empty());
        uart.io_write(0x3FB, 1, 0x03);
        CHECK(uart.io_read(0x3F9, 1) == 0);  // IER untouched
        CHECK(uart.io_read(0x3FB, 1) == 0x03);
    }

    TEST_CASE("the UART loops back and raises its interrupts by priority gated by OUT2") {
        std::vector<bool> irq;
        Uart16550 uart(
            0x3F8, [](std::uint8_t) { FAIL("loopback must not transmit"); },
            [&](bool level) { irq.push_back(level); });
        uart.io_write(0x3FC, 1, 0x10 | 0x08);   // loopback, OUT2
        uart.io_write(0x3F9, 1, 0x03);          // receive and THR-empty interrupts
        CHECK(irq == std::vector<bool>{true});  // THR empty at once
        CHECK((uart.io_read(0x3FA, 1) & 0x0F) == 0x02);
        CHECK(irq == std::vector<bool>{true, false});  // reading IIR cleared it
        uart.io_write(0x3F8, 1, 'x');                  // loops into the receiver
        CHECK((uart.io_read(0x3FD, 1) & 0x01) == 1);
        CHECK((uart.io_read(0x3FA, 1) & 0x0F) == 0x04);  // received data outranks THR empty
        CHECK(uart.io_read(0x3F8, 1) == 'x');
        CHECK((uart.io_read(0x3FA, 1) & 0x0F) == 0x02);
        CHECK((uart.io_read(0x3FE, 1) & 0x80) == 0x80);  // DCD follows OUT2 in loopback
        uart.io_write(0x3FC, 1, 0x10);                   // OUT2 off: the line drops
        CHECK(irq.back() == false);
    }

    TEST_CASE("the CMOS holds the memory size fields a PC BIOS reads") {
        Cmos cmos;
        cmos.set_memory_size(std::uint64_t{64} << 20);
        CHECK(cmos.get(0x15) == (640 & 0xFF));
        CHECK(cmos.get(0x16) == (640 >> 8));
        const unsigned ext = cmos.get(0x30) | cmos.get(0x31) << 8;
        CHECK(ext == 63 * 1024);
        const unsigned high = cmos.get(0x34) | cmos.get(0x35) << 8;
        CHECK(high == (48u << 20) >> 16);
        cmos.io_write(0x70, 1, 0x80 | 0x34);
        CHECK(cmos.nmi_disabled());
        CHECK(cmos.io_read(0x71, 1) == cmos.get(0x34));
        cmos.io_write(0x71, 1, 0x99);
        CHECK(cmos.get(0x34) == 0x99);
    }

    TEST_CASE("the exit device turns v into status (v << 1) | 1") {
        int status = -1;
        DebugExit dev([&](int s) { status = s; });
        dev.io_write(0xF4, 1, 0);
        CHECK(status == 1);
        dev.io_write(0xF4, 1, 0x21);
        CHECK(status == 0x43);
    }

    TEST_CASE("the x87 error latch raises IRQ 13 on FERR# and port 0xF0 trades it for IGNNE#") {
        std::vector<bool> irq, ignne;
        X87ErrorLatch latch([&](bool l) { irq.push_back(l); }, [&](bool l) { ignne.push_back(l); });
        latch.io_write(X87ErrorLatch::kPort, 1, 0);  // no error: nothing to clear or ignore
        CHECK(irq.empty());
        CHECK(ignne.empty());
        latch.ferr_changed(true);
        CHECK(irq == std::vector<bool>{true});
        latch.ferr_changed(true);  // a level, not an edge per instruction
        CHECK(irq == std::vector<bool>{true});
        latch.io_write(X87ErrorLatch::kPort, 1, 0);
        CHECK(irq == std::vector<bool>{true, false});
        CHECK(ignne == std::vector<bool>{true});
        latch.ferr_changed(false);  // FNCLEX
        CHECK(ignne == std::vector<bool>{true, false});
        CHECK(irq == std::vector<bool>{true, false});
        CHECK(latch.io_read(X87ErrorLatch::kPort, 1) == 0xFF);
    }

    TEST_CASE(
        "the debug console passes each byte written and answers 0xE9 and port 0x80 keeps the POST "
        "code") {
        std::string out;
        DebugConsole console([&](std::uint8_t b) { out.push_back(static_cast<char>(b)); });
        PortIoBus bus;
        REQUIRE(bus.map(DebugConsole::kPort, 1, console, "e9").ok());
        CHECK(bus.read(0xE9, 1) == 0xE9);
        bus.write(0xE9, 1, 'h');
        bus.write(0xE9, 2, 'i' | '!' << 8);
        CHECK(out == "hi!");
        std::vector<std::uint8_t> codes;
        PostCodePort post([&](std::uint8_t c) { codes.push_back(c); });
        REQUIRE(bus.map(PostCodePort::kPort, 1, post, "post").ok());
        bus.write(0x80, 1, 0x55);
        bus.write(0x80, 1, 0xAA);
        CHECK(post.last() == 0xAA);
        CHECK(bus.read(0x80, 1) == 0xAA);
        CHECK(codes == std::vector<std::uint8_t>{0x55, 0xAA});
    }

    TEST_CASE("the RTC shows the date and time in BCD or binary and 12 or 24 hours") {
        std::uint64_t now = 0;
        Cmos rtc([&] { return now; }, {}, 1'735'689'600);  // 2025-01-01 00:00:00, a Wednesday
        const auto reg = [&](std::uint8_t r) { return read_register(rtc, r); };
        const auto write = [&](std::uint8_t r, std::uint8_t v) { write_register(rtc, r, v); };
        CHECK(reg(0x00) == 0x00);
        CHECK(reg(0x04) == 0x00);
        CHECK(reg(0x06) == 4);  // day of week, 1 = Sunday
        CHECK(reg(0x07) == 0x01);
        CHECK(reg(0x08) == 0x01);
        CHECK(reg(0x09) == 0x25);
        CHECK(reg(0x32) == 0x20);
        CHECK(reg(0x0D) == 0x80);
        now = 13 * 3600'000'000'000ull + 61'500'000'000ull;  // 13:01:01.5
        CHECK(reg(0x00) == 0x01);
        CHECK(reg(0x02) == 0x01);
        CHECK(reg(0x04) == 0x13);
        write(0x0B, 0x06);  // binary, 24 hours
        CHECK(reg(0x04) == 13);
        write(0x0B, 0x00);  // BCD, 12 hours: 1 PM
        CHECK(reg(0x04) == 0x81);
        // SET freezes the clock while the time is written; clearing it runs on from there.
        write(0x0B, 0x82);
        write(0x09, 0x30);
        write(0x08, 0x06);
        write(0x07, 0x15);
        write(0x04, 0x12);
        write(0x02, 0x34);
        write(0x00, 0x56);
        now += 5'000'000'000ull;
        CHECK(reg(0x00) == 0x56);  // frozen
        write(0x0B, 0x02);
        now += 1'000'000'000ull;
        CHECK(reg(0x00) == 0x57);
        CHECK(reg(0x07) == 0x15);
        CHECK(reg(0x06) == 7);  // 2030-06-15 is a Saturday
        // UIP: up for the 244 us before each update.
        now = (now / 1'000'000'000ull + 1) * 1'000'000'000ull - 100'000;
        CHECK((reg(0x0A) & 0x80) == 0x80);
        now += 500'000'000;
        CHECK((reg(0x0A) & 0x80) == 0);
    }

    TEST_CASE(
        "the RTC raises IRQ 8 for periodic update and alarm events until register C is read") {
        std::uint64_t now = 0;
        std::vector<bool> irq;
        Cmos rtc([&] { return now; }, [&](bool l) { irq.push_back(l); }, 1'735'689'600);
        const auto reg = [&](std::uint8_t r) { return read_register(rtc, r); };
        const auto write = [&](std::uint8_t r, std::uint8_t v) { write_register(rtc, r, v); };
        CHECK_FALSE(rtc.next_event().has_value());
        write(0x0A, 0x26);  // 1024 Hz
        write(0x0B, 0x42);  // PIE
        REQUIRE(rtc.next_event().has_value());
        CHECK(*rtc.next_event() == 976'562);
        now = 976'562;
        rtc.update();
        CHECK(irq == std::vector<bool>{true});
        CHECK(reg(0x0C) == 0xC0);  // IRQF, PF
        CHECK(irq == std::vector<bool>{true, false});
        CHECK(reg(0x0C) == 0x00);
        // Update-ended and alarm (at 00:00:02; hours and minutes "don't care").
        write(0x0B, 0x32);
        write(0x01, 0x02);
        write(0x03, 0xC0);
        write(0x05, 0xC0);
        CHECK(*rtc.next_event() == 1'000'000'000ull);
        now = 1'000'000'000ull;
        rtc.update();
        CHECK(reg(0x0C) == 0xD0);  // IRQF, UF (and PF: set at its rate, enabled or not)
        now = 2'000'000'000ull;
        rtc.update();
        CHECK(reg(0x0C) == 0xF0);  // IRQF, PF, AF, UF
        // Flags set while their interrupt is off raise nothing.
        write(0x0B, 0x02);
        irq.clear();
        now = 3'000'000'000ull;
        rtc.update();
        CHECK(irq.empty());
        CHECK(reg(0x0C) == 0x50);  // PF and UF, no IRQF
    }

    TEST_CASE(
        "the RTC and NVRAM saved mid-interrupt restore into a fresh device that goes on alike") {
        std::uint64_t now = 0;
        std::vector<bool> irq_a, irq_b;
        Cmos a([&] { return now; }, [&](bool l) { irq_a.push_back(l); }, 1'735'689'600);
        write_register(a, 0x0A, 0x26);                 // 1024 Hz
        write_register(a, 0x0B, 0x42);                 // PIE, 24 hours
        write_register(a, 0x40, 0x5A);                 // NVRAM
        a.io_write(Cmos::kIndexPort, 1, 0x80 | 0x0C);  // NMI off, index C
        now = 976'562;
        a.update();
        REQUIRE(irq_a == std::vector<bool>{true});
        const Cmos::State saved = a.save();

        Cmos b([&] { return now; }, [&](bool l) { irq_b.push_back(l); }, 0);
        b.restore(saved);
        CHECK(b.save() == saved);
        CHECK(irq_b == std::vector<bool>{true});  // the line as it was
        CHECK(b.nmi_disabled());
        CHECK(read_register(b, 0x40) == 0x5A);
        CHECK(read_register(b, 0x09) == 0x25);  // the date of the saved clock: 2025
        // The next periodic event and the read of C behave the same on both.
        CHECK(a.next_event() == b.next_event());
        CHECK(read_register(a, 0x0C) == read_register(b, 0x0C));
        CHECK(irq_b.back() == false);
    }

    TEST_CASE("the x87 error latch restores FERR and its lines") {
        std::vector<bool> irq, ignne;
        X87ErrorLatch a({}, {});
        a.ferr_changed(true);
        a.io_write(X87ErrorLatch::kPort, 1, 0);  // IRQ 13 down, IGNNE# up
        X87ErrorLatch b([&](bool l) { irq.push_back(l); }, [&](bool l) { ignne.push_back(l); });
        b.restore(a.save());
        CHECK(b.save() == a.save());
        CHECK(irq == std::vector<bool>{false});
        CHECK(ignne == std::vector<bool>{true});
        b.ferr_changed(false);  // FNCLEX: IGNNE# drops as on the original
        CHECK(ignne == std::vector<bool>{true, false});
    }
}
