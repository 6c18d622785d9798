// The PC's 8042-compatible keyboard controller (ports 0x60/0x64) with a PS/2
// MF2 keyboard behind it, and System Control Port A (port 0x92).
//
// Sources: IBM Personal Computer AT Technical Reference (keyboard controller,
// status register, keyboard interface), A. Brouwer's "Keyboard scancodes"
// (sections 9 and 10: the scan code sets, the controller's translation
// table, its command byte and commands), the SMSC Super I/O datasheets for
// port 0x92, and Linux's drivers/input/serio/i8042.c and
// drivers/input/keyboard/atkbd.c as the guest that must find it all.
//
// The controller is instantaneous: the input buffer is never full (IBF reads
// 0), a command takes effect as it is written, and a device answers as soon
// as it is spoken to. Bytes for the host (controller responses, the
// keyboard's bytes, loopback bytes) are presented one at a time in the output
// buffer; reading port 0x60 takes the byte there and loads the next. A
// controller response waits only behind the byte already in the output
// buffer; the keyboard's bytes stay in the keyboard until the output buffer
// is free and the keyboard clock is enabled (command byte bit 4 clear), as
// on the real serial link.
//
// IRQ 1 and IRQ 12 are levels: IRQ 1 is high while the output buffer holds a
// byte of the keyboard channel (the keyboard's, or the controller's own
// responses) and command byte bit 0 is set; IRQ 12 while it holds an
// auxiliary byte and bit 1 is set.
//
// No auxiliary device (mouse) is attached. A byte sent to it with 0xD4 times
// out as on a real PS/2-mode controller, which reports a failed transmission
// as a general time-out (status bit 6) with 0xFE in the output buffer, the
// auxiliary output buffer bit (5) saying whose it is.
// Linux's i8042 driver passes that to psmouse as SERIO_TIMEOUT, the probe's
// command fails at once, and no mouse is registered. The 0xD3 loopback
// still works, which is how Linux finds the AUX port itself.
//
// A20: the controller's output port bit 1 is one source of the A20 gate and
// port 0x92 bit 1 is another. Each reports its own level through its own
// callback; the machine enables A20 when either source enables it, as
// chipsets do (SMSC LPC47M14x/FDC37B78x datasheets, "Port 92": ALT_A20 is
// OR'ed with the keyboard controller's A20GATE, and A20M# is asserted only
// while both are low).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

