#include "devices/i8042.hpp"

#include <initializer_list>
#include <optional>
#include <utility>

namespace jitterbug::devices {

namespace {

constexpr std::uint8_t kAck = 0xFA;
constexpr std::uint8_t kResend = 0xFE;
constexpr std::uint8_t kBatPassed = 0xAA;
constexpr std::uint8_t kEcho = 0xEE;
constexpr std::uint8_t kExtended = 0xE0;
constexpr std::uint8_t kBreak = 0xF0;  // sets 2 and 3

struct KeyCodes {
    std::uint8_t set1, set2, set3;
    bool extended;    // 0xE0-prefixed in sets 1 and 2
    bool set3_break;  // sends a break code in set 3 by default
};

constexpr std::array<KeyCodes, kKeyCount> kKeyCodes{{
#define JITTERBUG_KEY_CODES(name, set1, set2, set3, extended, set3_break) \
    {set1, set2, set3, extended, set3_break},
    JITTERBUG_PS2_KEYS(JITTERBUG_KEY_CODES)
#undef JITTERBUG_KEY_CODES
}};

// The 8042's translation of bytes 0x00-0x7F from the keyboard (Brouwer 9.3,
// after G. J. Konzak, "PC 8042 Controller"). Bytes 0x80-0xFF pass unchanged
// but for 0x83 (set 2's F7) and 0x84 (Alt+SysRq).
constexpr std::array<std::uint8_t, 128> kTranslation{{
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59,
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, 0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B,
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, 0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, 0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F,
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, 0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61,
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, 0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, 0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F,
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, 0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54,
}};

// The keys of the main block in US-layout typing order, with the characters
// they type without and with Shift.
constexpr std::array<Key, 47> kTypingKeys{
    Key::Backquote, Key::Digit1, Key::Digit2, Key::Digit3,      Key::Digit4,
    Key::Digit5,    Key::Digit6, Key::Digit7, Key::Digit8,      Key::Digit9,
    Key::Digit0,    Key::Minus,  Key::Equal,  Key::Q,           Key::W,
    Key::E,         Key::R,      Key::T,      Key::Y,           Key::U,
    Key::I,         Key::O,      Key::P,      Key::LeftBracket, Key::RightBracket,
    Key::Backslash, Key::A,      Key::S,      Key::D,           Key::F,
    Key::G,         Key::H,      Key::J,      Key::K,           Key::L,
    Key::Semicolon, Key::Quote,  Key::Z,      Key::X,           Key::C,
    Key::V,         Key::B,      Key::N,      Key::M,           Key::Comma,
    Key::Period,    Key::Slash,
};
constexpr std::string_view kPlain = "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./";
constexpr std::string_view kShifted = "~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:\"ZXCVBNM<>?";
static_assert(kPlain.size() == kTypingKeys.size() && kShifted.size() == kTypingKeys.size());

// The key that types `c` and the modifier held for it (none: `key` itself).
struct Typing {
    Key key;
    Key modifier;
};

std::optional<Typing> typing_for(char c) {
    if (const auto i = kPlain.find(c); i != std::string_view::npos)
        return Typing{kTypingKeys[i], kTypingKeys[i]};
    if (const auto i = kShifted.find(c); i != std::string_view::npos)
        return Typing{kTypingKeys[i], Key::LeftShift};
    switch (c) {
        case ' ':
            return Typing{Key::Space, Key::Space};
        case '\n':
            return Typing{Key::Enter, Key::Enter};
        case '\b':
            return Typing{Key::Backspace, Key::Backspace};
        case '\t':
            return Typing{Key::Tab, Key::Tab};
        case '\x1B':
            return Typing{Key::Escape, Key::Escape};
        default:
            break;
    }
    if (c >= 0x01 && c <= 0x1A) {
        const Key letter = kTypingKeys[kPlain.find(static_cast<char>('a' + c - 1))];
        return Typing{letter, Key::LeftCtrl};
    }
    return std::nullopt;
}

}  // namespace

ScanCodes scan_codes(Key key, bool pressed, unsigned set, int set3_all_break) {
    ScanCodes out;
    const auto put = [&out](std::initializer_list<std::uint8_t> bytes) {
        for (const std::uint8_t b : bytes)
            out.bytes[out.size++] = b;
    };
    const KeyCodes& k = kKeyCodes[static_cast<std::size_t>(key)];
    if (set == 3) {
        const bool breaks = set3_all_break < 0 ? k.set3_break : set3_all_break > 0;
        if (pressed) {
            put({k.set3});
        } else if (breaks) {
            put({kBreak, k.set3});
        }
        return out;
    }
    const bool set1 = set == 1;
    // Pause sends its whole sequence on the press and nothing on the
    // release; PrintScreen wraps its code in a (fake) extended left Shift.
    if (key == Key::Pause) {
        if (pressed && set1) put({0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5});
        if (pressed && !set1) put({0xE1, 0x14, 0x77, 0xE1, kBreak, 0x14, kBreak, 0x77});
        return out;
    }
    if (key == Key::PrintScreen) {
        if (set1 && pressed) put({0xE0, 0x2A, 0xE0, 0x37});
        if (set1 && !pressed) put({0xE0, 0xB7, 0xE0, 0xAA});
        if (!set1 && pressed) put({0xE0, 0x12, 0xE0, 0x7C});
        if (!set1 && !pressed) put({0xE0, kBreak, 0x7C, 0xE0, kBreak, 0x12});
        return out;
    }
    if (k.extended) put({kExtended});
    if (set1) {
        put({static_cast<std::uint8_t>(pressed ? k.set1 : k.set1 | 0x80)});
    } else {
        if (!pressed) put({kBreak});
        put({k.set2});
    }
    return out;
}

std::uint8_t translate_scan_code(std::uint8_t byte) {
    if (byte < 0x80) return kTranslation[byte];
    if (byte == 0x83) return 0x41;
    if (byte == 0x84) return 0x54;
    return byte;
}

// ---------------------------------------------------------------------------
// The keyboard

void Ps2Keyboard::receive(std::uint8_t byte) {
    if (s_.argument_of != 0) {
        argument(byte);
    } else {
        command(byte);
    }
    pump_typed();
}

void Ps2Keyboard::command(std::uint8_t byte) {
    const auto clear = [this] {
        s_.output.clear();
        s_.overrun = false;
    };
    switch (byte) {
        case 0xED:  // set LEDs
        case 0xF0:  // get/set scan code set
        case 0xF3:  // set typematic rate and delay
        case 0xFB:  // set 3: keys typematic ...
        case 0xFC:  // ... make/break ...
        case 0xFD:  // ... make only (a list of keys follows)
            respond(kAck);
            s_.argument_of = byte;
            break;
        case 0xEE:
            respond(kEcho);
            break;
        case 0xF2:  // identify: an MF2 keyboard
            respond(kAck);
            respond(0xAB);
            respond(0x83);
            break;
        case 0xF4:  // enable: clears the buffer, starts scanning
            clear();
            s_.scanning = true;
            respond(kAck);
            break;
        case 0xF5:  // default disable
        case 0xF6:  // set default
            clear();
            set_defaults();
            s_.scanning = byte == 0xF6;
            respond(kAck);
            break;
        case 0xF7:  // set 3: all keys typematic (make only)
        case 0xF9:  // set 3: all keys make only
            s_.set3_all_break = 0;
            respond(kAck);
            break;
        case 0xF8:  // set 3: all keys make/break
        case 0xFA:  // set 3: all keys typematic and make/break
            s_.set3_all_break = 1;
            respond(kAck);
            break;
        case 0xFE:
            respond(s_.last_sent);
            break;
        case 0xFF:  // reset: acknowledge, then the BAT and its result
            clear();
            set_defaults();
            s_.scan_set = 2;
            s_.leds = 0;
            s_.scanning = true;
            respond(kAck);
            respond(kBatPassed);
            break;
        default:
            respond(kResend);
            break;
    }
}

void Ps2Keyboard::argument(std::uint8_t byte) {
    const std::uint8_t cmd = s_.argument_of;
    bool valid = false;
    switch (cmd) {
        case 0xED:
            valid = (byte & 0xF8) == 0;
            break;
        case 0xF3:
            valid = (byte & 0x80) == 0;
            break;
        case 0xF0:
            valid = byte <= 3;
            break;
        default:  // a set 3 key code of a list
            valid = byte < 0xED;
            break;
    }
    if (!valid) {
        // A command in place of the argument is obeyed; anything else is
        // asked for again.
        if (byte >= 0xED) {
            s_.argument_of = 0;
            command(byte);
        } else {
            respond(kResend);
        }
        return;
    }
    respond(kAck);
    if (cmd >= 0xFB) return;  // key types are not modelled; the list goes on
    s_.argument_of = 0;
    if (cmd == 0xED) {
        s_.leds = byte;
    } else if (cmd == 0xF3) {
        s_.typematic = byte;
    } else if (byte == 0) {
        respond(s_.scan_set);
    } else {
        s_.scan_set = byte;
    }
}

void Ps2Keyboard::set_defaults() {
    s_.typematic = kDefaultTypematic;
    s_.set3_all_break = -1;
}

std::uint8_t Ps2Keyboard::take_output() {
    const std::uint8_t byte = s_.output.front();
    s_.output.pop_front();
    s_.last_sent = byte;
    if (s_.output.empty()) s_.overrun = false;
    pump_typed();
    return byte;
}

// Queues the bytes of a keystroke when they fit. When they do not, a key
// event is lost (after the overrun code); a typed keystroke waits.
bool Ps2Keyboard::push_keystroke(Keystroke k, bool drop_on_overrun) {
    const ScanCodes codes = scan_codes(k.key, k.pressed, s_.scan_set, s_.set3_all_break);
    if (!s_.overrun && s_.output.size() + codes.size <= kBufferSize) {
        s_.output.insert(s_.output.end(), codes.bytes.begin(), codes.bytes.begin() + codes.size);
        return true;
    }
    if (!drop_on_overrun) return false;
    if (!s_.overrun) {
        respond(s_.scan_set == 1 ? 0xFF : 0x00);
        s_.overrun = true;
    }
    return true;
}

void Ps2Keyboard::pump_typed() {
    while (s_.scanning && !s_.typed.empty() && push_keystroke(s_.typed.front(), false)) {
        s_.typed.pop_front();
    }
}

void Ps2Keyboard::key_event(Key key, bool pressed) {
    if (!s_.scanning) return;
    // Behind typed text still waiting, a key waits its turn.
    if (!s_.typed.empty()) {
        if (s_.typed.size() < kTypedLimit) s_.typed.push_back({key, pressed});
        pump_typed();
        return;
    }
    push_keystroke({key, pressed}, true);
}

std::size_t Ps2Keyboard::type_text(std::string_view ascii) {
    std::size_t queued = 0;
    for (const char c : ascii) {
        const std::optional<Typing> t = typing_for(c);
        if (t) {
            const bool modified = t->modifier != t->key;
            if (s_.typed.size() + (modified ? 4 : 2) > kTypedLimit) break;
            if (modified) s_.typed.push_back({t->modifier, true});
            s_.typed.push_back({t->key, true});
            s_.typed.push_back({t->key, false});
            if (modified) s_.typed.push_back({t->modifier, false});
        }
        ++queued;
    }
    pump_typed();
    return queued;
}

// ---------------------------------------------------------------------------
// The controller

I8042::I8042(LineFn irq1, LineFn irq12, A20Fn a20, ResetFn reset)
    : irq1_fn_(std::move(irq1)),
      irq12_fn_(std::move(irq12)),
      a20_fn_(std::move(a20)),
      reset_fn_(std::move(reset)) {}

std::uint32_t I8042::io_read(std::uint16_t port, unsigned size) {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < size; ++i) {
        const auto p = static_cast<std::uint16_t>(port + i);
        std::uint8_t byte = 0xFF;
        if (p == kDataPort) {
            byte = read_data();
        } else if (p == kCommandPort) {
            byte = status();
        }
        value |= static_cast<std::uint32_t>(byte) << (8 * i);
    }
    return value;
}

