#include "devices/pit8254.hpp"

namespace jitterbug::devices {

namespace {

std::uint32_t modulus(const Pit8254::Counter& k) { return k.bcd ? 10000 : 0x10000; }

std::uint16_t to_bcd(std::uint32_t v) {
    return static_cast<std::uint16_t>((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 |
                                      (v / 1000 % 10) << 12);
}

std::uint32_t from_bcd(std::uint32_t v) {
    return (v & 0xF) + (v >> 4 & 0xF) * 10 + (v >> 8 & 0xF) * 100 + (v >> 12 & 0xF) * 1000;
}

// Modes 0 and 4 stop counting while the gate is low; 2 and 3 stop and
// start over when it rises; 1 and 5 start when it rises.
bool gate_holds(std::uint8_t mode) { return mode == 0 || mode == 4; }

// The ticks counted since `start` (none before it).
std::uint64_t elapsed(const Pit8254::Counter& k, std::uint64_t t) {
    return t >= k.start ? t - k.start : 0;
}

}  // namespace

Pit8254::Pit8254(NowFn now, LineFn irq0) : now_(std::move(now)), irq0_(std::move(irq0)) { reset(); }

void Pit8254::reset() {
    s_ = State{};
    s_.counters[2].gate = false;  // port 0x61 bit 0
    s_.last_update = now_();
    if (irq0_) irq0_(false);
}

std::uint32_t Pit8254::value_at(unsigned c, std::uint64_t t) const {
    const Counter& k = s_.counters[c];
    const std::uint32_t n = k.count;
    if (!k.armed || t < k.start) return n & 0xFFFF;
    if (!k.gate && gate_holds(k.mode)) return k.held;
    const std::uint64_t e = elapsed(k, t);
    const std::uint32_t mod = modulus(k);
    std::uint32_t v;
    switch (k.mode) {
        case 2:
            v = n - static_cast<std::uint32_t>(e % n);
            break;
        case 3: {
            // Down by two: through the high half, then the low half.
            const auto phase = static_cast<std::uint32_t>(e % n);
            const std::uint32_t high = (n + 1) / 2;
            const std::uint32_t in_half = phase < high ? phase : phase - high;
            const std::uint32_t top = (n & ~1u);
            v = top > 2 * in_half ? top - 2 * in_half : 0;
            break;
        }
        default:  // 0, 1, 4, 5: down from N, wrapping past zero
            v = static_cast<std::uint32_t>((n + mod - e % mod) % mod);
            break;
    }
    return v & 0xFFFF;
}

bool Pit8254::out_at(unsigned c, std::uint64_t t) const {
    const Counter& k = s_.counters[c];
    // After a control word OUT is low in mode 0, high in the others.
    if (!k.armed) return k.mode != 0;
    if (!k.gate) {
        if (k.mode == 2 || k.mode == 3) return true;
        if (gate_holds(k.mode)) return k.held_out;  // (stopped where it was)
    }
    if (t < k.start) return k.mode != 0 && k.mode != 1;
    const std::uint64_t e = elapsed(k, t);
    const std::uint32_t n = k.count;
    switch (k.mode) {
        case 0:
        case 1:
            return e >= n;
        case 2:
            return e % n != n - 1;
        case 3:
            return e % n < (n + 1) / 2;
        default:  // 4, 5: low for the one clock at the terminal count
            return e != n;
    }
}

std::optional<std::uint64_t> Pit8254::next_change(unsigned c, std::uint64_t t) const {
    const Counter& k = s_.counters[c];
    if (!k.armed || (!k.gate && (gate_holds(k.mode) || k.mode == 2 || k.mode == 3)))
        return std::nullopt;
    const std::uint32_t n = k.count;
    if (t < k.start) {
        switch (k.mode) {
            case 2:
                return k.start + n - 1;
            case 3:
                return k.start + (n + 1) / 2;
            default:
                return k.start + n;
        }
    }
    const std::uint64_t e = elapsed(k, t);
    switch (k.mode) {
        case 0:
        case 1:
            if (e < n) return k.start + n;
            return std::nullopt;
        case 2: {
            const std::uint64_t phase = e % n;
            const std::uint64_t base = t - phase;
            return phase < n - 1 ? base + n - 1 : base + n;
        }
        case 3: {
            const std::uint64_t phase = e % n;
            const std::uint64_t base = t - phase;
            const std::uint32_t high = (n + 1) / 2;
            return phase < high ? base + high : base + n;
        }
        default:
            if (e < n) return k.start + n;
            if (e == n) return k.start + n + 1;
            return std::nullopt;
    }
}

std::optional<std::uint64_t> Pit8254::next_event() const { return next_change(0, now_()); }

void Pit8254::update() {
    const std::uint64_t t = now_();
    const bool level = out_at(0, t);
    // A rising edge between the last update and now, even if OUT is back
    // where it was: the 8259A must see one.
    bool rose = false;
    if (t > s_.last_update) {
        std::optional<std::uint64_t> at = next_change(0, s_.last_update);
        for (int i = 0; i < 3 && at && *at <= t && !rose; ++i) {
            rose = out_at(0, *at);
            at = next_change(0, *at);
        }
    }
    s_.last_update = t;
    if (rose) {
        if (s_.irq0 && irq0_) irq0_(false);
        if (irq0_) irq0_(true);
        s_.irq0 = true;
    }
    if (level != s_.irq0) {
        s_.irq0 = level;
        if (irq0_) irq0_(level);
    }
}

void Pit8254::load(unsigned c, std::uint32_t n) {
    Counter& k = s_.counters[c];
    if (n == 0) n = modulus(k);
    if ((k.mode == 2 || k.mode == 3) && n < 2) n = 2;  // (1 is not a count there)
    const std::uint64_t t = now_();
    k.null_count = false;
    if ((k.mode == 2 || k.mode == 3) && k.armed && k.gate) {
        // A new count takes over at the end of the current period.
        const std::uint64_t e = elapsed(k, t);
        k.start += (e / k.count + 1) * k.count;
        k.count = n;
        return;
    }
    k.count = n;
    if (k.mode == 1 || k.mode == 5) return;  // waits for the gate
    k.armed = true;
    k.start = t + 1;
    k.held = n & 0xFFFF;
}

void Pit8254::control(std::uint8_t value) {
    const unsigned select = value >> 6;
    if (select == 3) {  // read-back
        for (unsigned c = 0; c < 3; ++c) {
            if (!(value & (2u << c))) continue;
            if (!(value & 0x20)) latch_count(c);
            if (!(value & 0x10)) latch_status(c);
        }
        return;
    }
    const unsigned access = value >> 4 & 3;
    if (access == 0) {
        latch_count(select);
        return;
    }
    Counter& k = s_.counters[select];
    const bool gate = k.gate;
    k = Counter{};
    k.gate = gate;
    k.access = static_cast<std::uint8_t>(access);
    k.mode = static_cast<std::uint8_t>(value >> 1 & 7);
    if (k.mode > 5) k.mode = static_cast<std::uint8_t>(k.mode - 4);
    k.bcd = (value & 1) != 0;
}

void Pit8254::latch_count(unsigned c) {
    Counter& k = s_.counters[c];
    if (k.count_latched) return;  // the first latch holds until read
    const std::uint32_t v = value_at(c, now_());
    k.latched = k.bcd ? to_bcd(v) : static_cast<std::uint16_t>(v);
    k.count_latched = true;
    k.read_msb = false;
}

void Pit8254::latch_status(unsigned c) {
    Counter& k = s_.counters[c];
    if (k.status_latched) return;
    k.status =
        static_cast<std::uint8_t>((out_at(c, now_()) ? 0x80 : 0) | (k.null_count ? 0x40 : 0) |
                                  k.access << 4 | k.mode << 1 | (k.bcd ? 1 : 0));
    k.status_latched = true;
}

std::uint8_t Pit8254::read_count(unsigned c) {
    Counter& k = s_.counters[c];
    if (k.status_latched) {
        k.status_latched = false;
        return k.status;
    }
    std::uint16_t v;
    if (k.count_latched) {
        v = k.latched;
    } else {
        const std::uint32_t live = value_at(c, now_());
        v = k.bcd ? to_bcd(live) : static_cast<std::uint16_t>(live);
    }
    bool msb = k.access == 2;
    if (k.access == 3) {
        msb = k.read_msb;
        k.read_msb = !k.read_msb;
    }
    // A latched count is released once read whole.
    if (k.count_latched && (k.access != 3 || msb)) k.count_latched = false;
    return static_cast<std::uint8_t>(msb ? v >> 8 : v);
}

void Pit8254::write_count(unsigned c, std::uint8_t value) {
    Counter& k = s_.counters[c];
    std::uint32_t n;
    switch (k.access) {
        case 1:
            n = value;
            break;
        case 2:
            n = std::uint32_t{value} << 8;
            break;
        default:
            if (!k.write_msb) {
                k.lsb = value;
                k.write_msb = true;
                k.null_count = true;
                // Mode 0: the first byte stops the count, OUT goes low.
                if (k.mode == 0) k.armed = false;
                return;
            }
            k.write_msb = false;
            n = k.lsb | std::uint32_t{value} << 8;
            break;
    }
    load(c, k.bcd ? from_bcd(n) : n);
}

void Pit8254::set_gate(unsigned c, bool level) {
    Counter& k = s_.counters[c];
    if (k.gate == level) return;
    const std::uint64_t t = now_();
    if (!level) {
        if (gate_holds(k.mode)) {
            k.held = value_at(c, t);
            k.held_out = out_at(c, t);
        }
        k.gate = false;
    } else {
        k.gate = true;
        if (k.mode == 1 || k.mode == 5) {  // a trigger
            k.armed = true;
            k.start = t + 1;
        } else if (k.mode == 2 || k.mode == 3) {  // starts over
            if (k.armed) k.start = t + 1;
        } else if (k.armed) {  // 0, 4: counting resumes from where it stopped
            const std::uint32_t done = (k.count + modulus(k) - k.held) % modulus(k);
            k.start = t + 1 >= done ? t + 1 - done : 0;
        }
    }
    if (c == 0) update();
}

std::uint32_t Pit8254::io_read(std::uint16_t port, unsigned) {
    if (port == kPortB) {
        const std::uint64_t t = now_();
        // Bit 4 toggles every 15.09 us (a DRAM refresh, 18 ticks), bit 5 is OUT2.
        return s_.port_b | ((t / 18) & 1) << 4 | (out_at(2, t) ? 0x20 : 0);
    }
    const unsigned c = port - kPort;
    if (c > 2) return 0xFF;  // the control word register is write-only
    return read_count(c);
}

void Pit8254::io_write(std::uint16_t port, unsigned, std::uint32_t value) {
    const auto byte = static_cast<std::uint8_t>(value);
    if (port == kPortB) {
        s_.port_b = byte & 3;
        set_gate(2, (byte & 1) != 0);
        return;
    }
    const unsigned c = port - kPort;
    if (c == 3) {
        control(byte);
    } else if (c < 3) {
        write_count(c, byte);
    }
    update();
}

}  // namespace jitterbug::devices