// The keys of a US 104-key keyboard plus the ISO 102nd key, each declared
// once: name, set 1 make code, set 2 make code, set 3 make code, whether
// sets 1 and 2 prefix it with 0xE0, and whether set 3 sends a break code for
// it by default (only the modifiers and the Windows keys do; Brouwer 9.2).
// PrintScreen and Pause have longer sequences in sets 1 and 2 (their codes
// here are the final bytes). Codes from Brouwer 9.6.
#define JITTERBUG_PS2_KEYS(KEY)                         \
    KEY(Escape, 0x01, 0x76, 0x08, false, false)         \
    KEY(F1, 0x3B, 0x05, 0x07, false, false)             \
    KEY(F2, 0x3C, 0x06, 0x0F, false, false)             \
    KEY(F3, 0x3D, 0x04, 0x17, false, false)             \
    KEY(F4, 0x3E, 0x0C, 0x1F, false, false)             \
    KEY(F5, 0x3F, 0x03, 0x27, false, false)             \
    KEY(F6, 0x40, 0x0B, 0x2F, false, false)             \
    KEY(F7, 0x41, 0x83, 0x37, false, false)             \
    KEY(F8, 0x42, 0x0A, 0x3F, false, false)             \
    KEY(F9, 0x43, 0x01, 0x47, false, false)             \
    KEY(F10, 0x44, 0x09, 0x4F, false, false)            \
    KEY(F11, 0x57, 0x78, 0x56, false, false)            \
    KEY(F12, 0x58, 0x07, 0x5E, false, false)            \
    KEY(PrintScreen, 0x37, 0x7C, 0x57, true, false)     \
    KEY(ScrollLock, 0x46, 0x7E, 0x5F, false, false)     \
    KEY(Pause, 0x45, 0x77, 0x62, false, false)          \
    KEY(Backquote, 0x29, 0x0E, 0x0E, false, false)      \
    KEY(Digit1, 0x02, 0x16, 0x16, false, false)         \
    KEY(Digit2, 0x03, 0x1E, 0x1E, false, false)         \
    KEY(Digit3, 0x04, 0x26, 0x26, false, false)         \
    KEY(Digit4, 0x05, 0x25, 0x25, false, false)         \
    KEY(Digit5, 0x06, 0x2E, 0x2E, false, false)         \
    KEY(Digit6, 0x07, 0x36, 0x36, false, false)         \
    KEY(Digit7, 0x08, 0x3D, 0x3D, false, false)         \
    KEY(Digit8, 0x09, 0x3E, 0x3E, false, false)         \
    KEY(Digit9, 0x0A, 0x46, 0x46, false, false)         \
    KEY(Digit0, 0x0B, 0x45, 0x45, false, false)         \
    KEY(Minus, 0x0C, 0x4E, 0x4E, false, false)          \
    KEY(Equal, 0x0D, 0x55, 0x55, false, false)          \
    KEY(Backspace, 0x0E, 0x66, 0x66, false, false)      \
    KEY(Tab, 0x0F, 0x0D, 0x0D, false, false)            \
    KEY(Q, 0x10, 0x15, 0x15, false, false)              \
    KEY(W, 0x11, 0x1D, 0x1D, false, false)              \
    KEY(E, 0x12, 0x24, 0x24, false, false)              \
    KEY(R, 0x13, 0x2D, 0x2D, false, false)              \
    KEY(T, 0x14, 0x2C, 0x2C, false, false)              \
    KEY(Y, 0x15, 0x35, 0x35, false, false)              \
    KEY(U, 0x16, 0x3C, 0x3C, false, false)              \
    KEY(I, 0x17, 0x43, 0x43, false, false)              \
    KEY(O, 0x18, 0x44, 0x44, false, false)              \
    KEY(P, 0x19, 0x4D, 0x4D, false, false)              \
    KEY(LeftBracket, 0x1A, 0x54, 0x54, false, false)    \
    KEY(RightBracket, 0x1B, 0x5B, 0x5B, false, false)   \
    KEY(Backslash, 0x2B, 0x5D, 0x5C, false, false)      \
    KEY(CapsLock, 0x3A, 0x58, 0x14, false, true)        \
    KEY(A, 0x1E, 0x1C, 0x1C, false, false)              \
    KEY(S, 0x1F, 0x1B, 0x1B, false, false)              \
    KEY(D, 0x20, 0x23, 0x23, false, false)              \
    KEY(F, 0x21, 0x2B, 0x2B, false, false)              \
    KEY(G, 0x22, 0x34, 0x34, false, false)              \
    KEY(H, 0x23, 0x33, 0x33, false, false)              \
    KEY(J, 0x24, 0x3B, 0x3B, false, false)              \
    KEY(K, 0x25, 0x42, 0x42, false, false)              \
    KEY(L, 0x26, 0x4B, 0x4B, false, false)              \
    KEY(Semicolon, 0x27, 0x4C, 0x4C, false, false)      \
    KEY(Quote, 0x28, 0x52, 0x52, false, false)          \
    KEY(Enter, 0x1C, 0x5A, 0x5A, false, false)          \
    KEY(LeftShift, 0x2A, 0x12, 0x12, false, true)       \
    KEY(Z, 0x2C, 0x1A, 0x1A, false, false)              \
    KEY(X, 0x2D, 0x22, 0x22, false, false)              \
    KEY(C, 0x2E, 0x21, 0x21, false, false)              \
    KEY(V, 0x2F, 0x2A, 0x2A, false, false)              \
    KEY(B, 0x30, 0x32, 0x32, false, false)              \
    KEY(N, 0x31, 0x31, 0x31, false, false)              \
    KEY(M, 0x32, 0x3A, 0x3A, false, false)              \
    KEY(Comma, 0x33, 0x41, 0x41, false, false)          \
    KEY(Period, 0x34, 0x49, 0x49, false, false)         \
    KEY(Slash, 0x35, 0x4A, 0x4A, false, false)          \
    KEY(RightShift, 0x36, 0x59, 0x59, false, true)      \
    KEY(LeftCtrl, 0x1D, 0x14, 0x11, false, true)        \
    KEY(LeftGui, 0x5B, 0x1F, 0x8B, true, true)          \
    KEY(LeftAlt, 0x38, 0x11, 0x19, false, true)         \
    KEY(Space, 0x39, 0x29, 0x29, false, false)          \
    KEY(RightAlt, 0x38, 0x11, 0x39, true, false)        \
    KEY(RightGui, 0x5C, 0x27, 0x8C, true, true)         \
    KEY(Menu, 0x5D, 0x2F, 0x8D, true, true)             \
    KEY(RightCtrl, 0x1D, 0x14, 0x58, true, false)       \
    KEY(Insert, 0x52, 0x70, 0x67, true, false)          \
    KEY(Home, 0x47, 0x6C, 0x6E, true, false)            \
    KEY(PageUp, 0x49, 0x7D, 0x6F, true, false)          \
    KEY(Delete, 0x53, 0x71, 0x64, true, false)          \
    KEY(End, 0x4F, 0x69, 0x65, true, false)             \
    KEY(PageDown, 0x51, 0x7A, 0x6D, true, false)        \
    KEY(Up, 0x48, 0x75, 0x63, true, false)              \
    KEY(Left, 0x4B, 0x6B, 0x61, true, false)            \
    KEY(Down, 0x50, 0x72, 0x60, true, false)            \
    KEY(Right, 0x4D, 0x74, 0x6A, true, false)           \
    KEY(NumLock, 0x45, 0x77, 0x76, false, false)        \
    KEY(KeypadDivide, 0x35, 0x4A, 0x77, true, false)    \
    KEY(KeypadMultiply, 0x37, 0x7C, 0x7E, false, false) \
    KEY(KeypadMinus, 0x4A, 0x7B, 0x84, false, false)    \
    KEY(Keypad7, 0x47, 0x6C, 0x6C, false, false)        \
    KEY(Keypad8, 0x48, 0x75, 0x75, false, false)        \
    KEY(Keypad9, 0x49, 0x7D, 0x7D, false, false)        \
    KEY(KeypadPlus, 0x4E, 0x79, 0x7C, false, false)     \
    KEY(Keypad4, 0x4B, 0x6B, 0x6B, false, false)        \
    KEY(Keypad5, 0x4C, 0x73, 0x73, false, false)        \
    KEY(Keypad6, 0x4D, 0x74, 0x74, false, false)        \
    KEY(Keypad1, 0x4F, 0x69, 0x69, false, false)        \
    KEY(Keypad2, 0x50, 0x72, 0x72, false, false)        \
    KEY(Keypad3, 0x51, 0x7A, 0x7A, false, false)        \
    KEY(KeypadEnter, 0x1C, 0x5A, 0x79, true, false)     \
    KEY(Keypad0, 0x52, 0x70, 0x70, false, false)        \
    KEY(KeypadPeriod, 0x53, 0x71, 0x71, false, false)   \
    KEY(IntlBackslash, 0x56, 0x61, 0x13, false, false)

