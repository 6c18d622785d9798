// X87ErrorLatch: a PC chipset's x87 error logic for CR0.NE = 0 (the AT's
// and the PIIX's; SDM Vol. 1, D.2.1). FERR# going active sets a latch that
// drives IRQ 13; a write to port 0xF0 (the IRQ 13 handler's) clears the
// latch and asserts IGNNE#, which stays until FERR# goes inactive (FNCLEX,
// FNINIT) so that the x87 instruction after the handler can run.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class X87ErrorLatch final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kPort = 0xF0;
    using LineFn = std::function<void(bool level)>;

    X87ErrorLatch(LineFn irq13, LineFn ignne)
        : irq13_(std::move(irq13)), ignne_(std::move(ignne)) {}

    // The CPU's FERR# output.
    void ferr_changed(bool active) {
        if (active == ferr_) return;
        ferr_ = active;
        if (active) {
            set_irq(true);
        } else {
            set_ignne(false);
        }
    }

    std::uint32_t io_read(std::uint16_t, unsigned size) override {
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    }
    void io_write(std::uint16_t, unsigned, std::uint32_t) override {
        set_irq(false);
        if (ferr_) set_ignne(true);
    }

    void reset() {
        ferr_ = false;
        set_irq(false);
        set_ignne(false);
    }

    struct State {
        bool ferr = false, irq = false, ignne = false;
        bool operator==(const State&) const = default;
    };
    State save() const { return {ferr_, irq_, ignne_level_}; }
    void restore(const State& s) {
        ferr_ = s.ferr;
        irq_ = s.irq;
        ignne_level_ = s.ignne;
        if (irq13_) irq13_(irq_);
        if (ignne_) ignne_(ignne_level_);
    }

  private:
    void set_irq(bool level) {
        if (level == irq_) return;
        irq_ = level;
        if (irq13_) irq13_(level);
    }
    void set_ignne(bool level) {
        if (level == ignne_level_) return;
        ignne_level_ = level;
        if (ignne_) ignne_(level);
    }

    LineFn irq13_;
    LineFn ignne_;
    bool ferr_ = false;
    bool irq_ = false;
    bool ignne_level_ = false;
};

}  // namespace jitterbug::devices