void I8042::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    for (unsigned i = 0; i < size; ++i) {
        const auto p = static_cast<std::uint16_t>(port + i);
        const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
        if (p == kDataPort) {
            write_data(byte);
        } else if (p == kCommandPort) {
            write_command(byte);
        }
    }
}

std::uint8_t I8042::status() const {
    std::uint8_t s = kStatusUnlocked;
    if (c_.full) s |= kStatusObf;
    if (c_.full && c_.output.source == Source::Aux) s |= kStatusAuxObf;
    if (c_.ram[0] & kCtrSystem) s |= kStatusSystem;  // the command byte's system flag
    if (c_.last_write_command) s |= kStatusCommand;
    if (c_.timeout) s |= kStatusTimeout;
    return s;
}

std::uint8_t I8042::output_port() const {
    return static_cast<std::uint8_t>(c_.output_port | (c_.irq1 ? 0x10 : 0) | (c_.irq12 ? 0x20 : 0));
}

// Reading the output buffer when it is empty gives its last byte again.
std::uint8_t I8042::read_data() {
    const std::uint8_t value = c_.output.value;
    c_.full = false;
    update_irqs();  // the line falls before the next byte raises it again
    service();
    return value;
}

void I8042::write_command(std::uint8_t command) {
    c_.last_write_command = true;
    c_.pending = 0;  // a command abandons one still waiting for its data
    if (command >= 0x20 && command <= 0x3F) {
        respond(c_.ram[command & 0x1F]);
    } else if ((command >= 0x60 && command <= 0x7F) || (command >= 0xD1 && command <= 0xD4)) {
        c_.pending = command;
    } else if (command >= 0xF0) {
        // Pulse the output port lines whose bits are clear; bit 0 is the
        // CPU's reset.
        if ((command & 0x01) == 0 && reset_fn_) reset_fn_();
    } else {
        port_command(command);
    }
}

