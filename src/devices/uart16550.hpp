// Uart16550: a National Semiconductor 16550A UART (PC16550D datasheet) at
// ports base..base+7, wired as on a PC: INTRPT reaches the interrupt line
// only while MCR.OUT2 is set.
//
// Outwards the line to the host is instantaneous: a byte written to THR goes
// to `transmit` at once and the transmitter is empty again. Inwards it runs
// at the line's rate: bytes from the host (receive()) wait on the host side
// and enter the receive FIFO one character time apart, a character time
// being (start + data + parity + stop bits) * 16 * divisor / 1.8432 MHz as
// LCR and the divisor latch say. The host holds its next byte back while the
// FIFO is full, as a terminal that waits for room would, so host bytes are
// never lost to an overrun (bytes looped back in loopback mode can be).
//
// Time is the machine's clock (`now`, ns). The machine calls update() at the
// time next_event() gives; every port access brings the device up to date
// first, so what the guest sees does not depend on when update() ran. With
// no clock, time stands still at 0 and a character takes no time: host bytes
// enter the FIFO at once as far as there is room, and the character timeout
// is immediate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class Uart16550 final : public PortIoHandler {
  public:
    using TransmitFn = std::function<void(std::uint8_t)>;
    using IrqFn = std::function<void(bool level)>;
    using NowFn = std::function<std::uint64_t()>;  // the machine's clock, ns

    static constexpr std::size_t kFifoSize = 16;
    // Host bytes beyond this many waiting are dropped.
    static constexpr std::size_t kHostQueueLimit = 64 * 1024;
    // The device's time unit: 1/18 ns, in which half a bit at divisor 1
    // (8 / 1.8432 MHz = 78125/18 ns) is whole, so character times (1.5 stop
    // bits included) are exact.
    static constexpr std::uint64_t kTicksPerNs = 18;

    Uart16550(std::uint16_t base, TransmitFn transmit, IrqFn irq = {}, NowFn now = {});

    std::uint16_t base() const { return base_; }

    // The host side of the line. A byte the host sends, queued behind those
    // still waiting (dropped when kHostQueueLimit are).
    void receive(std::uint8_t byte);
    // A character that arrives with a parity or framing error.
    enum class LineError : std::uint8_t { kParity, kFraming };
    void receive_with_error(std::uint8_t byte, LineError error);
    // A break: the line held at spacing for a character time or more, which
    // the receiver takes in as one zero character with LSR.BI.
    void receive_break();
    // Host characters not yet in the receive FIFO (as of the last update or
    // port access).
    std::size_t pending_input() const { return s_.host.size(); }

    // When update() next has something to do (ns): the next host character
    // entering the FIFO, or the character timeout; none when neither can come.
    std::optional<std::uint64_t> next_event() const;
    // Moves the host characters whose time has come into the FIFO, raises the
    // character timeout when due, and sets the interrupt line.
    void update();

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    bool irq_level() const { return s_.irq; }

    // A received character and its error bits (LSR.PE, LSR.FE, LSR.BI): the
    // 16550's receive FIFO keeps 3 error bits with each byte.
    struct RxChar {
        std::uint8_t data = 0;
        std::uint8_t errors = 0;
        bool operator==(const RxChar&) const = default;
    };
    struct State {
        // DLM:DLL. The datasheet leaves it undefined at power-on: 9600 baud.
        std::uint16_t divisor = 12;
        std::uint8_t ier = 0;
        std::uint8_t fcr = 0;  // what FCR keeps: FIFO enable, DMA mode, RX trigger
        std::uint8_t lcr = 0;
        std::uint8_t mcr = 0;
        std::uint8_t scr = 0;
        std::uint8_t line_errors = 0;    // LSR.OE/PE/FE/BI, until LSR is read
        bool fifo_error = false;         // LSR bit 7, until LSR is read
        std::uint8_t msr_deltas = 0;     // MSR.DCTS/DDSR/TERI/DDCD, until MSR is read
        bool thre_pending = false;       // the THR-empty interrupt
        bool timeout_pending = false;    // the character timeout interrupt
        std::deque<RxChar> rx;           // the receive FIFO (RBR alone: at most 1)
        std::deque<RxChar> host;         // the host's characters still to come
        std::uint64_t host_arrival = 0;  // ticks: when host.front() is all in
        std::uint64_t rx_activity = 0;   // ticks: the last character in or RBR read
        bool irq = false;
        bool operator==(const State&) const = default;
    };
    // Power-on state. The host's waiting characters are the terminal's, not
    // the chip's: they stay, and start over at the power-on rate.
    void reset();
    State save() const { return s_; }
    // Takes `s` and drives the interrupt line to its level.
    void restore(const State& s);

  private:
    std::uint64_t now_ticks() const { return now_ ? now_() * kTicksPerNs : 0; }
    std::uint64_t char_ticks() const;
    bool fifo_enabled() const { return (s_.fcr & 0x01) != 0; }
    bool loopback() const { return (s_.mcr & 0x10) != 0; }
    bool looped_break() const { return loopback() && (s_.lcr & 0x40) != 0; }
    std::size_t rx_capacity() const { return fifo_enabled() ? kFifoSize : 1; }
    std::size_t trigger_level() const;
    bool rx_data_available() const;
    bool timeout_armed() const;
    std::uint8_t modem_lines() const;
    std::uint8_t interrupt_id() const;
    bool host_can_send() const { return !loopback() && s_.rx.size() < rx_capacity(); }

    void enqueue_host(RxChar c);
    // Brings the receiver up to tick `t`: host arrivals, then the timeout.
    void advance(std::uint64_t t);
    void check_timeout(std::uint64_t t);
    // A host character held back (FIFO full, loopback) is sent once it can be.
    void resume_host(std::uint64_t t);
    void take_in(RxChar c, std::uint64_t t);
    void drive_irq();

    std::uint8_t read_register(unsigned reg, std::uint64_t t);
    void write_register(unsigned reg, std::uint8_t value, std::uint64_t t);
    std::uint8_t read_rbr(std::uint64_t t);
    std::uint8_t read_iir();
    std::uint8_t read_lsr();
    std::uint8_t read_msr();
    void write_thr(std::uint8_t value, std::uint64_t t);
    void write_ier(std::uint8_t value);
    void write_fcr(std::uint8_t value);
    void write_lcr(std::uint8_t value, std::uint64_t t);
    void write_mcr(std::uint8_t value, std::uint64_t t);
    void clear_rx();

    std::uint16_t base_;
    TransmitFn transmit_;
    IrqFn irq_;
    NowFn now_;
    State s_;
};

}  // namespace jitterbug::devices
