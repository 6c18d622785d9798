// Uart16550: a National Semiconductor 16550A UART (PC16550D datasheet). The
// line to the host is instantaneous: a byte written to THR is delivered to
// the host at once, so the transmitter is always empty; bytes from the host
// wait in the receive FIFO. Interrupt requests go out through `irq`, gated by
// MCR.OUT2 as on a PC.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class Uart16550 final : public PortIoHandler {
  public:
    using TransmitFn = std::function<void(std::uint8_t)>;
    using IrqFn = std::function<void(bool level)>;

    Uart16550(std::uint16_t base, TransmitFn transmit, IrqFn irq = {});

    std::uint16_t base() const { return base_; }
    void reset();
    // A byte arriving from the host side of the line.
    void receive(std::uint8_t byte);

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

  private:
    std::uint8_t read_register(unsigned reg);
    void write_register(unsigned reg, std::uint8_t value);
    std::uint8_t interrupt_id() const;
    void update_irq();
    bool dlab() const { return (lcr_ & 0x80) != 0; }
    bool loopback() const { return (mcr_ & 0x10) != 0; }

    std::uint16_t base_;
    TransmitFn transmit_;
    IrqFn irq_;

    std::uint16_t divisor_ = 12;  // 9600 baud
    std::uint8_t ier_ = 0;
    std::uint8_t fcr_ = 0;
    std::uint8_t lcr_ = 0;
    std::uint8_t mcr_ = 0;
    std::uint8_t scr_ = 0;
    bool overrun_ = false;
    bool thre_pending_ = false;  // the "THR empty" interrupt, until IIR read or THR written
    bool irq_level_ = false;
    std::deque<std::uint8_t> rx_;
};

}  // namespace jitterbug::devices