// A key's identity: its position on the keyboard, whatever the scan code set.
enum class Key : std::uint8_t {
#define JITTERBUG_KEY_ENUM(name, set1, set2, set3, extended, set3_break) name,
    JITTERBUG_PS2_KEYS(JITTERBUG_KEY_ENUM)
#undef JITTERBUG_KEY_ENUM
};
inline constexpr std::size_t kKeyCount = static_cast<std::size_t>(Key::IntlBackslash) + 1;

// The bytes a key sends when pressed or released in scan code set 1, 2 or 3
// (none for Pause's release in sets 1 and 2, and for a set 3 release of a key
// without a break code).
struct ScanCodes {
    std::array<std::uint8_t, 8> bytes{};
    std::size_t size = 0;
};
// `set3_all_break`: 1 when every key sends break codes in set 3 (after
// 0xF8/0xFA), 0 when none does (0xF7/0xF9), -1 for the default key types.
ScanCodes scan_codes(Key key, bool pressed, unsigned set, int set3_all_break = -1);

// The controller's translation of a byte from the keyboard (set 2 to set 1;
// Brouwer 9.3). The 0xF0 break prefix is not a byte it passes on: it sets
// bit 7 of the next translated byte.
std::uint8_t translate_scan_code(std::uint8_t byte);

// A PS/2 MF2 keyboard: its command set, its scan code sets, and its output
// buffer of 16 bytes (IBM AT Technical Reference, keyboard: a 17th position
// holds the overrun code, 0x00 in sets 2 and 3 and 0xFF in set 1; later keys
// are lost until the host has read the buffer empty). Responses to commands
// are always queued. Scanning disabled (0xF5) drops key events.
//
// type_text() is the host's typist: its keystrokes wait in their own queue
// (up to kTypedLimit) and enter the keyboard's buffer whole, as room frees
// and while scanning is enabled, so typed text is never lost to an overrun.
class Ps2Keyboard {
  public:
    static constexpr std::size_t kBufferSize = 16;
    static constexpr std::size_t kTypedLimit = 4096;         // keystrokes
    static constexpr std::uint8_t kDefaultTypematic = 0x2B;  // 10.9 cps, 500 ms

