#include "devices/uart16550.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace jitterbug::devices {
namespace {

// Register offsets (PC16550D, Table II; DLAB selects DLL/DLM at 0 and 1).
constexpr unsigned kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6,
                   kScr = 7;

constexpr std::uint8_t kIerRxData = 0x01, kIerThre = 0x02, kIerLineStatus = 0x04,
                       kIerModemStatus = 0x08;

// IIR: bit 0 clear while an interrupt is pending, bits 1-3 its source, bits
// 6-7 set in FIFO mode (Table IV).
constexpr std::uint8_t kIirNone = 0x01, kIirLineStatus = 0x06, kIirRxData = 0x04,
                       kIirTimeout = 0x0C, kIirThre = 0x02, kIirModemStatus = 0x00,
                       kIirFifos = 0xC0;

constexpr std::uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02;
// The FCR bits a write keeps: enable, DMA mode, RX trigger (1 and 2 clear
// themselves, 4 and 5 are reserved).
constexpr std::uint8_t kFcrKept = 0xC9;

constexpr std::uint8_t kLcrDlab = 0x80;

constexpr std::uint8_t kMcrOut2 = 0x08, kMcrWritable = 0x1F;

constexpr std::uint8_t kLsrDataReady = 0x01, kLsrOverrun = 0x02, kLsrParity = 0x04,
                       kLsrFraming = 0x08, kLsrBreak = 0x10, kLsrThre = 0x20, kLsrTemt = 0x40,
                       kLsrFifoError = 0x80;
constexpr std::uint8_t kLsrErrors = kLsrOverrun | kLsrParity | kLsrFraming | kLsrBreak;

constexpr std::uint8_t kMsrDcts = 0x01, kMsrDdsr = 0x02, kMsrTeri = 0x04, kMsrDdcd = 0x08,
                       kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;
// A terminal on the line: CTS, DSR and DCD asserted, no ring.
constexpr std::uint8_t kTerminalLines = kMsrCts | kMsrDsr | kMsrDcd;

// Half a bit at divisor 1, in ticks: 8 / 1.8432 MHz = 78125/18 ns.
constexpr std::uint64_t kTicksPerHalfBit = 78125;
// The character timeout: 4 character times without a character in or out.
constexpr std::uint64_t kTimeoutChars = 4;

constexpr std::array<std::size_t, 4> kTriggerLevels = {1, 4, 8, 14};

}  // namespace

Uart16550::Uart16550(std::uint16_t base, TransmitFn transmit, IrqFn irq, NowFn now)
    : base_(base), transmit_(std::move(transmit)), irq_(std::move(irq)), now_(std::move(now)) {}

void Uart16550::reset() {
    const std::uint64_t t = now_ticks();
    State fresh;
    fresh.host = std::move(s_.host);
    fresh.rx_activity = t;
    s_ = std::move(fresh);
    s_.host_arrival = t + char_ticks();
    advance(t);
    s_.irq = false;
    if (irq_) irq_(false);
}

void Uart16550::restore(const State& s) {
    s_ = s;
    s_.irq = interrupt_id() != kIirNone && (s_.mcr & kMcrOut2) != 0;
    if (irq_) irq_(s_.irq);
}

// LCR bits 0-1: 5 to 8 data bits; bit 3: a parity bit; bit 2: 2 stop bits,
// 1.5 with 5 data bits. A divisor of 0 counts as 65536 (the datasheet allows
// 1 to 65535). Without a clock a character takes no time.
std::uint64_t Uart16550::char_ticks() const {
    if (!now_) return 0;
    const std::uint64_t data_bits = 5 + (s_.lcr & 0x03);
    const std::uint64_t parity_bits = (s_.lcr & 0x08) ? 1 : 0;
    std::uint64_t stop_half_bits = 2;
    if (s_.lcr & 0x04) stop_half_bits = data_bits == 5 ? 3 : 4;
    const std::uint64_t half_bits = 2 * (1 + data_bits + parity_bits) + stop_half_bits;
    const std::uint64_t divisor = s_.divisor ? s_.divisor : 0x10000;
    return half_bits * divisor * kTicksPerHalfBit;
}

