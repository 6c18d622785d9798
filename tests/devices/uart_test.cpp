// The 16550A UART against the PC16550D datasheet: registers, FIFOs and
// trigger levels, every interrupt source and their priorities, the line
// status and modem status registers, loopback and the pace of host input
// and the character timeout. (uart_linux_test.cpp: save/restore and
// Linux's 8250 probe.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devices/uart_rig.hpp"

using namespace jitterbug::devices;
using namespace jitterbug::devices::test;

namespace {

// Host bytes queued at t0 enter the FIFO one character time apart, each at
// the first nanosecond its last stop bit is over.
void check_pacing(std::uint16_t divisor, std::uint8_t lcr, std::uint64_t half_bits) {
    Rig r;
    r.set_line(divisor, lcr);
    r.out(kFcr, 0xC1);  // FIFOs, trigger 14
    const std::uint64_t t0 = 1'000;
    r.now = t0;
    r.send("hello");
    for (std::uint64_t k = 1; k <= 5; ++k) {
        const std::uint64_t due = after_chars(t0, k, divisor, half_bits);
        CHECK(r.uart.next_event() == due);
        r.at(due - 1);
        CHECK(r.uart.pending_input() == 6 - k);
        r.at(due);
        CHECK(r.uart.pending_input() == 5 - k);
        CHECK((r.in(kLsr)&0x01) == 0x01);
    }
    // Then only the character timeout, 4 character times after the last one.
    CHECK(r.uart.next_event() == after_chars(t0, 9, divisor, half_bits));
    CHECK(r.read_all() == "hello");
    CHECK(r.uart.next_event() == std::nullopt);
}

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("the UART powers on with the datasheet's reset values and a terminal attached") {
        Rig r;
        CHECK(r.in(kIer) == 0x00);
        CHECK(r.in(kIir) == 0x01);
        CHECK(r.in(kLcr) == 0x00);
        CHECK(r.in(kMcr) == 0x00);
        CHECK(r.in(kLsr) == 0x60);  // THRE and TEMT
        CHECK(r.in(kMsr) == 0xB0);  // CTS, DSR and DCD; no deltas
        CHECK(r.uart.next_event() == std::nullopt);
        CHECK(r.uart.pending_input() == 0);
        CHECK(r.irq_changes.empty());
    }

    TEST_CASE("the divisor latch takes the place of RBR/THR and IER while LCR.DLAB is set") {
        Rig r;
        r.out(kIer, 0x05);
        r.out(kLcr, 0x83);
        r.out(kDll, 0x80);
        r.out(kDlm, 0x01);
        CHECK(r.in(kDll) == 0x80);
        CHECK(r.in(kDlm) == 0x01);
        CHECK(r.sent.empty());  // the DLL write did not transmit
        // DLAB selects only offsets 0 and 1.
        r.out(kScr, 0x5A);
        CHECK(r.in(kScr) == 0x5A);
        CHECK(r.in(kIir) == 0x01);
        CHECK(r.in(kLcr) == 0x83);
        r.out(kLcr, 0x03);
        CHECK(r.in(kIer) == 0x05);
        r.out(kThr, 'x');
        CHECK(r.sent == "x");
        // 0x0180 is 300 baud: 8N1 characters 100/3 ms apart.
        r.send("a");
        CHECK(r.uart.next_event() == after_chars(0, 1, 0x180, k8N1));
        CHECK(r.uart.next_event() == 33'333'334);
    }

    TEST_CASE("IER keeps 4 bits and MCR 5 while LCR and SCR keep all 8") {
        Rig r;
        r.out(kIer, 0xFF);
        CHECK(r.in(kIer) == 0x0F);
        r.out(kMcr, 0xEF);
        CHECK(r.in(kMcr) == 0x0F);
        r.out(kLcr, 0x7F);
        CHECK(r.in(kLcr) == 0x7F);
        r.out(kScr, 0xA5);
        CHECK(r.in(kScr) == 0xA5);
    }

