// The 8042 keyboard controller, its PS/2 keyboard, and port 0x92: the
// status register and command byte, the controller commands, A20 and the
// CPU reset lines, the keyboard's command set and scan code sets, the set 2
// to set 1 translation, typed text, the IRQ levels, the absent auxiliary
// device, save/restore, and the sequence Linux's i8042 and atkbd drivers
// use at boot. Expectations from the IBM AT Technical Reference, A.
// Brouwer's "Keyboard scancodes" (sections 9-10) and Linux's drivers.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "devices/i8042.hpp"

using namespace jitterbug::devices;

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kObf = I8042::kStatusObf;
constexpr std::uint8_t kSys = I8042::kStatusSystem;
constexpr std::uint8_t kA2 = I8042::kStatusCommand;
constexpr std::uint8_t kUnlocked = I8042::kStatusUnlocked;
constexpr std::uint8_t kAux = I8042::kStatusAuxObf;
constexpr std::uint8_t kTimeout = I8042::kStatusTimeout;

struct Kbc {
    std::vector<bool> irq1, irq12, a20;
    int resets = 0;
    I8042 kbc{[this](bool l) { irq1.push_back(l); }, [this](bool l) { irq12.push_back(l); },
              [this](bool on) { a20.push_back(on); }, [this] { ++resets; }};

    void command(std::uint8_t c) { kbc.io_write(0x64, 1, c); }
    void data(std::uint8_t v) { kbc.io_write(0x60, 1, v); }
    std::uint8_t status() { return static_cast<std::uint8_t>(kbc.io_read(0x64, 1)); }
    std::uint8_t read() { return static_cast<std::uint8_t>(kbc.io_read(0x60, 1)); }
    // What a polling driver reads: every byte while OBF is set.
    Bytes drain() {
        Bytes out;
        for (int i = 0; i < 256 && (status() & kObf); ++i)
            out.push_back(read());
        return out;
    }
    // A controller command with a one-byte result.
    std::uint8_t query(std::uint8_t c) {
        command(c);
        REQUIRE((status() & kObf) != 0);
        return read();
    }
    void write_ctr(std::uint8_t v) {
        command(0x60);
        data(v);
    }
    // A keyboard command (and its arguments); the bytes that come back.
    Bytes send(std::initializer_list<std::uint8_t> bytes) {
        for (const std::uint8_t b : bytes)
            data(b);
        return drain();
    }
    Bytes tap(Key key) {
        kbc.key_event(key, true);
        kbc.key_event(key, false);
        return drain();
    }
};

}  // namespace