std::size_t Uart16550::trigger_level() const { return kTriggerLevels[s_.fcr >> 6]; }

// Received data available: the FIFO at or over its trigger level, or RBR
// full in 16450 mode.
bool Uart16550::rx_data_available() const {
    if (s_.rx.empty()) return false;
    return !fifo_enabled() || s_.rx.size() >= trigger_level();
}

// The timeout counts while the FIFO holds characters below its trigger
// level (at or over it, received data available is the interrupt).
bool Uart16550::timeout_armed() const {
    return fifo_enabled() && !s_.rx.empty() && s_.rx.size() < trigger_level() &&
           !s_.timeout_pending;
}

// MSR bits 4-7. In loopback the modem control outputs drive them: RTS to
// CTS, DTR to DSR, OUT1 to RI, OUT2 to DCD.
std::uint8_t Uart16550::modem_lines() const {
    if (!loopback()) return kTerminalLines;
    const unsigned m = s_.mcr;
    return static_cast<std::uint8_t>((m & 0x02) << 3 | (m & 0x01) << 5 | (m & 0x0C) << 4);
}

// The pending source of the highest priority (Table IV): line status,
// received data or timeout, THR empty, modem status.
std::uint8_t Uart16550::interrupt_id() const {
    if ((s_.ier & kIerLineStatus) && (s_.line_errors & kLsrErrors)) return kIirLineStatus;
    if (s_.ier & kIerRxData) {
        if (rx_data_available()) return kIirRxData;
        if (s_.timeout_pending && !s_.rx.empty()) return kIirTimeout;
    }
    if ((s_.ier & kIerThre) && s_.thre_pending) return kIirThre;
    if ((s_.ier & kIerModemStatus) && s_.msr_deltas) return kIirModemStatus;
    return kIirNone;
}

void Uart16550::drive_irq() {
    const bool level = interrupt_id() != kIirNone && (s_.mcr & kMcrOut2) != 0;
    if (level == s_.irq) return;
    s_.irq = level;
    if (irq_) irq_(level);
}

void Uart16550::receive(std::uint8_t byte) { enqueue_host({byte, 0}); }

void Uart16550::receive_with_error(std::uint8_t byte, LineError error) {
    enqueue_host({byte, error == LineError::kParity ? kLsrParity : kLsrFraming});
}

void Uart16550::receive_break() { enqueue_host({0, kLsrBreak}); }

void Uart16550::enqueue_host(RxChar c) {
    const std::uint64_t t = now_ticks();
    advance(t);
    if (s_.host.size() >= kHostQueueLimit) return;
    // An idle host starts sending now: the character is in a character time later.
    if (s_.host.empty()) s_.host_arrival = t + char_ticks();
    s_.host.push_back(c);
    advance(t);
    drive_irq();
}

std::optional<std::uint64_t> Uart16550::next_event() const {
    std::optional<std::uint64_t> next;
    if (!s_.host.empty() && host_can_send()) next = s_.host_arrival;
    if (timeout_armed()) {
        const std::uint64_t due = s_.rx_activity + kTimeoutChars * char_ticks();
        next = next ? std::min(*next, due) : due;
    }
    if (!next) return std::nullopt;
    return (*next + kTicksPerNs - 1) / kTicksPerNs;
}

void Uart16550::update() {
    advance(now_ticks());
    drive_irq();
}

void Uart16550::advance(std::uint64_t t) {
    while (!s_.host.empty() && s_.host_arrival <= t && host_can_send()) {
        const std::uint64_t at = s_.host_arrival;
        check_timeout(at);  // a timeout due before this character came in
        take_in(s_.host.front(), at);
        s_.host.pop_front();
        s_.host_arrival = at + char_ticks();
    }
    check_timeout(t);
}

void Uart16550::check_timeout(std::uint64_t t) {
    if (timeout_armed() && s_.rx_activity + kTimeoutChars * char_ticks() <= t) {
        s_.timeout_pending = true;
    }
}