// The one-byte commands; others are ignored.
void I8042::port_command(std::uint8_t command) {
    const std::uint8_t ctr = c_.ram[0];
    switch (command) {
        case 0xA7:
            set_command_byte(ctr | kCtrAuxDisable);
            break;
        case 0xA8:
            set_command_byte(ctr & ~kCtrAuxDisable);
            break;
        case 0xA9:  // aux interface test: the lines are fine
            respond(0x00);
            break;
        case 0xAA:
            // Self-test: the controller reinitialises (output buffer, command
            // byte) and reports success with the system flag set.
            c_.responses.clear();
            c_.full = false;
            c_.break_prefix = false;
            set_command_byte(kResetCommandByte | kCtrSystem);
            respond(0x55);
            break;
        case 0xAB:  // keyboard interface test
            respond(0x00);
            break;
        case 0xAD:
            set_command_byte(ctr | kCtrKbdDisable);
            break;
        case 0xAE:
            set_command_byte(ctr & ~kCtrKbdDisable);
            break;
        case 0xC0:
            respond(kInputPort);
            break;
        case 0xD0:
            respond(output_port());
            break;
        case 0xDD:
            set_a20(false);
            break;
        case 0xDF:
            set_a20(true);
            break;
        case 0xE0:  // test inputs: T0 keyboard clock, T1 aux clock (high unless inhibited)
            respond(static_cast<std::uint8_t>(((ctr & kCtrKbdDisable) ? 0 : 1) |
                                              ((ctr & kCtrAuxDisable) ? 0 : 2)));
            break;
        default:
            break;
    }
}

