// The 8254 programmable interval timer (Intel 8254 datasheet, 231164) of a
// PC: three counters clocked at 1.193182 MHz on ports 0x40-0x43 — counter
// 0's OUT is IRQ 0, counter 2's gate and OUT are bits 0 and 5 of port 0x61
// (system control port B, also the speaker enable and the refresh toggle
// kernels and BIOSes time short delays with).
//
// Counters are computed, not stepped: each remembers when its count was
// loaded (or its gate triggered it) and derives its value and OUT at any
// tick of the machine's clock (`now`). The machine asks next_event() when
// counter 0's OUT changes next, and calls update() then, which raises or
// lowers IRQ 0 — with a whole pulse when late enough to have missed one, so
// that no period goes without its edge.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class Pit8254 final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kPort = 0x40;  // 0x40-0x43
    static constexpr std::uint16_t kPortB = 0x61;
    static constexpr std::uint64_t kHz = 1'193'182;
    using NowFn = std::function<std::uint64_t()>;  // the current tick
    using LineFn = std::function<void(bool level)>;

    Pit8254(NowFn now, LineFn irq0);

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    // The gate input of counter `c` (0 and 1 are tied high on a PC).
    void set_gate(unsigned c, bool level);
    bool out(unsigned c) const { return out_at(c, now_()); }
    // When counter 0's OUT changes next, after now; none when it will not.
    std::optional<std::uint64_t> next_event() const;
    // Brings IRQ 0 in line with counter 0's OUT (the machine calls it at
    // the tick next_event() gave).
    void update();

    struct Counter {
        std::uint8_t mode = 0;
        std::uint8_t access = 3;  // RW: 1 LSB, 2 MSB, 3 LSB then MSB
        bool bcd = false;
        std::uint32_t count = 0x10000;  // N: 1 to 0x10000 (binary), 10000 (BCD)
        bool armed = false;             // a count is loaded (and, modes 1/5, triggered)
        std::uint64_t start = 0;        // the tick N is in the counting element
        bool gate = true;
        std::uint32_t held = 0;  // modes 0/4: the value when the gate stopped counting
        bool held_out = false;   // ... and OUT then
        bool null_count = true;
        bool write_msb = false;  // the next count byte written is the MSB
        std::uint8_t lsb = 0;
        bool read_msb = false;  // the next count byte read is the MSB
        bool count_latched = false;
        std::uint16_t latched = 0;
        bool status_latched = false;
        std::uint8_t status = 0;
        bool operator==(const Counter&) const = default;
    };
    struct State {
        std::array<Counter, 3> counters{};
        std::uint8_t port_b = 0;  // bits 0 (gate 2) and 1 (speaker)
        std::uint64_t last_update = 0;
        bool irq0 = false;
        bool operator==(const State&) const = default;
    };
    void reset();
    const State& save() const { return s_; }
    void restore(const State& s) { s_ = s; }

  private:
    std::uint32_t value_at(unsigned c, std::uint64_t t) const;
    bool out_at(unsigned c, std::uint64_t t) const;
    std::optional<std::uint64_t> next_change(unsigned c, std::uint64_t t) const;
    void control(std::uint8_t value);
    void write_count(unsigned c, std::uint8_t value);
    std::uint8_t read_count(unsigned c);
    void latch_count(unsigned c);
    void latch_status(unsigned c);
    void load(unsigned c, std::uint32_t n);

    NowFn now_;
    LineFn irq0_;
    State s_;
};

}  // namespace jitterbug::devices