void Uart16550::resume_host(std::uint64_t t) {
    // Still waiting after advance(t): it was held back, and goes now.
    if (!s_.host.empty() && s_.host_arrival <= t && host_can_send()) {
        s_.host_arrival = t + char_ticks();
    }
}

// A character from the receive shift register. Its error bits show in LSR
// when it is at the top of the FIFO. With no room it is an overrun: in FIFO
// mode the new character is lost, in 16450 mode it overwrites RBR.
void Uart16550::take_in(RxChar c, std::uint64_t t) {
    if (s_.rx.size() >= rx_capacity()) {
        s_.line_errors |= kLsrOverrun;
        if (fifo_enabled()) return;
        s_.rx.back() = c;
        s_.line_errors |= c.errors;
        return;
    }
    s_.rx.push_back(c);
    s_.rx_activity = t;
    if (s_.rx.size() == 1) s_.line_errors |= c.errors;
    if (fifo_enabled() && c.errors) s_.fifo_error = true;
}

std::uint32_t Uart16550::io_read(std::uint16_t port, unsigned size) {
    const std::uint64_t t = now_ticks();
    std::uint32_t v = 0;
    for (unsigned i = 0; i < size; ++i) {
        advance(t);
        v |= std::uint32_t{read_register((port + i - base_) & 7, t)} << (8 * i);
        resume_host(t);
        advance(t);
    }
    drive_irq();
    return v;
}

void Uart16550::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    const std::uint64_t t = now_ticks();
    for (unsigned i = 0; i < size; ++i) {
        advance(t);
        write_register((port + i - base_) & 7, static_cast<std::uint8_t>(value >> (8 * i)), t);
        resume_host(t);
        advance(t);
    }
    drive_irq();
}

std::uint8_t Uart16550::read_register(unsigned reg, std::uint64_t t) {
    const bool dlab = (s_.lcr & kLcrDlab) != 0;
    switch (reg) {
        case kRbrThr:
            return dlab ? static_cast<std::uint8_t>(s_.divisor) : read_rbr(t);
        case kIer:
            return dlab ? static_cast<std::uint8_t>(s_.divisor >> 8) : s_.ier;
        case kIirFcr:
            return read_iir();
        case kLcr:
            return s_.lcr;
        case kMcr:
            return s_.mcr;
        case kLsr:
            return read_lsr();
        case kMsr:
            return read_msr();
        case kScr:
        default:
            return s_.scr;
    }
}

void Uart16550::write_register(unsigned reg, std::uint8_t value, std::uint64_t t) {
    const bool dlab = (s_.lcr & kLcrDlab) != 0;
    switch (reg) {
        case kRbrThr:
            if (dlab) {
                s_.divisor = static_cast<std::uint16_t>((s_.divisor & 0xFF00) | value);
            } else {
                write_thr(value, t);
            }
            return;
        case kIer:
            if (dlab) {
                s_.divisor = static_cast<std::uint16_t>((s_.divisor & 0x00FF) | value << 8);
            } else {
                write_ier(value);
            }
            return;
        case kIirFcr:
            return write_fcr(value);
        case kLcr:
            return write_lcr(value, t);
        case kMcr:
            return write_mcr(value, t);
        case kLsr:
        case kMsr:
            return;  // read-only (writing them is for factory test)
        case kScr:
        default:
            s_.scr = value;
            return;
    }
}

// Reading RBR clears the timeout interrupt and restarts its timer; the next
// character up shows its errors. (An empty RBR reads as 0.)
std::uint8_t Uart16550::read_rbr(std::uint64_t t) {
    s_.timeout_pending = false;
    s_.rx_activity = t;
    if (s_.rx.empty()) return 0;
    const std::uint8_t data = s_.rx.front().data;
    s_.rx.pop_front();
    if (!s_.rx.empty()) s_.line_errors |= s_.rx.front().errors;
    return data;
}

// Reading IIR clears the THR-empty interrupt when that is what it reports.
std::uint8_t Uart16550::read_iir() {
    const std::uint8_t id = interrupt_id();
    if (id == kIirThre) s_.thre_pending = false;
    return static_cast<std::uint8_t>(id | (fifo_enabled() ? kIirFifos : 0));
}

