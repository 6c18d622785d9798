// The 16550A UART as a machine and Linux use it: save/restore in
// mid-transfer, an interrupt-driven reader, and Linux's 8250 probe.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "devices/uart_rig.hpp"

using namespace jitterbug::devices;
using namespace jitterbug::devices::test;

namespace {

// What Linux's size_fifo() counts: 256 bytes written in loopback at divisor
// 1, 20 ms, then the bytes read back while LSR.DR is set.
unsigned linux_size_fifo(Rig& r) {
    const std::uint8_t lcr = r.in(kLcr);
    r.out(kLcr, 0);
    const std::uint8_t fcr = r.in(kIir);  // (FCR is write-only: Linux keeps what IIR reads)
    const std::uint8_t mcr = r.in(kMcr);
    r.out(kFcr, 0x07);
    r.out(kMcr, 0x10);
    r.out(kLcr, 0x80);
    const unsigned dl = r.in(kDll) | r.in(kDlm) << 8;
    r.out(kDll, 1);
    r.out(kDlm, 0);
    r.out(kLcr, 0x03);
    for (unsigned i = 0; i < 256; ++i)
        r.out(kThr, i);
    r.at(r.now + 20'000'000);
    unsigned count = 0;
    while ((r.in(kLsr)&0x01) && count < 256) {
        r.in(kRbr);
        ++count;
    }
    r.out(kFcr, fcr);
    r.out(kMcr, mcr);
    r.out(kLcr, 0x80);
    r.out(kDll, dl & 0xFF);
    r.out(kDlm, dl >> 8);
    r.out(kLcr, lcr);
    return count;
}

// Linux's autoconfig_16550a(): the checks that tell a 16550A from its
// descendants, which all must fail.
std::string linux_probe_fifo_uart(Rig& r) {
    // An EFR at offset 2 under DLAB (ST16C650V1), or under LCR 0xBF.
    r.out(kLcr, 0x80);
    if (r.in(2) == 0) return "ST16650";
    r.out(kLcr, 0xBF);
    if (r.in(2) == 0) return "ST16650V2";
    // A National SuperIO's EXCR1 (offset 2 under LCR 0xE0) follows MCR.LOOP.
    r.out(kLcr, 0);
    const std::uint8_t mcr = r.in(kMcr);
    r.out(kLcr, 0xE0);
    std::uint8_t excr1 = r.in(2);
    if (((excr1 ^ mcr) & 0x10) == 0) {
        r.out(kLcr, 0);
        r.out(kMcr, mcr ^ 0x10);
        r.out(kLcr, 0xE0);
        excr1 = r.in(2);
        r.out(kLcr, 0);
        r.out(kMcr, mcr);
        if ((excr1 ^ mcr) & 0x10) return "NS16550A";
    }
    // A TI16750 shows IIR bit 5 for FCR bit 5 written under DLAB.
    r.out(kLcr, 0);
    r.out(kFcr, 0x21);
    const unsigned plain = r.in(kIir) >> 5;
    r.out(kFcr, 0x01);
    r.out(kLcr, 0x80);
    r.out(kFcr, 0x21);
    const unsigned under_dlab = r.in(kIir) >> 5;
    r.out(kFcr, 0x01);
    r.out(kLcr, 0);
    if (plain == 6 && under_dlab == 7) return "TI16750";
    // An XScale UART keeps IER bit 6 (UUE).
    const std::uint8_t ier = r.in(kIer);
    r.out(kIer, ier & ~0x40u);
    if (!(r.in(kIer)&0x40)) {
        r.out(kIer, ier | 0x40);
        if (r.in(kIer)&0x40) return "XScale";
    }
    r.out(kIer, ier);
    if (linux_size_fifo(r) == 64) return "U6_16550A";
    return "16550A";
}

// Linux's autoconfig() (drivers/tty/serial/8250/8250_port.c), access for
// access: the port type it settles on.
std::string linux_autoconfig(Rig& r) {
    const std::uint8_t ier = r.in(kIer);
    r.out(kIer, 0);
    const unsigned none = r.in(kIer)&0x0F;
    r.out(kIer, 0x0F);
    const unsigned all = r.in(kIer)&0x0F;
    r.out(kIer, ier);
    if (none != 0 || all != 0x0F) return "nothing (IER test)";
    const std::uint8_t mcr = r.in(kMcr);
    const std::uint8_t lcr = r.in(kLcr);
    r.out(kMcr, 0x10 | 0x0A);  // loopback, RTS, OUT2: CTS and DCD come back
    const unsigned lines = r.in(kMsr)&0xF0;
    r.out(kMcr, mcr);
    if (lines != 0x90) return "nothing (loopback test)";
    r.out(kLcr, 0xBF);
    r.out(kFcr, 0);  // (EFR on the chips that have one)
    r.out(kLcr, 0);
    r.out(kFcr, 0x01);
    std::string type;
    switch (r.in(kIir) >> 6) {
        case 0:
            type = "8250 or 16450";
            break;
        case 1:
            type = "unknown";
            break;
        case 2:
            type = "16550";
            break;
        default:
            type = linux_probe_fifo_uart(r);
            break;
    }
    r.out(kLcr, lcr);
    // The reset that ends autoconfig().
    r.out(kMcr, mcr);
    r.out(kFcr, 0x01);
    r.out(kFcr, 0x07);
    r.out(kFcr, 0);
    r.in(kRbr);
    r.out(kIer, 0);
    return type;
}

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("save and restore in mid-transfer give identical behaviour") {
        Rig a;
        a.set_line(12, 0x03);
        a.out(kFcr, 0x81);
        a.out(kMcr, 0x0B);
        a.out(kIer, 0x07);  // THR empty stays pending: the line is up
        a.send("the quick brown fox");
        a.uart.receive_with_error('!', Uart16550::LineError::kParity);
        a.send("jumps");
        a.at(after_chars(0, 5, 12, k8N1) + 1'000);  // a sixth character on the line
        a.in(kRbr);
        a.in(kRbr);
        REQUIRE(a.line);
        const Uart16550::State saved = a.uart.save();
        CHECK(saved.rx.size() == 3);
        const std::size_t a_mark = a.irq_changes.size();

        Rig b;
        b.now = a.now;
        b.uart.restore(saved);
        CHECK(b.irq_changes == std::vector<bool>{true});  // driven to the saved level
        CHECK(b.uart.save() == saved);

        // The same guest on both: it looks every 0.3 ms and reads when it likes.
        std::vector<std::uint32_t> log_a, log_b;
        auto run = [](Rig& r, std::vector<std::uint32_t>& log) {
            for (unsigned step = 0; step < 100; ++step) {
                r.at(r.now + 300'000);
                log.push_back(r.in(kIir));
                const std::uint8_t lsr = r.in(kLsr);
                log.push_back(lsr);
                if ((lsr & 0x01) && step % 3 != 0) log.push_back(r.in(kRbr));
                log.push_back(static_cast<std::uint32_t>(r.uart.next_event().value_or(0)));
            }
        };
        run(a, log_a);
        run(b, log_b);
        CHECK(log_a == log_b);
        CHECK(std::vector<bool>(a.irq_changes.begin() + static_cast<std::ptrdiff_t>(a_mark),
                                a.irq_changes.end()) ==
              std::vector<bool>(b.irq_changes.begin() + 1, b.irq_changes.end()));
        CHECK(a.uart.save() == b.uart.save());
        CHECK(a.uart.pending_input() == 0);

        // Restoring a state with the line down lowers it.
        Rig c;
        c.out(kMcr, 0x08);
        c.out(kIer, 0x02);
        REQUIRE(c.line);
        c.uart.restore(Uart16550::State{});
        CHECK_FALSE(c.line);
    }

    TEST_CASE("a guest that reads at each interrupt never overruns") {
        Rig r;
        r.set_line(1, 0x03);
        r.out(kFcr, 0x87);  // trigger 8, as Linux sets a 16550A
        r.out(kIer, 0x05);
        r.out(kMcr, 0x0B);
        std::string input;
        for (unsigned i = 0; i < 1001; ++i)
            input.push_back(static_cast<char>('!' + i * 7 % 90));
        r.send(input);
        std::string got;
        bool overrun = false;
        std::uint64_t last_event = 0;
        while (const auto event = r.uart.next_event()) {
            last_event = *event;
            r.at(std::max(*event, r.now));
            if (!r.line) continue;
            r.now += 20'000;  // the handler runs 20 us later
            while (!(r.in(kIir)&0x01)) {
                std::uint8_t lsr;
                while ((lsr = r.in(kLsr)) & 0x01) {
                    overrun |= (lsr & 0x02) != 0;
                    got.push_back(static_cast<char>(r.in(kRbr)));
                }
                overrun |= (lsr & 0x02) != 0;
            }
        }
        CHECK_FALSE(overrun);
        CHECK(got == input);
        // At the line's pace: the last character came at 1001 character
        // times, the timeout for the one left below the trigger 4 later.
        CHECK(last_event == after_chars(0, 1005, 1, k8N1));
    }

    TEST_CASE("Linux's 8250 autoconfig finds a 16550A") {
        Rig r;
        r.now = 5'000'000;
        CHECK(linux_autoconfig(r) == "16550A");
        CHECK(r.sent.empty());  // the loopback bytes never reached the line
        CHECK(r.in(kLcr) == 0x00);
        CHECK(r.in(kIer) == 0x00);
        CHECK(r.in(kMcr) == 0x00);
        CHECK((r.in(kLsr)&0x01) == 0);
        // serial8250_do_startup(): LSR must not float, and enabling ETBEI must
        // show THR empty in IIR both times (no UART_BUG_THRE, UART_BUG_TXEN).
        CHECK(r.in(kLsr) != 0xFF);
        r.out(kLcr, 0x03);
        r.out(kIer, 0x02);
        const std::uint8_t iir1 = r.in(kIir);
        r.out(kIer, 0x00);
        r.out(kIer, 0x02);
        const std::uint8_t iir2 = r.in(kIir);
        r.out(kIer, 0x00);
        CHECK((iir1 & 0x01) == 0);
        CHECK((iir2 & 0x01) == 0);
        r.out(kMcr, 0x0B);
        r.out(kIer, 0x02);
        const std::uint8_t lsr = r.in(kLsr);
        const std::uint8_t iir = r.in(kIir);
        r.out(kIer, 0x00);
        CHECK((lsr & 0x40) == 0x40);
        CHECK((iir & 0x01) == 0);
    }

    TEST_CASE("FCR 0xE7 turns on 16-byte FIFOs that IIR bits 6-7 report") {
        Rig r;
        r.out(kFcr, 0xE7);
        CHECK(r.in(kIir) == 0xC1);  // bits 6-7 set, bit 5 clear: not a 64-byte 16750
        r.out(kFcr, 0x00);
        CHECK(r.in(kIir) == 0x01);
    }
}
