// The 8254 timer: its six modes (OUT and the count at each tick), binary
// and BCD counts, the latch and read-back commands, counter 2's gate and
// OUT on port 0x61, and IRQ 0's edges, also when updates come late.
// Expectations from the 8254 datasheet (Intel 231164).
#include <doctest/doctest.h>

#include <vector>

#include "devices/pit8254.hpp"

using namespace jitterbug::devices;

namespace {

struct Timer {
    std::uint64_t now = 0;
    std::vector<bool> irq;
    Pit8254 pit{[this] { return now; }, [this](bool level) { irq.push_back(level); }};

    void out(std::uint16_t port, std::uint8_t v) { pit.io_write(port, 1, v); }
    std::uint8_t in(std::uint16_t port) { return static_cast<std::uint8_t>(pit.io_read(port, 1)); }
    std::uint16_t read16(unsigned c) {
        const std::uint8_t lo = in(static_cast<std::uint16_t>(0x40 + c));
        return static_cast<std::uint16_t>(lo | in(static_cast<std::uint16_t>(0x40 + c)) << 8);
    }
    void program(unsigned c, std::uint8_t mode_bits, std::uint16_t count) {
        out(0x43, static_cast<std::uint8_t>(c << 6 | 0x30 | mode_bits));
        out(static_cast<std::uint16_t>(0x40 + c), static_cast<std::uint8_t>(count));
        out(static_cast<std::uint16_t>(0x40 + c), static_cast<std::uint8_t>(count >> 8));
    }
    bool out_at(unsigned c, std::uint64_t t) {
        now = t;
        return pit.out(c);
    }
};

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE("8254 mode 2 divides the clock and pulses OUT low for one tick a period") {
        Timer t;
        t.program(0, 0x04, 100);  // at tick 0: N is in the counter at tick 1
        t.irq.clear();
        CHECK(t.out_at(0, 1));
        t.now = 1;
        CHECK(t.read16(0) == 100);
        t.now = 50;
        CHECK(t.read16(0) == 51);
        t.now = 0;
        CHECK(t.pit.next_event() == 100);
        CHECK_FALSE(t.out_at(0, 100));
        CHECK(t.out_at(0, 101));
        CHECK_FALSE(t.out_at(0, 200));
        t.now = 100;
        CHECK(t.pit.next_event() == 101);
        t.pit.update();
        t.now = 101;
        t.pit.update();
        CHECK(t.irq == std::vector<bool>{false, true});
        CHECK(t.pit.next_event() == 200);
    }

    TEST_CASE("8254 IRQ 0 gets one whole pulse when the update comes periods late") {
        Timer t;
        t.program(0, 0x04, 100);
        t.now = 10;
        t.pit.update();
        t.irq.clear();
        t.now = 1050;  // ten periods later, OUT high again
        t.pit.update();
        CHECK(t.irq == std::vector<bool>{false, true});
    }

    TEST_CASE("8254 mode 0 raises OUT at the terminal count and counts on past zero") {
        Timer t;
        t.out(0x43, 0x30);
        CHECK_FALSE(t.out_at(0, 0));
        t.now = 5;
        t.out(0x40, 16);
        t.out(0x40, 0);
        CHECK(t.pit.next_event() == 22);
        t.now = 10;
        CHECK(t.read16(0) == 12);
        CHECK_FALSE(t.out_at(0, 21));
        CHECK(t.out_at(0, 22));
        t.now = 23;
        CHECK(t.read16(0) == 0xFFFF);
        CHECK_FALSE(t.pit.next_event().has_value());
        t.out(0x40, 8);  // the first byte of a new count: OUT low, counting stops
        CHECK_FALSE(t.out_at(0, 23));
        t.out(0x40, 0);
        CHECK(t.pit.next_event() == 23 + 1 + 8);
    }

    TEST_CASE("8254 mode 3 makes a square wave and splits an odd count one tick high") {
        Timer t;
        t.program(0, 0x06, 10);
        for (std::uint64_t k = 1; k < 21; ++k) {
            CAPTURE(k);
            CHECK(t.out_at(0, k) == ((k - 1) % 10 < 5));
        }
        t.now = 0;
        t.program(1, 0x06, 11);
        for (std::uint64_t k = 1; k < 12; ++k) {
            CAPTURE(k);
            CHECK(t.out_at(1, k) == (k - 1 < 6));
        }
        t.now = 1;
        CHECK(t.read16(0) == 10);
        t.now = 3;
        CHECK(t.read16(0) == 6);  // down by two
    }