    struct Keystroke {
        Key key = Key::Escape;
        bool pressed = false;
        bool operator==(const Keystroke&) const = default;
    };
    struct State {
        std::deque<std::uint8_t> output;  // to the controller, oldest first
        std::deque<Keystroke> typed;      // type_text() keystrokes not yet in `output`
        std::uint8_t scan_set = 2;
        std::uint8_t leds = 0;  // bit 0 Scroll Lock, 1 Num Lock, 2 Caps Lock
        std::uint8_t typematic = kDefaultTypematic;
        std::int8_t set3_all_break = -1;  // see scan_codes()
        std::uint8_t last_sent = 0xAA;    // for 0xFE (resend)
        std::uint8_t argument_of = 0;     // the command awaiting its argument, or 0
        bool scanning = true;
        bool overrun = false;  // the overrun code is queued; keys are lost until empty
        bool operator==(const State&) const = default;
    };

    // A byte from the controller: a command or a command's argument.
    void receive(std::uint8_t byte);
    bool has_output() const { return !s_.output.empty(); }
    // The next byte for the controller (has_output() must be true).
    std::uint8_t take_output();

    // Dropped while scanning is disabled; lost to an overrun when the buffer
    // is full; queued behind typed text still waiting, to keep the order.
    void key_event(Key key, bool pressed);
    // Queues the US-layout keystrokes for `ascii` (see I8042::type_text);
    // returns how many characters were queued.
    std::size_t type_text(std::string_view ascii);

    unsigned scan_code_set() const { return s_.scan_set; }
    std::uint8_t leds() const { return s_.leds; }
    std::uint8_t typematic() const { return s_.typematic; }
    bool scanning() const { return s_.scanning; }

    // Power-on state (no BAT code is sent: a machine reset does not power
    // the keyboard off, and the firmware read the power-on one).
    void reset() { s_ = State{}; }
    const State& save() const { return s_; }
    void restore(const State& s) { s_ = s; }

  private:
    void command(std::uint8_t byte);
    void argument(std::uint8_t byte);
    void respond(std::uint8_t byte) { s_.output.push_back(byte); }
    void set_defaults();
    bool push_keystroke(Keystroke k, bool drop_on_overrun);
    void pump_typed();

    State s_;
};