    TEST_CASE("2- and 4-byte accesses reach consecutive registers a byte each") {
        Rig r;
        r.uart.io_write(kBase + kMcr, 4, 0xA5'00'00'08);  // MCR = OUT2, LSR and MSR ignored, SCR
        CHECK(r.in(kMcr) == 0x08);
        CHECK(r.in(kScr) == 0xA5);
        CHECK(r.uart.io_read(kBase + kMcr, 4) == 0xA5'B0'60'08);
        r.uart.io_write(kBase + kIer, 2, 0x03'03);          // IER, FCR
        CHECK(r.uart.io_read(kBase + kIer, 2) == 0xC2'03);  // IER; IIR: FIFOs, THR empty
    }

    TEST_CASE("host bytes enter the FIFO one character time apart at 115200 baud 8N1") {
        check_pacing(1, 0x03, k8N1);
    }

    TEST_CASE("host bytes enter the FIFO one character time apart at 9600 baud 7E2") {
        check_pacing(12, 0x1E, 22);  // start, 7 data, parity, 2 stop: 11 bits
    }

    TEST_CASE("host bytes enter the FIFO one character time apart at 300 baud 5N1.5") {
        check_pacing(384, 0x04, 15);  // start, 5 data, 1.5 stop: 7.5 bits
    }

    TEST_CASE("port accesses bring the receiver up to date without update") {
        Rig r;
        r.set_line(1, 0x03);
        r.out(kFcr, 0x01);
        r.send("ab");
        r.now = after_chars(0, 2, 1, k8N1);  // no update() call
        CHECK((r.in(kLsr)&0x01) == 0x01);
        CHECK(r.in(kRbr) == 'a');
        CHECK(r.in(kRbr) == 'b');
        CHECK(r.uart.pending_input() == 0);
    }

    TEST_CASE("received data available rises exactly at trigger levels 1 4 8 and 14") {
        // FCR bits 6-7: 00, 01, 10, 11.
        for (const unsigned level : {1u, 4u, 8u, 14u}) {
            CAPTURE(level);
            const unsigned fcr = (level == 1 ? 0x01 : level == 4 ? 0x41 : level == 8 ? 0x81 : 0xC1);
            Rig r;
            r.set_line(1, 0x03);
            r.out(kFcr, fcr);
            r.out(kIer, 0x01);
            r.out(kMcr, 0x08);
            r.send("0123456789abcdef");
            for (unsigned k = 1; k <= 16; ++k) {
                CAPTURE(k);
                r.at(after_chars(0, k, 1, k8N1));
                CHECK(r.in(kIir) == (k >= level ? 0xC4 : 0xC1));
                CHECK(r.line == (k >= level));
            }
            // It falls as the FIFO drops below the level.
            for (unsigned left = 16; left >= level; --left)
                r.in(kRbr);
            CHECK(r.in(kIir) == 0xC1);
            CHECK_FALSE(r.line);
        }
    }

    TEST_CASE("the character timeout fires 4 character times after the last character in or read") {
        Rig r;
        r.set_line(1, 0x03);
        r.out(kFcr, 0x81);  // trigger 8
        r.out(kIer, 0x01);
        r.out(kMcr, 0x08);
        r.send("ab");
        CHECK(r.uart.next_event() == after_chars(0, 1, 1, k8N1));
        r.at(after_chars(0, 2, 1, k8N1));
        // Counted from the second character, not the first.
        const std::uint64_t due = after_chars(0, 6, 1, k8N1);
        CHECK(r.uart.next_event() == due);
        r.at(after_chars(0, 5, 1, k8N1));
        CHECK(r.in(kIir) == 0xC1);
        r.at(due - 1);
        CHECK(r.in(kIir) == 0xC1);
        CHECK_FALSE(r.line);
        r.at(due);
        CHECK(r.line);
        CHECK(r.in(kIir) == 0xCC);
        CHECK(r.in(kLsr) == 0x61);  // reading IIR and LSR leaves it
        CHECK(r.in(kIir) == 0xCC);
        // Reading a character clears it and starts the 4 character times over.
        r.now = due + 100;
        CHECK(r.in(kRbr) == 'a');
        CHECK(r.in(kIir) == 0xC1);
        CHECK_FALSE(r.line);
        const std::uint64_t again = after_chars(due + 100, 4, 1, k8N1);
        CHECK(r.uart.next_event() == again);
        r.at(again - 1);
        CHECK(r.in(kIir) == 0xC1);
        r.at(again);
        CHECK(r.in(kIir) == 0xCC);
        CHECK(r.in(kRbr) == 'b');
        CHECK(r.in(kIir) == 0xC1);
        CHECK(r.uart.next_event() == std::nullopt);
    }

    TEST_CASE("a timeout due before the next character comes in is seen however late update runs") {
        // 'a' in at T; 'b' sent at 4.5 T, in at 5.5 T: the timeout was due at 5 T.
        const std::uint64_t sent_b = after_chars(0, 9, 1, k8N1 / 2);
        std::vector<std::uint8_t> seen;
        for (const bool prompt : {true, false}) {
            Rig r;
            r.set_line(1, 0x03);
            r.out(kFcr, 0x41);
            r.out(kIer, 0x01);
            r.out(kMcr, 0x08);
            r.send("a");
            r.at(after_chars(0, 1, 1, k8N1));
            r.now = sent_b;
            r.send("b");
            if (prompt) {
                while (const auto event = r.uart.next_event()) {
                    if (*event > after_chars(0, 6, 1, k8N1)) break;
                    r.at(*event);
                }
            }
            r.now = after_chars(0, 6, 1, k8N1);
            seen.push_back(r.in(kIir));
        }
        CHECK(seen == std::vector<std::uint8_t>{0xCC, 0xCC});
    }

    TEST_CASE("the character timeout stays away at the trigger level and in 16450 mode") {
        Rig r;
        r.set_line(1, 0x03);
        r.out(kFcr, 0x41);  // trigger 4
        r.out(kIer, 0x01);
        r.send("abcd");
        r.at(after_chars(0, 100, 1, k8N1));
        CHECK(r.in(kIir) == 0xC4);
        CHECK(r.uart.next_event() == std::nullopt);
        r.out(kFcr, 0x00);
        r.send("e");
        r.at(after_chars(r.now, 100, 1, k8N1));
        CHECK(r.in(kIir) == 0x04);
        CHECK(r.uart.next_event() == std::nullopt);
    }

    TEST_CASE("IIR reports line status then received data then THR empty then modem status") {
        Rig r;
        r.out(kMcr, 0x18);  // loopback, OUT2: CTS and DSR drop (DCTS, DDSR)
        r.out(kFcr, 0x07);  // FIFOs, trigger 1
        r.out(kIer, 0x0F);  // all four: THR empty at once
        r.out(kLcr, 0x43);  // a break on the looped line: a zero character with BI
        CHECK(r.line);
        CHECK(r.in(kIir) == 0xC6);
        CHECK(r.in(kLsr) == (0x80 | 0x60 | 0x10 | 0x01));
        CHECK(r.in(kIir) == 0xC4);  // (reading IIR for it left THR empty pending)
        CHECK(r.in(kRbr) == 0x00);
        CHECK(r.in(kIir) == 0xC2);  // reading IIR for it clears THR empty
        CHECK(r.in(kIir) == 0xC0);
        CHECK(r.line);
        CHECK(r.in(kMsr) == (0x80 | 0x02 | 0x01));
        CHECK(r.in(kIir) == 0xC1);
        CHECK_FALSE(r.line);
    }

    TEST_CASE("the character timeout ranks with received data above THR empty") {
        Rig r;
        r.set_line(1, 0x03);
        r.out(kFcr, 0x41);
        r.out(kMcr, 0x08);
        r.send("a");
        r.out(kIer, 0x03);
        r.at(after_chars(0, 5, 1, k8N1));
        CHECK(r.in(kIir) == 0xCC);
        CHECK(r.in(kIir) == 0xCC);  // THR empty still waits behind it
        r.in(kRbr);
        CHECK(r.in(kIir) == 0xC2);
        CHECK(r.in(kIir) == 0xC1);
    }

    TEST_CASE("THR empty is raised by enabling ETBEI and by each byte sent and cleared by IIR") {
        Rig r;
        r.out(kMcr, 0x08);
        r.out(kIer, 0x02);
        CHECK(r.line);
        CHECK(r.in(kIir) == 0x02);
        CHECK(r.in(kIir) == 0x01);
        CHECK_FALSE(r.line);
        r.out(kIer, 0x02);  // already enabled: nothing new
        CHECK(r.in(kIir) == 0x01);
        r.out(kIer, 0x00);
        r.out(kIer, 0x02);
        CHECK(r.in(kIir) == 0x02);
        CHECK(r.in(kIir) == 0x01);
        // The byte leaves at once: THR empty again, with a fresh edge.
        r.out(kThr, 'k');
        CHECK(r.sent == "k");
        CHECK(r.in(kLsr) == 0x60);
        CHECK(r.irq_changes == std::vector<bool>{true, false, true, false, true});
        CHECK(r.in(kIir) == 0x02);
    }

    TEST_CASE("a byte arriving at a full FIFO is an overrun and is lost") {
        Rig r;
        r.out(kMcr, 0x18);
        r.out(kFcr, 0x01);
        r.out(kIer, 0x04);
        for (unsigned i = 0; i < 16; ++i)
            r.out(kThr, i);
        CHECK(r.in(kIir) == 0xC1);
        r.out(kThr, 16);
        CHECK(r.in(kIir) == 0xC6);
        CHECK(r.in(kLsr) == 0x63);  // OE, DR
        CHECK(r.in(kLsr) == 0x61);
        CHECK(r.in(kIir) == 0xC1);
        for (unsigned i = 0; i < 16; ++i)
            CHECK(r.in(kRbr) == i);
        CHECK(r.in(kLsr) == 0x60);
    }

    TEST_CASE("in 16450 mode RBR holds one byte and the next one overruns it") {
        Rig r;
        r.out(kMcr, 0x18);
        r.out(kIer, 0x05);
        r.out(kThr, 'a');
        CHECK(r.in(kIir) == 0x04);  // no FIFO bits
        r.out(kThr, 'b');
        CHECK(r.in(kIir) == 0x06);
        CHECK(r.in(kLsr) == 0x63);  // OE, DR; no bit 7 without FIFOs
        CHECK(r.in(kRbr) == 'b');   // the earlier byte was overwritten
        CHECK(r.in(kLsr) == 0x60);
        CHECK(r.in(kIir) == 0x01);
    }

    TEST_CASE("the host waits for room before sending the next byte") {
        Rig r;
        r.set_line(1, 0x03);  // 16450 mode: room for one
        r.send("xyz");
        r.at(after_chars(0, 10, 1, k8N1));
        CHECK(r.uart.pending_input() == 2);
        CHECK(r.uart.next_event() == std::nullopt);
        CHECK(r.in(kLsr) == 0x61);  // no overrun
        const std::uint64_t read_at = r.now;
        CHECK(r.in(kRbr) == 'x');
        // The next byte starts when there is room: one character time later.
        CHECK(r.uart.next_event() == after_chars(read_at, 1, 1, k8N1));
        r.at(after_chars(read_at, 1, 1, k8N1));
        CHECK(r.in(kRbr) == 'y');
        r.at(r.now + 1'000'000);
        CHECK(r.in(kRbr) == 'z');
        CHECK(r.uart.pending_input() == 0);
    }

    TEST_CASE("without a clock host bytes enter at once as far as there is room") {
        Rig r(false);
        r.out(kFcr, 0x01);
        r.send("0123456789abcdefXYZ");
        CHECK(r.uart.pending_input() == 3);
        CHECK(r.uart.next_event() == std::nullopt);
        CHECK(r.in(kRbr) == '0');
        CHECK(r.uart.pending_input() == 2);
        CHECK(r.read_all() == "123456789abcdefXYZ");
        CHECK(r.in(kLsr) == 0x60);
    }

    TEST_CASE("the host queue drops bytes beyond its limit") {
        Rig r(false);
        for (std::size_t i = 0; i < Uart16550::kHostQueueLimit + 100; ++i)
            r.uart.receive(static_cast<std::uint8_t>(i));
        CHECK(r.uart.pending_input() == Uart16550::kHostQueueLimit);  // one is in RBR
        CHECK(r.in(kRbr) == 0);
    }

    TEST_CASE("FCR empties the receive FIFO by bit 1 and whenever bit 0 changes") {
        Rig r;
        r.out(kMcr, 0x10);
        r.out(kFcr, 0x01);
        r.out(kIer, 0x01);
        for (char c : std::string("abc"))
            r.out(kThr, c);
        r.out(kFcr, 0x05);  // the transmit FIFO only
        CHECK(r.in(kLsr) == 0x61);
        r.out(kFcr, 0x03);
        CHECK(r.in(kLsr) == 0x60);
        CHECK(r.in(kIir) == 0xC1);  // still in FIFO mode
        r.out(kThr, 'd');
        r.out(kFcr, 0x00);  // FIFOs off: emptied
        CHECK(r.in(kLsr) == 0x60);
        CHECK(r.in(kIir) == 0x01);
        r.out(kThr, 'e');
        r.out(kFcr, 0x01);  // and on again: emptied
        CHECK(r.in(kLsr) == 0x60);
        r.out(kThr, 'f');
        CHECK(r.in(kRbr) == 'f');
    }

    TEST_CASE("a FIFO reset leaves the character on the line to arrive") {
        Rig r;
        r.set_line(1, 0x03);
        r.out(kFcr, 0x01);
        r.send("abc");
        r.at(after_chars(0, 2, 1, k8N1) + 10);
        r.out(kFcr, 0x03);
        CHECK(r.in(kLsr) == 0x60);
        r.at(after_chars(0, 3, 1, k8N1));
        CHECK(r.read_all() == "c");
    }

    TEST_CASE("LSR shows parity framing and break errors with their character and clears them") {
        Rig r;
        r.set_line(1, 0x03);
        r.out(kFcr, 0xC1);
        r.out(kIer, 0x04);
        r.out(kMcr, 0x08);
        r.uart.receive('a');
        r.uart.receive_with_error('b', Uart16550::LineError::kParity);
        r.uart.receive_with_error('c', Uart16550::LineError::kFraming);
        r.uart.receive_break();
        r.at(after_chars(0, 4, 1, k8N1));
        // Errors wait in the FIFO (bit 7) until their character is at the top.
        CHECK(r.in(kIir) == 0xC1);
        CHECK(r.in(kLsr) == 0xE1);
        CHECK(r.in(kRbr) == 'a');
        CHECK(r.line);
        CHECK(r.in(kIir) == 0xC6);
        CHECK(r.in(kLsr) == 0xE5);  // PE
        CHECK(r.in(kLsr) == 0xE1);  // PE cleared by the read
        CHECK_FALSE(r.line);
        CHECK(r.in(kRbr) == 'b');
        CHECK(r.in(kLsr) == 0xE9);  // FE
        CHECK(r.in(kRbr) == 'c');
        CHECK(r.in(kRbr) == 0x00);  // the break's character
        CHECK(r.in(kLsr) == 0xF0);  // BI, still shown; no errors left in the FIFO...
        CHECK(r.in(kLsr) == 0x60);  // ...so bit 7 clears with it
    }

    TEST_CASE("MSR shows a terminal's lines and in loopback the MCR outputs with deltas") {
        Rig r;
        CHECK(r.in(kMsr) == 0xB0);
        r.out(kIer, 0x08);
        r.out(kMcr, 0x10);  // loopback, all outputs off: CTS, DSR, DCD drop
        CHECK(r.in(kIir) == 0x00);
        CHECK_FALSE(r.line);  // OUT2 off
        CHECK(r.in(kMsr) == 0x0B);
        CHECK(r.in(kMsr) == 0x00);
        CHECK(r.in(kIir) == 0x01);
        r.out(kMcr, 0x12);  // RTS -> CTS
        CHECK(r.in(kMsr) == 0x11);
        r.out(kMcr, 0x13);  // DTR -> DSR
        CHECK(r.in(kMsr) == 0x32);
        r.out(kMcr, 0x17);  // OUT1 -> RI: its leading edge sets no delta
        CHECK(r.in(kMsr) == 0x70);
        r.out(kMcr, 0x13);  // its trailing edge sets TERI
        CHECK(r.in(kMsr) == 0x34);
        r.out(kMcr, 0x1B);  // OUT2 -> DCD, and the interrupt line opens
        CHECK(r.line);
        CHECK(r.in(kIir) == 0x00);
        CHECK(r.in(kMsr) == 0xB8);
        CHECK_FALSE(r.line);
        r.out(kMcr, 0x0B);  // out of loopback: the terminal again, unchanged lines
        CHECK(r.in(kMsr) == 0xB0);
        r.out(kMcr, 0x08);
        CHECK(r.in(kMsr) == 0xB0);  // outside loopback MCR does not reach MSR
    }

    TEST_CASE("loopback returns transmitted bytes to the receiver and holds the host's") {
        Rig r;
        r.set_line(1, 0x03);
        r.out(kFcr, 0x01);
        r.out(kMcr, 0x10);
        r.send("h");
        for (char c : std::string("abc"))
            r.out(kThr, c);
        CHECK(r.sent.empty());
        CHECK(r.read_all() == "abc");
        r.at(after_chars(0, 10, 1, k8N1));
        CHECK(r.uart.pending_input() == 1);  // the receiver is off the line
        const std::uint64_t back = r.now;
        r.out(kMcr, 0x00);
        r.out(kThr, 'z');
        CHECK(r.sent == "z");
        CHECK(r.uart.next_event() == after_chars(back, 1, 1, k8N1));
        r.at(after_chars(back, 1, 1, k8N1));
        CHECK(r.read_all() == "h");
    }

    TEST_CASE("a break set in loopback is received as one zero character with BI") {
        Rig r;
        r.out(kFcr, 0x01);
        r.out(kMcr, 0x10);
        r.out(kLcr, 0x43);
        r.out(kThr, 'x');   // the line is held at spacing: lost
        r.out(kLcr, 0x43);  // still the same break
        CHECK(r.in(kLsr) == 0xF1);
        CHECK(r.in(kRbr) == 0x00);
        CHECK(r.in(kLsr) == 0x60);
        r.out(kLcr, 0x03);
        r.out(kLcr, 0x43);
        CHECK(r.in(kLsr) == 0xF1);
        // Outside loopback the break goes to the line, not the receiver.
        r.out(kLcr, 0x03);
        r.in(kRbr);
        r.out(kMcr, 0x00);
        r.out(kLcr, 0x43);
        CHECK(r.in(kLsr) == 0x60);
    }

    TEST_CASE("OUT2 gates the interrupt line") {
        Rig r;
        r.out(kIer, 0x02);  // THR empty pending
        CHECK(r.irq_changes.empty());
        r.out(kMcr, 0x08);
        r.out(kMcr, 0x00);
        r.out(kMcr, 0x0B);
        r.in(kIir);
        r.out(kMcr, 0x00);
        r.out(kMcr, 0x08);
        CHECK(r.irq_changes == std::vector<bool>{true, false, true, false});
    }

    TEST_CASE("reset returns to power-on state and drops the interrupt line") {
        Rig r;
        r.set_line(1, 0x1B);
        r.out(kFcr, 0xC1);
        r.out(kMcr, 0x1B);
        r.out(kIer, 0x0F);
        r.out(kScr, 0x42);
        r.out(kThr, 1);
        REQUIRE(r.line);
        r.uart.reset();
        CHECK_FALSE(r.line);
        CHECK(r.in(kIer) == 0x00);
        CHECK(r.in(kIir) == 0x01);
        CHECK(r.in(kLcr) == 0x00);
        CHECK(r.in(kMcr) == 0x00);
        CHECK(r.in(kLsr) == 0x60);
        CHECK(r.in(kMsr) == 0xB0);
    }
}
