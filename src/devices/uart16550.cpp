#include "devices/uart16550.hpp"

#include <utility>

namespace jitterbug::devices {
namespace {

constexpr std::size_t kFifoSize = 16;

// Register offsets and bits (PC16550D, Table II).
constexpr unsigned kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6,
                   kScr = 7;
constexpr std::uint8_t kIerRx = 0x01, kIerThre = 0x02, kIerLineStatus = 0x04;
constexpr std::uint8_t kLsrDataReady = 0x01, kLsrOverrun = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr std::uint8_t kMcrOut2 = 0x08;

}  // namespace

Uart16550::Uart16550(std::uint16_t base, TransmitFn transmit, IrqFn irq)
    : base_(base), transmit_(std::move(transmit)), irq_(std::move(irq)) {}

void Uart16550::reset() {
    divisor_ = 12;
    ier_ = fcr_ = lcr_ = mcr_ = scr_ = 0;
    overrun_ = thre_pending_ = false;
    rx_.clear();
    update_irq();
}

void Uart16550::receive(std::uint8_t byte) {
    const std::size_t capacity = (fcr_ & 1) ? kFifoSize : 1;
    if (rx_.size() >= capacity) {
        overrun_ = true;
    } else {
        rx_.push_back(byte);
    }
    update_irq();
}

std::uint8_t Uart16550::interrupt_id() const {
    // Priority order (PC16550D, Table IV): line status, received data, THR empty.
    if ((ier_ & kIerLineStatus) && overrun_) return 0x06;
    if ((ier_ & kIerRx) && !rx_.empty()) return 0x04;
    if ((ier_ & kIerThre) && thre_pending_) return 0x02;
    return 0x01;  // none pending
}

void Uart16550::update_irq() {
    const bool level = interrupt_id() != 0x01 && (mcr_ & kMcrOut2);
    if (level != irq_level_) {
        irq_level_ = level;
        if (irq_) irq_(level);
    }
}

std::uint8_t Uart16550::read_register(unsigned reg) {
    switch (reg) {
        case kRbrThr: {
            if (dlab()) return static_cast<std::uint8_t>(divisor_);
            if (rx_.empty()) return 0;
            const std::uint8_t b = rx_.front();
            rx_.pop_front();
            update_irq();
            return b;
        }
        case kIer:
            return dlab() ? static_cast<std::uint8_t>(divisor_ >> 8) : ier_;
        case kIirFcr: {
            const std::uint8_t id = interrupt_id();
            // Reading IIR while it reports THR empty clears that source.
            if (id == 0x02) {
                thre_pending_ = false;
                update_irq();
            }
            return static_cast<std::uint8_t>(id | ((fcr_ & 1) ? 0xC0 : 0));
        }
        case kLcr:
            return lcr_;
        case kMcr:
            return mcr_;
        case kLsr: {
            std::uint8_t lsr = kLsrThre | kLsrTemt;
            if (!rx_.empty()) lsr |= kLsrDataReady;
            if (overrun_) lsr |= kLsrOverrun;
            overrun_ = false;  // cleared by reading LSR
            update_irq();
            return lsr;
        }
        case kMsr:
            if (loopback()) {
                // CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2.
                return static_cast<std::uint8_t>(((mcr_ & 0x02) << 3) | ((mcr_ & 0x01) << 5) |
                                                 ((mcr_ & 0x04) << 4) | ((mcr_ & 0x08) << 4));
            }
            return 0xB0;  // CTS, DSR and DCD: a terminal is attached
        default:
            return scr_;
    }
}

void Uart16550::write_register(unsigned reg, std::uint8_t value) {
    switch (reg) {
        case kRbrThr:
            if (dlab()) {
                divisor_ = static_cast<std::uint16_t>((divisor_ & 0xFF00) | value);
                return;
            }
            if (loopback()) {
                receive(value);
            } else if (transmit_) {
                transmit_(value);
            }
            // The byte left at once: the transmitter is empty again.
            thre_pending_ = true;
            update_irq();
            return;
        case kIer:
            if (dlab()) {
                divisor_ = static_cast<std::uint16_t>((divisor_ & 0x00FF) | (value << 8));
                return;
            }
            // Enabling the THRE interrupt while THR is empty raises it (PC16550D).
            if ((value & kIerThre) && !(ier_ & kIerThre)) thre_pending_ = true;
            ier_ = value & 0x0F;
            update_irq();
            return;
        case kIirFcr:
            if (value & 0x02) rx_.clear();  // reset the receive FIFO
            fcr_ = value & 0xC9;
            update_irq();
            return;
        case kLcr:
            lcr_ = value;
            return;
        case kMcr:
            mcr_ = value & 0x1F;
            update_irq();
            return;
        case kLsr:
        case kMsr:
            return;  // read-only here
        default:
            scr_ = value;
            return;
    }
}

std::uint32_t Uart16550::io_read(std::uint16_t port, unsigned size) {
    std::uint32_t v = 0;
    for (unsigned i = 0; i < size; ++i) {
        v |= std::uint32_t{read_register((port + i - base_) & 7)} << (8 * i);
    }
    return v;
}

void Uart16550::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    for (unsigned i = 0; i < size; ++i) {
        write_register((port + i - base_) & 7, static_cast<std::uint8_t>(value >> (8 * i)));
    }
}

}  // namespace jitterbug::devices