void I8042::write_data(std::uint8_t value) {
    c_.last_write_command = false;
    if (c_.pending != 0) {
        const std::uint8_t command = c_.pending;
        c_.pending = 0;
        command_data(command, value);
        return;
    }
    // For the keyboard. Any keyboard command enables the keyboard interface
    // again (Brouwer 10.3, command 0xAD).
    c_.ram[0] &= static_cast<std::uint8_t>(~kCtrKbdDisable);
    keyboard_.receive(value);
    service();
}

void I8042::command_data(std::uint8_t command, std::uint8_t value) {
    if (command >= 0x60 && command <= 0x7F) {
        if ((command & 0x1F) == 0) {
            set_command_byte(value);
        } else {
            c_.ram[command & 0x1F] = value;
        }
        return;
    }
    switch (command) {
        case 0xD1:
            write_output_port(value);
            break;
        case 0xD2:
            respond(value, Source::Keyboard);
            break;
        case 0xD3:
            respond(value, Source::Aux);
            break;
        case 0xD4:  // no aux device: the transmission times out
            respond(0xFE, Source::Aux, true);
            break;
        default:
            break;
    }
}

void I8042::respond(std::uint8_t value, Source source, bool timeout) {
    if (c_.responses.size() < kResponseLimit) c_.responses.push_back({value, source, timeout});
    service();
}

void I8042::set_command_byte(std::uint8_t value) {
    c_.ram[0] = value;
    service();
}

// Bits 4 and 5 are the IRQ outputs, not the host's to write. A 0 in bit 0
// holds the CPU in reset: the machine is asked once.
void I8042::write_output_port(std::uint8_t value) {
    const bool a20 = (value & 0x02) != 0;
    c_.output_port = static_cast<std::uint8_t>((c_.output_port & 0x02) | (value & 0xCD));
    set_a20(a20);
    if ((value & 0x01) == 0 && reset_fn_) reset_fn_();
}