TEST_SUITE("devices") {
    TEST_CASE(
        "the controller comes out of reset inhibited with translation on and no system flag") {
        Kbc k;
        CHECK(k.status() == kUnlocked);
        CHECK(k.query(0x20) == 0x70);  // translate, aux and keyboard clocks disabled
        CHECK(k.status() == (kUnlocked | kA2));
        CHECK(k.kbc.a20());
        CHECK(k.query(0xD0) == 0xCF);
        // Nothing typed reaches the host while the keyboard clock is off.
        k.kbc.key_event(Key::A, true);
        CHECK((k.status() & kObf) == 0);
        CHECK(k.irq1.empty());
        CHECK(k.resets == 0);
    }

    TEST_CASE(
        "the self test answers 0x55 and sets the system flag and reinitialises the command byte") {
        Kbc k;
        k.write_ctr(0x03);
        k.command(0xAA);
        CHECK(k.status() == (kUnlocked | kA2 | kSys | kObf));
        CHECK(k.read() == 0x55);
        CHECK(k.status() == (kUnlocked | kA2 | kSys));
        CHECK(k.query(0x20) == 0x74);
        // A byte still in the output buffer is discarded by the self test.
        k.command(0xD2);
        k.data(0x99);
        CHECK(k.query(0xAA) == 0x55);
        CHECK((k.status() & kObf) == 0);
    }

    TEST_CASE("the command byte and the controller RAM read back what was written") {
        Kbc k;
        k.write_ctr(0x65);
        CHECK((k.status() & kA2) == 0);  // the last write was data
        CHECK(k.query(0x20) == 0x65);
        CHECK((k.status() & kSys) != 0);  // command byte bit 2 is the status system flag
        k.write_ctr(0x61);
        CHECK((k.status() & kSys) == 0);
        k.command(0x65);
        k.data(0x5A);
        k.command(0x7F);
        k.data(0xC3);
        CHECK(k.query(0x25) == 0x5A);
        CHECK(k.query(0x3F) == 0xC3);
        CHECK(k.query(0x20) == 0x61);
        // 0xA7/0xA8 and 0xAD/0xAE set and clear bits 5 and 4.
        k.command(0xA7);
        k.command(0xAD);
        CHECK(k.query(0x20) == 0x71);
        k.command(0xA8);
        CHECK(k.query(0x20) == 0x51);
        k.command(0xAE);
        CHECK(k.query(0x20) == 0x41);
    }

    TEST_CASE("the interface tests pass and the input port shows the keyboard unlocked") {
        Kbc k;
        CHECK(k.query(0xAB) == 0x00);
        CHECK(k.query(0xA9) == 0x00);
        CHECK((k.query(0xC0) & 0x80) != 0);
        // Test inputs: both clocks held low while the interfaces are inhibited.
        CHECK((k.query(0xE0) & 0x03) == 0x00);
        k.write_ctr(0x00);
        CHECK((k.query(0xE0) & 0x03) == 0x03);
    }

    TEST_CASE("A20 follows output port bit 1 through 0xD1 and the 0xDD and 0xDF commands") {
        Kbc k;
        k.command(0xD1);
        k.data(0xCD);  // A20 off, reset line high
        CHECK_FALSE(k.kbc.a20());
        CHECK(k.query(0xD0) == 0xCD);
        k.command(0xDF);
        CHECK(k.kbc.a20());
        k.command(0xDD);
        CHECK_FALSE(k.kbc.a20());
        k.command(0xDD);  // no change, no call
        CHECK(k.a20 == std::vector<bool>{false, true, false});
        // Bits 4 and 5 are the IRQ outputs, not written by 0xD1.
        k.command(0xD1);
        k.data(0xFF);
        CHECK(k.query(0xD0) == 0xCF);
        CHECK(k.resets == 0);
    }

    TEST_CASE("the IRQ outputs show in output port bits 4 and 5") {
        Kbc k;
        k.write_ctr(0x03);
        k.command(0xD3);
        k.data(0x12);
        k.command(0xD0);  // behind the aux byte, the port with IRQ 12 high
        CHECK(k.read() == 0x12);
        CHECK(k.read() == 0xEF);
    }

    TEST_CASE("port 0x92 gates A20 with bit 1 and keeps its other bits as the PS/2 defines") {
        std::vector<bool> a20;
        int resets = 0;
        SystemControlPortA port{[&](bool on) { a20.push_back(on); }, [&] { ++resets; }};
        CHECK(port.io_read(0x92, 1) == 0x00);
        port.io_write(0x92, 1, 0x02);
        CHECK(port.a20());
        CHECK(port.io_read(0x92, 1) == 0x02);
        port.io_write(0x92, 1, 0xC2);  // disk light on
        CHECK(port.io_read(0x92, 1) == 0xC2);
        port.io_write(0x92, 1, 0x08);  // security lock; A20 off
        CHECK_FALSE(port.a20());
        port.io_write(0x92, 1, 0x00);
        CHECK(port.io_read(0x92, 1) == 0x08);  // the lock stays until reset
        port.io_write(0x92, 1, 0x34);          // bits 2, 4, 5 are not stored
        CHECK(port.io_read(0x92, 1) == 0x08);
        CHECK(a20 == std::vector<bool>{true, false});
        CHECK(resets == 0);
        port.reset();
        CHECK(port.io_read(0x92, 1) == 0x00);
    }

    TEST_CASE("the CPU is reset by 0xFE and by output port bit 0 and by port 0x92 bit 0") {
        Kbc k;
        k.command(0xFE);
        CHECK(k.resets == 1);
        k.command(0xFF);  // pulses nothing
        k.command(0xF1);  // pulses lines 1-3 only
        CHECK(k.resets == 1);
        k.command(0xF0);  // all four lines, reset among them
        CHECK(k.resets == 2);
        k.command(0xD1);
        k.data(0xCE);
        CHECK(k.resets == 3);

        int resets = 0;
        SystemControlPortA port{{}, [&] { ++resets; }};
        port.io_write(0x92, 1, 0x01);
        CHECK(resets == 1);
        CHECK(port.io_read(0x92, 1) == 0x01);
        port.io_write(0x92, 1, 0x03);  // still 1: no new reset
        CHECK(resets == 1);
        port.io_write(0x92, 1, 0x02);
        port.io_write(0x92, 1, 0x03);
        CHECK(resets == 2);
    }

    TEST_CASE("the keyboard answers reset identify echo and resend") {
        Kbc k;
        k.write_ctr(0x00);  // keyboard enabled, no translation, no interrupts
        CHECK(k.send({0xFF}) == Bytes{0xFA, 0xAA});
        CHECK(k.send({0xF2}) == Bytes{0xFA, 0xAB, 0x83});
        CHECK(k.send({0xEE}) == Bytes{0xEE});
        CHECK(k.send({0xFE}) == Bytes{0xEE});  // the last byte again
        CHECK(k.send({0xEF}) == Bytes{0xFE});  // not a command
        CHECK(k.send({0x42}) == Bytes{0xFE});
    }

    TEST_CASE(
        "the keyboard sets its LEDs and typematic rate and scan code set with acknowledged "
        "arguments") {
        Kbc k;
        k.write_ctr(0x00);
        CHECK(k.send({0xED, 0x07}) == Bytes{0xFA, 0xFA});
        CHECK(k.kbc.keyboard().leds() == 0x07);
        CHECK(k.send({0xF3, 0x20}) == Bytes{0xFA, 0xFA});
        CHECK(k.kbc.keyboard().typematic() == 0x20);
        CHECK(k.send({0xF0, 0x00}) == Bytes{0xFA, 0xFA, 0x02});
        CHECK(k.send({0xF0, 0x01}) == Bytes{0xFA, 0xFA});
        CHECK(k.send({0xF0, 0x00}) == Bytes{0xFA, 0xFA, 0x01});
        CHECK(k.send({0xF0, 0x03}) == Bytes{0xFA, 0xFA});
        CHECK(k.send({0xF0, 0x00}) == Bytes{0xFA, 0xFA, 0x03});
        CHECK(k.send({0xF0, 0x07}) == Bytes{0xFA, 0xFE});  // not a set: asked again
        CHECK(k.send({0x02}) == Bytes{0xFA});
        CHECK(k.kbc.keyboard().scan_code_set() == 2);
        // A command in place of an argument is obeyed.
        CHECK(k.send({0xED, 0xEE}) == Bytes{0xFA, 0xEE});
        // Defaults restore the typematic rate but keep the LEDs and the set.
        CHECK(k.send({0xF6}) == Bytes{0xFA});
        CHECK(k.kbc.keyboard().typematic() == Ps2Keyboard::kDefaultTypematic);
        CHECK(k.kbc.keyboard().leds() == 0x07);
        // Reset: set 2, LEDs off.
        k.send({0xF0, 0x01});
        CHECK(k.send({0xFF}) == Bytes{0xFA, 0xAA});
        CHECK(k.kbc.keyboard().scan_code_set() == 2);
        CHECK(k.kbc.keyboard().leds() == 0x00);
    }

    TEST_CASE("scanning disabled by 0xF5 drops key events until 0xF4") {
        Kbc k;
        k.write_ctr(0x00);
        CHECK(k.send({0xF5}) == Bytes{0xFA});
        CHECK_FALSE(k.kbc.keyboard().scanning());
        CHECK(k.tap(Key::A).empty());
        CHECK(k.send({0xF4}) == Bytes{0xFA});
        CHECK(k.tap(Key::A) == Bytes{0x1C, 0xF0, 0x1C});
        // 0xF4 also clears keys not yet sent.
        k.command(0xAD);
        k.kbc.key_event(Key::B, true);
        CHECK(k.send({0xF4}) == Bytes{0xFA});
    }

    TEST_CASE("translation turns set 2 into set 1 with 0xF0 becoming the break bit") {
        Kbc k;
        k.write_ctr(0x40);
        CHECK(k.tap(Key::A) == Bytes{0x1E, 0x9E});
        CHECK(k.tap(Key::Right) == Bytes{0xE0, 0x4D, 0xE0, 0xCD});
        CHECK(k.tap(Key::F7) == Bytes{0x41, 0xC1});  // set 2's 0x83 is translated too
        k.kbc.key_event(Key::Pause, true);
        CHECK(k.drain() == Bytes{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5});
        CHECK(k.send({0xF2}) == Bytes{0xFA, 0xAB, 0x41});
        // Each byte sent is acknowledged, then the set: 2 reads 0x41 (Brouwer 9.3).
        CHECK(k.send({0xF0, 0x00}) == Bytes{0xFA, 0xFA, 0x41});
        k.write_ctr(0x00);
        CHECK(k.tap(Key::A) == Bytes{0x1C, 0xF0, 0x1C});
        CHECK(k.tap(Key::Right) == Bytes{0xE0, 0x74, 0xE0, 0xF0, 0x74});
        k.kbc.key_event(Key::Pause, true);
        CHECK(k.drain() == Bytes{0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77});
        k.kbc.key_event(Key::Pause, false);
        CHECK(k.drain().empty());
        // Set 1 untranslated.
        k.send({0xF0, 0x01});
        CHECK(k.tap(Key::A) == Bytes{0x1E, 0x9E});
        CHECK(k.tap(Key::PrintScreen) == Bytes{0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA});
    }

    TEST_CASE("every key of set 2 translated is the key's set 1 code") {
        Kbc translated;
        translated.write_ctr(0x40);
        Kbc set1;
        set1.write_ctr(0x00);
        set1.send({0xF0, 0x01});
        for (std::size_t i = 0; i < kKeyCount; ++i) {
            const auto key = static_cast<Key>(i);
            CAPTURE(i);
            const Bytes a = translated.tap(key);
            CHECK_FALSE(a.empty());
            CHECK(a == set1.tap(key));
        }
    }

    TEST_CASE("set 3 sends break codes only for the modifiers until all keys are made make/break") {
        Kbc k;
        k.write_ctr(0x00);
        k.send({0xF0, 0x03});
        CHECK(k.tap(Key::A) == Bytes{0x1C});
        CHECK(k.tap(Key::LeftShift) == Bytes{0x12, 0xF0, 0x12});
        CHECK(k.tap(Key::Escape) == Bytes{0x08});
        CHECK(k.send({0xFA}) == Bytes{0xFA});
        CHECK(k.tap(Key::A) == Bytes{0x1C, 0xF0, 0x1C});
        CHECK(k.tap(Key::Right) == Bytes{0x6A, 0xF0, 0x6A});
    }

    TEST_CASE("typed text becomes US layout keystrokes with Shift and Ctrl") {
        Kbc k;
        k.write_ctr(0x00);
        CHECK(k.kbc.type_text("Hi!\n") == 4);
        CHECK(k.drain() == Bytes{0x12, 0x33, 0xF0, 0x33, 0xF0, 0x12,  // H
                                 0x43, 0xF0, 0x43,                    // i
                                 0x12, 0x16, 0xF0, 0x16, 0xF0, 0x12,  // !
                                 0x5A, 0xF0, 0x5A});                  // Enter
        k.kbc.type_text("\x03\t\b\x1B");
        CHECK(k.drain() == Bytes{0x14, 0x21, 0xF0, 0x21, 0xF0, 0x14,  // Ctrl+C
                                 0x0D, 0xF0, 0x0D,                    // Tab
                                 0x66, 0xF0, 0x66,                    // Backspace
                                 0x76, 0xF0, 0x76});                  // Escape
        k.write_ctr(0x40);
        k.kbc.type_text("aB ~");
        CHECK(k.drain() ==
              Bytes{0x1E, 0x9E, 0x2A, 0x30, 0xB0, 0xAA, 0x39, 0xB9, 0x2A, 0x29, 0xA9, 0xAA});
    }

    TEST_CASE("typed text longer than the keyboard buffer arrives whole") {
        Kbc k;
        k.write_ctr(0x40);
        const std::string text = "The Quick Brown Fox Jumps Over The Lazy Dog 0123456789 {}";
        k.kbc.type_text(text);
        // Decode the set 1 stream: make codes of the letters and digits, in order.
        const std::string keys = "1234567890qwertyuiopasdfghjklzxcvbnm";
        const Bytes makes{0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x10, 0x11,
                          0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1E, 0x1F, 0x20, 0x21,
                          0x22, 0x23, 0x24, 0x25, 0x26, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x32};
        std::string typed;
        int shifts = 0;
        for (const std::uint8_t b : k.drain()) {
            if (b == 0x2A) ++shifts;
            for (std::size_t i = 0; i < makes.size(); ++i) {
                if (b == makes[i]) typed += keys[i];
            }
        }
        CHECK(typed == "thequickbrownfoxjumpsoverthelazydog0123456789");
        CHECK(shifts == 11);  // 9 capitals, '{' and '}'
    }

    TEST_CASE("the keyboard buffer overruns after 16 bytes with the set's overrun code") {
        Kbc k;
        k.write_ctr(0x10);  // keyboard clock off: bytes stay in the keyboard
        for (int i = 0; i < 20; ++i)
            k.kbc.key_event(Key::A, true);
        k.write_ctr(0x00);
        Bytes expected(16, 0x1C);
        expected.push_back(0x00);
        CHECK(k.drain() == expected);
        // Keys are accepted again once the buffer was read.
        CHECK(k.tap(Key::B) == Bytes{0x32, 0xF0, 0x32});

        k.send({0xF0, 0x01});
        k.write_ctr(0x10);
        for (int i = 0; i < 20; ++i)
            k.kbc.key_event(Key::A, true);
        k.write_ctr(0x00);
        expected.assign(16, 0x1E);
        expected.push_back(0xFF);
        CHECK(k.drain() == expected);
    }

    TEST_CASE("IRQ 1 is high while the output buffer holds a keyboard byte and bit 0 is set") {
        Kbc k;
        k.write_ctr(0x01);
        CHECK(k.irq1.empty());
        k.kbc.key_event(Key::A, true);
        k.kbc.key_event(Key::A, false);
        CHECK(k.kbc.irq1());
        CHECK(k.read() == 0x1C);
        CHECK(k.kbc.irq1());  // the next byte is loaded at once: a new edge
        CHECK(k.read() == 0xF0);
        CHECK(k.read() == 0x1C);
        CHECK_FALSE(k.kbc.irq1());
        CHECK(k.irq1 == std::vector<bool>{true, false, true, false, true, false});
        // The level follows the enable bit while a byte waits.
        k.kbc.key_event(Key::A, true);
        CHECK(k.kbc.irq1());
        k.write_ctr(0x00);
        CHECK_FALSE(k.kbc.irq1());
        k.write_ctr(0x01);
        CHECK(k.kbc.irq1());
        k.read();
        // Controller responses are keyboard-channel bytes.
        k.command(0x20);
        CHECK(k.kbc.irq1());
        CHECK_FALSE(k.kbc.irq12());
        k.read();
        CHECK(k.irq12.empty());
    }

    TEST_CASE("IRQ 12 is high while the output buffer holds an aux byte and bit 1 is set") {
        Kbc k;
        k.write_ctr(0x03);
        k.command(0xD3);
        k.data(0x5A);
        CHECK(k.status() == (kUnlocked | kAux | kObf));
        CHECK(k.kbc.irq12());
        CHECK_FALSE(k.kbc.irq1());
        CHECK(k.read() == 0x5A);
        CHECK_FALSE(k.kbc.irq12());
        CHECK((k.status() & kAux) == 0);
        k.write_ctr(0x01);
        k.command(0xD3);
        k.data(0x33);
        CHECK_FALSE(k.kbc.irq12());
        CHECK(k.read() == 0x33);
        // 0xD2 is keyboard data: IRQ 1.
        k.command(0xD2);
        k.data(0x44);
        CHECK(k.kbc.irq1());
        CHECK(k.status() == (kUnlocked | kObf));
        CHECK(k.read() == 0x44);
        CHECK(k.irq12 == std::vector<bool>{true, false});
    }

    TEST_CASE("a byte for the absent aux device times out with 0xFE from the aux port") {
        Kbc k;
        k.write_ctr(0x47);  // what Linux leaves: xlate, both interrupts, system flag
        k.command(0xD4);
        k.data(0xF2);
        CHECK(k.status() == (kUnlocked | kSys | kTimeout | kAux | kObf));
        CHECK(k.kbc.irq12());
        CHECK_FALSE(k.kbc.irq1());
        CHECK(k.read() == 0xFE);
        CHECK_FALSE(k.kbc.irq12());
        // The time-out describes that byte; the next one clears it.
        CHECK(k.query(0x20) == 0x47);
        CHECK((k.status() & kTimeout) == 0);
        // The loopback still works.
        k.command(0xD3);
        k.data(0xA5);
        CHECK(k.status() == (kUnlocked | kSys | kAux | kObf));
        CHECK(k.read() == 0xA5);
    }

    TEST_CASE("bytes are held in the keyboard while its clock is disabled") {
        Kbc k;
        k.write_ctr(0x01);
        k.command(0xAD);
        k.kbc.key_event(Key::Z, true);
        CHECK((k.status() & kObf) == 0);
        CHECK_FALSE(k.kbc.irq1());
        k.command(0xAE);
        CHECK(k.kbc.irq1());
        CHECK(k.drain() == Bytes{0x1A});
        // Through command byte bit 4 as well.
        k.write_ctr(0x11);
        k.kbc.key_event(Key::Z, false);
        CHECK((k.status() & kObf) == 0);
        k.write_ctr(0x01);
        CHECK(k.drain() == Bytes{0xF0, 0x1A});
        // Any keyboard command enables the keyboard again (Brouwer 10.3).
        k.command(0xAD);
        CHECK(k.send({0xEE}) == Bytes{0xEE});
        CHECK(k.query(0x20) == 0x01);
        // Controller responses are not held.
        k.command(0xAD);
        CHECK(k.query(0xAB) == 0x00);
    }

    TEST_CASE("a controller response waits behind the byte already in the output buffer") {
        Kbc k;
        k.write_ctr(0x00);
        k.kbc.type_text("ab");
        k.command(0x20);
        CHECK(k.drain() == Bytes{0x1C, 0x00, 0xF0, 0x1C, 0x32, 0xF0, 0x32});
    }

    TEST_CASE("save and restore carry the controller and keyboard state and re-drive the lines") {
        Kbc a;
        a.write_ctr(0x43);
        a.send({0xED, 0x02});
        a.send({0xF3, 0x1F});
        a.command(0xDD);
        a.command(0x6A);
        a.data(0x77);
        a.kbc.type_text("Hello, world");
        a.read();
        a.command(0xD4);  // the command awaiting its data is state too
        const I8042::State saved = a.kbc.save();

        Kbc b;
        b.kbc.restore(saved);
        CHECK(b.kbc.save() == saved);
        CHECK(b.irq1 == std::vector<bool>{true});
        CHECK(b.irq12 == std::vector<bool>{false});
        CHECK(b.a20 == std::vector<bool>{false});
        CHECK(b.kbc.keyboard().leds() == 0x02);
        // Both carry on alike.
        a.data(0x00);
        b.data(0x00);
        CHECK(a.status() == b.status());
        CHECK(a.drain() == b.drain());
        CHECK(a.query(0x2A) == 0x77);
        CHECK(b.query(0x2A) == 0x77);

        b.kbc.reset();
        CHECK(b.kbc.save() == I8042::State{});
        CHECK(b.a20.back());

        SystemControlPortA p;
        p.io_write(0x92, 1, 0xCA);
        std::vector<bool> a20;
        SystemControlPortA q{[&](bool on) { a20.push_back(on); }};
        q.restore(p.save());
        CHECK(q.save() == p.save());
        CHECK(q.io_read(0x92, 1) == 0xCA);
        CHECK(a20 == std::vector<bool>{true});
    }

    TEST_CASE("the Linux i8042 and atkbd boot sequence ends with a working keyboard and no mouse") {
        Kbc k;
        // i8042_controller_check: flush.
        CHECK(k.drain().empty());
        // i8042_controller_selftest.
        CHECK(k.query(0xAA) == 0x55);
        // i8042_controller_init: a stable CTR read, keyboard off, keylock, write back.
        std::uint8_t ctr = k.query(0x20);
        CHECK(k.query(0x20) == ctr);
        ctr = static_cast<std::uint8_t>((ctr | 0x10) & ~0x01);
        CHECK((k.status() & kUnlocked) != 0);
        CHECK((ctr & 0x40) != 0);  // translated: i8042.direct stays off
        k.write_ctr(ctr);
        CHECK(k.drain().empty());
        // i8042_check_aux: the loopback, then the AUX bit assignment test.
        k.command(0xD3);
        k.data(0x5A);
        CHECK((k.status() & (kObf | kAux)) == (kObf | kAux));
        CHECK(k.read() == 0x5A);
        k.command(0xA7);
        CHECK((k.query(0x20) & 0x20) != 0);
        k.command(0xA8);
        CHECK((k.query(0x20) & 0x20) == 0);
        // ... and the AUX IRQ test: IRQ 12 must come for a loopback byte.
        ctr = static_cast<std::uint8_t>((ctr & ~0x20) | 0x02);
        k.write_ctr(ctr);
        k.command(0xD3);
        k.data(0xA5);
        CHECK(k.kbc.irq12());
        CHECK((k.status() & kAux) != 0);
        CHECK(k.read() == 0xA5);
        ctr = static_cast<std::uint8_t>((ctr | 0x20) & ~0x02);
        k.write_ctr(ctr);
        // i8042_check_mux: the third loopback byte comes back unchanged: no MUX.
        CHECK(k.drain().empty());
        for (const std::uint8_t b : {0xF0, 0x56, 0xA4}) {
            k.command(0xD3);
            k.data(b);
            CHECK((k.status() & kAux) != 0);
            CHECK(k.read() == b);
        }
        // i8042_setup_aux and i8042_setup_kbd enable both ports.
        ctr = static_cast<std::uint8_t>((ctr & ~0x20) | 0x02);
        k.write_ctr(ctr);
        ctr = static_cast<std::uint8_t>((ctr & ~0x10) | 0x01);
        k.write_ctr(ctr);
        CHECK(ctr == 0x47);
        // psmouse: GETID times out at once (SERIO_TIMEOUT): no mouse.
        k.command(0xD4);
        k.data(0xF2);
        CHECK(k.kbc.irq12());
        CHECK((k.status() & (kAux | kTimeout)) == (kAux | kTimeout));
        CHECK(k.read() == 0xFE);
        CHECK(k.drain().empty());
        // atkbd: every byte comes with IRQ 1.
        const auto keyboard = [&](std::initializer_list<std::uint8_t> bytes) {
            for (const std::uint8_t b : bytes)
                k.data(b);
            Bytes out;
            while (k.kbc.irq1()) {
                CHECK((k.status() & (kObf | kAux)) == kObf);
                out.push_back(k.read());
            }
            CHECK((k.status() & kObf) == 0);
            return out;
        };
        CHECK(keyboard({0xFF}) == Bytes{0xFA, 0xAA});        // reset (atkbd.reset)
        CHECK(keyboard({0xF2}) == Bytes{0xFA, 0xAB, 0x41});  // translated MF2 ID
        CHECK(keyboard({0xF5}) == Bytes{0xFA});              // deactivate
        CHECK(keyboard({0xF0, 0x02}) == Bytes{0xFA, 0xFA});  // scan set 2
        CHECK(keyboard({0xF0, 0x00}) == Bytes{0xFA, 0xFA, 0x41});
        CHECK(keyboard({0xED, 0x00}) == Bytes{0xFA, 0xFA});  // LEDs off
        CHECK(keyboard({0xF3, 0x00}) == Bytes{0xFA, 0xFA});  // fastest repeat
        CHECK(keyboard({0xF4}) == Bytes{0xFA});              // activate
        k.kbc.key_event(Key::A, true);
        k.kbc.key_event(Key::A, false);
        CHECK(keyboard({}) == Bytes{0x1E, 0x9E});
        k.kbc.type_text("ls\n");
        CHECK(keyboard({}) == Bytes{0x26, 0xA6, 0x1F, 0x9F, 0x1C, 0x9C});
        CHECK(keyboard({0xED, 0x02}) == Bytes{0xFA, 0xFA});  // Num Lock on
        CHECK(k.kbc.keyboard().leds() == 0x02);
        CHECK(k.irq12.back() == false);
        CHECK(k.resets == 0);
    }
}