    TEST_CASE("8254 mode 4 strobes OUT low once and mode 1 waits for the gate") {
        Timer t;
        t.program(0, 0x08, 5);
        CHECK(t.out_at(0, 5));
        CHECK_FALSE(t.out_at(0, 6));
        CHECK(t.out_at(0, 7));
        t.now = 7;
        CHECK_FALSE(t.pit.next_event().has_value());
        // Counter 2 in mode 1 (gate from port 0x61): OUT high until triggered.
        t.now = 0;
        t.program(2, 0x02, 10);
        CHECK(t.out_at(2, 50));
        t.now = 100;
        t.out(0x61, 0x01);  // gate rises: a trigger
        CHECK_FALSE(t.out_at(2, 101));
        CHECK_FALSE(t.out_at(2, 110));
        CHECK(t.out_at(2, 111));
    }

    TEST_CASE("8254 latches hold a count until read and read-back gives status then count") {
        Timer t;
        t.program(0, 0x04, 1000);
        t.now = 100;
        t.out(0x43, 0x00);  // latch counter 0
        t.now = 500;
        t.out(0x43, 0x00);  // ignored: the first latch holds
        CHECK(t.read16(0) == 901);
        CHECK(t.read16(0) == 501);  // live again
        t.out(0x43, 0xC2);          // read-back: count and status of counter 0
        CHECK(t.in(0x40) == 0xB4);  // OUT high, count loaded, LSB/MSB, mode 2, binary
        CHECK(t.read16(0) == 501);
        t.out(0x43, 0xE2);  // status only
        CHECK(t.in(0x40) == 0xB4);
        t.out(0x43, 0xD2);  // count only
        t.now = 600;
        CHECK(t.read16(0) == 501);  // as latched at tick 500
        t.out(0x43, 0x34);
        t.out(0x43, 0xE2);
        CHECK((t.in(0x40) & 0x40) == 0x40);  // null count after a control word
        CHECK(t.in(0x43) == 0xFF);           // write-only
    }

    TEST_CASE("8254 BCD counts read and load in decimal digits") {
        Timer t;
        t.out(0x43, 0x31);  // counter 0, LSB/MSB, mode 0, BCD
        t.out(0x40, 0x00);
        t.out(0x40, 0x10);  // 1000
        t.now = 1;
        CHECK(t.read16(0) == 0x1000);
        t.now = 2;
        CHECK(t.read16(0) == 0x0999);
        CHECK(t.pit.next_event() == 1001);
    }

    TEST_CASE("port 0x61 gates counter 2 and shows its OUT and the refresh toggle") {
        Timer t;
        CHECK((t.in(0x61) & 0x23) == 0x00);
        t.out(0x61, 0x01);  // gate 2 on, speaker off
        t.program(2, 0x00, 0xFFFF);
        CHECK((t.in(0x61) & 0x20) == 0);
        t.now = 30000;
        const std::uint16_t at = t.read16(2);
        CHECK(at == 0xFFFF - (30000 - 1));
        t.out(0x61, 0x00);  // gate off: mode 0 holds its count
        t.now = 40000;
        CHECK(t.read16(2) == at);
        t.out(0x61, 0x01);
        t.now = 40000 + 1 + at;
        CHECK((t.in(0x61) & 0x20) == 0x20);
        CHECK((t.in(0x61) & 0x01) == 0x01);
        t.now = 0;
        const std::uint8_t a = t.in(0x61) & 0x10;
        t.now = 18;
        CHECK((t.in(0x61) & 0x10) != a);
    }

    TEST_CASE("the 8254's state saves and restores whole") {
        Timer t;
        t.program(0, 0x04, 1234);
        t.program(2, 0x06, 77);
        t.now = 999;
        t.out(0x43, 0x00);
        const Pit8254::State saved = t.pit.save();
        Timer u;
        u.now = 999;
        u.pit.restore(saved);
        CHECK(u.pit.save() == saved);
        CHECK(u.read16(0) == t.read16(0));
        CHECK(u.pit.next_event() == t.pit.next_event());
    }
}