void I8042::set_a20(bool enabled) {
    if (enabled == a20()) return;
    c_.output_port =
        static_cast<std::uint8_t>(enabled ? c_.output_port | 0x02 : c_.output_port & ~0x02);
    if (a20_fn_) a20_fn_(enabled);
}

void I8042::service() {
    if (!c_.full) {
        if (!c_.responses.empty()) {
            load(c_.responses.front());
            c_.responses.pop_front();
        } else {
            load_from_keyboard();
        }
    }
    update_irqs();
}

// Takes bytes from the keyboard while its clock is enabled, translating
// them when the command byte says so: a 0xF0 is not passed on but sets bit
// 7 of the next byte.
bool I8042::load_from_keyboard() {
    while ((c_.ram[0] & kCtrKbdDisable) == 0 && keyboard_.has_output()) {
        std::uint8_t byte = keyboard_.take_output();
        if (c_.ram[0] & kCtrTranslate) {
            if (byte == kBreak) {
                c_.break_prefix = true;
                continue;
            }
            byte =
                static_cast<std::uint8_t>(translate_scan_code(byte) | (c_.break_prefix ? 0x80 : 0));
            c_.break_prefix = false;
        }
        load({byte, Source::Keyboard, false});
        return true;
    }
    return false;
}

void I8042::load(const OutputByte& byte) {
    c_.output = byte;
    c_.full = true;
    c_.timeout = byte.timeout;
}

void I8042::update_irqs() {
    const bool aux = c_.output.source == Source::Aux;
    const bool irq1 = c_.full && !aux && (c_.ram[0] & kCtrKbdInt) != 0;
    const bool irq12 = c_.full && aux && (c_.ram[0] & kCtrAuxInt) != 0;
    if (irq1 != c_.irq1) {
        c_.irq1 = irq1;
        if (irq1_fn_) irq1_fn_(irq1);
    }
    if (irq12 != c_.irq12) {
        c_.irq12 = irq12;
        if (irq12_fn_) irq12_fn_(irq12);
    }
}

void I8042::key_event(Key key, bool pressed) {
    keyboard_.key_event(key, pressed);
    service();
}

std::size_t I8042::type_text(std::string_view ascii) {
    const std::size_t queued = keyboard_.type_text(ascii);
    service();
    return queued;
}

void I8042::reset() {
    c_ = Controller{};
    keyboard_.reset();
    if (irq1_fn_) irq1_fn_(false);
    if (irq12_fn_) irq12_fn_(false);
    if (a20_fn_) a20_fn_(a20());
}

void I8042::restore(const State& s) {
    c_ = s.controller;
    keyboard_.restore(s.keyboard);
    if (irq1_fn_) irq1_fn_(c_.irq1);
    if (irq12_fn_) irq12_fn_(c_.irq12);
    if (a20_fn_) a20_fn_(a20());
}

// ---------------------------------------------------------------------------
// Port 0x92

namespace {
constexpr std::uint8_t kPortAFastReset = 0x01;
constexpr std::uint8_t kPortAA20 = 0x02;
constexpr std::uint8_t kPortALock = 0x08;
constexpr std::uint8_t kPortAWritable = 0xC3;
}  // namespace

SystemControlPortA::SystemControlPortA(A20Fn a20, ResetFn reset)
    : a20_fn_(std::move(a20)), reset_fn_(std::move(reset)) {}

std::uint32_t SystemControlPortA::io_read(std::uint16_t port, unsigned size) {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < size; ++i) {
        const std::uint8_t byte = port + i == kPort ? s_.value : 0xFF;
        value |= static_cast<std::uint32_t>(byte) << (8 * i);
    }
    return value;
}

void SystemControlPortA::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    for (unsigned i = 0; i < size; ++i) {
        if (port + i != kPort) continue;
        const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
        const std::uint8_t old = s_.value;
        s_.value = static_cast<std::uint8_t>((byte & kPortAWritable) | ((old | byte) & kPortALock));
        if (((old ^ s_.value) & kPortAA20) && a20_fn_) a20_fn_(a20());
        // The reset is on the bit's 0 to 1 transition (SMSC "Port 92").
        if (!(old & kPortAFastReset) && (s_.value & kPortAFastReset) && reset_fn_) reset_fn_();
    }
}

void SystemControlPortA::reset() {
    s_ = State{};
    if (a20_fn_) a20_fn_(false);
}

void SystemControlPortA::restore(const State& s) {
    s_ = s;
    if (a20_fn_) a20_fn_(a20());
}

}  // namespace jitterbug::devices