class I8042 final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kDataPort = 0x60;
    static constexpr std::uint16_t kCommandPort = 0x64;  // read: status register

    // Status register bits.
    static constexpr std::uint8_t kStatusObf = 0x01;
    static constexpr std::uint8_t kStatusIbf = 0x02;
    static constexpr std::uint8_t kStatusSystem = 0x04;
    static constexpr std::uint8_t kStatusCommand = 0x08;   // A2 of the last write
    static constexpr std::uint8_t kStatusUnlocked = 0x10;  // keyboard inhibit switch off
    static constexpr std::uint8_t kStatusAuxObf = 0x20;
    static constexpr std::uint8_t kStatusTimeout = 0x40;
    static constexpr std::uint8_t kStatusParity = 0x80;
    // Command byte (RAM 0) bits.
    static constexpr std::uint8_t kCtrKbdInt = 0x01;
    static constexpr std::uint8_t kCtrAuxInt = 0x02;
    static constexpr std::uint8_t kCtrSystem = 0x04;
    static constexpr std::uint8_t kCtrKbdDisable = 0x10;
    static constexpr std::uint8_t kCtrAuxDisable = 0x20;
    static constexpr std::uint8_t kCtrTranslate = 0x40;
    // The controller's own command byte after reset, before any firmware:
    // both interfaces inhibited, no interrupts, system flag clear,
    // translation on (the PC default; Brouwer 9.3). The self-test (0xAA)
    // reinitialises the controller to it, with the system flag set.
    static constexpr std::uint8_t kResetCommandByte =
        kCtrTranslate | kCtrAuxDisable | kCtrKbdDisable;
    // Output port: keyboard data/clock (7, 6) and aux clock/data (3, 2)
    // released, A20 enabled (bit 1; the 8042's ports come out of reset
    // high), the CPU not held in reset (bit 0). Bits 4 and 5 read as the
    // IRQ 1 and IRQ 12 outputs.
    static constexpr std::uint8_t kResetOutputPort = 0xCF;
    // Input port (0xC0): keyboard not locked (7), colour display (6 clear),
    // no manufacturing jumper (5), keyboard and aux data lines idle high.
    static constexpr std::uint8_t kInputPort = 0xA3;
    static constexpr std::size_t kResponseLimit = 16;

    using LineFn = std::function<void(bool level)>;
    using A20Fn = std::function<void(bool enabled)>;
    using ResetFn = std::function<void()>;  // a CPU reset request

    // Starts in the reset state; the callbacks are called on changes, and by
    // reset() and restore() with every output's level.
    I8042(LineFn irq1 = {}, LineFn irq12 = {}, A20Fn a20 = {}, ResetFn reset = {});

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    // A key pressed or released on the keyboard (sent in its current set).
    void key_event(Key key, bool pressed);
    // Types `ascii` on a US layout: letters (Shift for capitals), digits,
    // the symbols of the main block (with Shift where they need it), space,
    // '\n' as Enter, '\b' Backspace, '\t' Tab, 0x1B Escape, and the other
    // control characters 0x01-0x1A as Ctrl+letter. Other characters are
    // skipped. Returns how many characters were queued (the rest did not
    // fit in the typist's queue).
    std::size_t type_text(std::string_view ascii);

    std::uint8_t status() const;
    std::uint8_t command_byte() const { return c_.ram[0]; }
    std::uint8_t output_port() const;
    bool a20() const { return (c_.output_port & 0x02) != 0; }
    bool irq1() const { return c_.irq1; }
    bool irq12() const { return c_.irq12; }
    const Ps2Keyboard& keyboard() const { return keyboard_; }

    // Where the byte in the output buffer came from.
    enum class Source : std::uint8_t { Controller, Keyboard, Aux };
    struct OutputByte {
        std::uint8_t value = 0;
        Source source = Source::Controller;
        bool timeout = false;
        bool operator==(const OutputByte&) const = default;
    };
    struct Controller {
        std::array<std::uint8_t, 32> ram{kResetCommandByte};  // ram[0]: command byte
        std::uint8_t output_port = kResetOutputPort;
        OutputByte output{};  // the output buffer (valid while `full`)
        bool full = false;
        bool timeout = false;              // status bit 6, of the last byte loaded
        bool last_write_command = false;   // status bit 3
        std::deque<OutputByte> responses;  // waiting for the output buffer
        std::uint8_t pending = 0;          // the command awaiting its data byte, or 0
        bool break_prefix = false;         // translation: a 0xF0 from the keyboard seen
        bool irq1 = false;
        bool irq12 = false;
        bool operator==(const Controller&) const = default;
    };
    struct State {
        Controller controller;
        Ps2Keyboard::State keyboard;
        bool operator==(const State&) const = default;
    };
    // The controller's and the keyboard's power-on state.
    void reset();
    State save() const { return {c_, keyboard_.save()}; }
    void restore(const State& s);

  private:
    std::uint8_t read_data();
    void write_command(std::uint8_t command);
    void write_data(std::uint8_t value);
    void command_data(std::uint8_t command, std::uint8_t value);
    void port_command(std::uint8_t command);
    void respond(std::uint8_t value, Source source = Source::Controller, bool timeout = false);
    void set_command_byte(std::uint8_t value);
    void write_output_port(std::uint8_t value);
    void set_a20(bool enabled);
    // Fills the output buffer when it is free, then brings the IRQs in line.
    void service();
    bool load_from_keyboard();
    void load(const OutputByte& byte);
    void update_irqs();

    LineFn irq1_fn_;
    LineFn irq12_fn_;
    A20Fn a20_fn_;
    ResetFn reset_fn_;
    Controller c_;
    Ps2Keyboard keyboard_;
};

// System Control Port A (port 0x92; IBM PS/2, and the "Port 92" of Super
// I/O chips such as SMSC's LPC47M14x):
//   bit 0  alternate (fast) reset: writing it from 0 to 1 requests a CPU
//          reset; it reads back as written and must be written back to 0
//          before it resets again
//   bit 1  alternate A20 gate (read/write)
//   bit 3  security lock (PS/2): once set, stays set until reset
//   bits 6-7  fixed disk activity light (PS/2; read/write)
// Bits 2, 4 and 5 read 0. All bits are 0 after reset.
class SystemControlPortA final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kPort = 0x92;
    using A20Fn = std::function<void(bool enabled)>;
    using ResetFn = std::function<void()>;

    explicit SystemControlPortA(A20Fn a20 = {}, ResetFn reset = {});

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    bool a20() const { return (s_.value & 0x02) != 0; }

    struct State {
        std::uint8_t value = 0;
        bool operator==(const State&) const = default;
    };
    // Power-on: 0 (the A20 gate off here; the keyboard controller's is on).
    void reset();
    const State& save() const { return s_; }
    void restore(const State& s);

  private:
    A20Fn a20_fn_;
    ResetFn reset_fn_;
    State s_;
};

}  // namespace jitterbug::devices
