// Cmos: the PC's MC146818 real-time clock and its battery-backed NVRAM at
// ports 0x70 (index, bit 7 = NMI disable) and 0x71 (data) (MC146818A
// datasheet). The clock registers 0x00-0x09 and the century (0x32) show the
// time of a clock that started at `start_epoch` (Unix seconds) when the
// machine's clock (`now`, ns) was 0, in BCD or binary and 12 or 24 hours as
// register B says; a guest that sets the time (SET) moves it. Register A's
// UIP is up for the 244 us before each second's update; register C's PF,
// AF and UF (periodic at the rate A selects, alarm, update ended) raise IRQ
// 8 through IRQF when register B enables them, until C is read.
// The machine fills in the memory-size fields the firmware reads:
//   0x15/0x16 base memory in KiB (640)
//   0x17/0x18 and 0x30/0x31 extended memory above 1 MiB in KiB (max 65535)
//   0x34/0x35 memory above 16 MiB in 64 KiB blocks
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class Cmos final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kIndexPort = 0x70;
    static constexpr std::uint16_t kDataPort = 0x71;

    using NowFn = std::function<std::uint64_t()>;  // the machine's clock, ns
    using LineFn = std::function<void(bool level)>;

    explicit Cmos(NowFn clock = {}, LineFn irq8 = {}, std::int64_t start_epoch = 0);

    // When the next periodic, update or alarm event falls (ns), if enabled.
    std::optional<std::uint64_t> next_event() const;
    // Sets the flags of the events up to now, and IRQ 8.
    void update();

    std::uint8_t get(std::uint8_t index) const { return nvram_[index & 0x7F]; }
    void set(std::uint8_t index, std::uint8_t value) { nvram_[index & 0x7F] = value; }
    // Writes the standard memory-size fields for `ram_bytes` of RAM.
    void set_memory_size(std::uint64_t ram_bytes);
    bool nmi_disabled() const { return nmi_disabled_; }

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    struct State {
        std::array<std::uint8_t, 128> nvram{};
        std::uint8_t index = 0;
        bool nmi_disabled = false;
        std::int64_t offset = 0;
        std::uint64_t last_update = 0;
        bool irq = false;
        bool operator==(const State&) const = default;
    };
    State save() const { return {nvram_, index_, nmi_disabled_, offset_, last_update_, irq_}; }
    // (IRQ 8 goes to the level the state had.)
    void restore(const State& s);

  private:
    std::uint64_t now() const { return now_ ? now_() : 0; }
    std::int64_t seconds_at(std::uint64_t ns) const;
    // The clock registers for Unix time `t`, in register B's format.
    void show_time(std::int64_t t);
    // Unix time from the clock registers as the guest wrote them.
    std::int64_t written_time() const;
    std::uint64_t periodic_ns() const;  // 0: off
    void set_irq();

    NowFn now_;
    LineFn irq8_;
    std::array<std::uint8_t, 128> nvram_{};
    std::uint8_t index_ = 0;
    bool nmi_disabled_ = false;
    std::int64_t offset_ = 0;  // Unix seconds at machine time 0
    std::uint64_t last_update_ = 0;
    bool irq_ = false;
};

}  // namespace jitterbug::devices