// The transmitter is always empty (THRE, TEMT). Reading clears OE, PE, FE
// and BI, and bit 7 unless there are "subsequent errors in the FIFO": errors
// of characters behind the top one, whose errors this read reported.
std::uint8_t Uart16550::read_lsr() {
    std::uint8_t lsr = s_.line_errors | kLsrThre | kLsrTemt;
    if (!s_.rx.empty()) lsr |= kLsrDataReady;
    if (s_.fifo_error) lsr |= kLsrFifoError;
    s_.line_errors = 0;
    s_.fifo_error =
        fifo_enabled() && s_.rx.size() > 1 &&
        std::any_of(s_.rx.begin() + 1, s_.rx.end(), [](const RxChar& c) { return c.errors != 0; });
    return lsr;
}

std::uint8_t Uart16550::read_msr() {
    const auto msr = static_cast<std::uint8_t>(modem_lines() | s_.msr_deltas);
    s_.msr_deltas = 0;
    return msr;
}

// Writing THR clears the THR-empty interrupt; the byte leaves at once (to
// the host, or in loopback to the receiver, unless a looped break holds the
// line at spacing) and THR is empty again, which raises it anew.
void Uart16550::write_thr(std::uint8_t value, std::uint64_t t) {
    if (loopback()) {
        if (!looped_break()) take_in({value, 0}, t);
    } else if (transmit_) {
        transmit_(value);
    }
    s_.thre_pending = true;
}

// Enabling ETBEI while THR is empty raises the THR-empty interrupt. Bits
// 4-7 are always 0.
void Uart16550::write_ier(std::uint8_t value) {
    const auto ier = static_cast<std::uint8_t>(value & 0x0F);
    if ((ier & kIerThre) && !(s_.ier & kIerThre)) s_.thre_pending = true;
    s_.ier = ier;
}

// FCR bit 0 switches the FIFOs, emptying them when it changes; the other
// bits are written only along with bit 0 set. Bit 1 empties the receive
// FIFO (not the shift register: a character arriving still comes in); bit 2
// the transmit FIFO, which is always empty here.
void Uart16550::write_fcr(std::uint8_t value) {
    const bool enable = (value & kFcrEnable) != 0;
    if (enable != fifo_enabled()) clear_rx();
    if (!enable) {
        s_.fcr = static_cast<std::uint8_t>(s_.fcr & ~kFcrEnable);
        return;
    }
    s_.fcr = value & kFcrKept;
    if (value & kFcrClearRx) clear_rx();
}

void Uart16550::clear_rx() {
    s_.rx.clear();
    s_.timeout_pending = false;
    s_.fifo_error = false;
}

// A break set in loopback reaches the receiver: one zero character with BI.
void Uart16550::write_lcr(std::uint8_t value, std::uint64_t t) {
    const bool was_breaking = looped_break();
    s_.lcr = value;
    if (!was_breaking && looped_break()) take_in({0, kLsrBreak}, t);
}

// MCR bits 5-7 are always 0. A change of the modem lines (by entering or
// leaving loopback, or of the outputs in loopback) sets their deltas: DCTS,
// DDSR and DDCD on any change, TERI when RI goes from 1 to 0.
void Uart16550::write_mcr(std::uint8_t value, std::uint64_t t) {
    const std::uint8_t before = modem_lines();
    const bool was_breaking = looped_break();
    s_.mcr = value & kMcrWritable;
    const std::uint8_t after = modem_lines();
    const unsigned changed = before ^ after;
    if (changed & kMsrCts) s_.msr_deltas |= kMsrDcts;
    if (changed & kMsrDsr) s_.msr_deltas |= kMsrDdsr;
    if (changed & kMsrDcd) s_.msr_deltas |= kMsrDdcd;
    if ((before & kMsrRi) && !(after & kMsrRi)) s_.msr_deltas |= kMsrTeri;
    if (!was_breaking && looped_break()) take_in({0, kLsrBreak}, t);
}

}  // namespace jitterbug::devices
