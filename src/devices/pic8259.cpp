#include "devices/pic8259.hpp"

namespace jitterbug::devices {

void Pic8259::set_line(unsigned irq, bool level) {
    const auto bit = static_cast<std::uint8_t>(1u << irq);
    const bool was = (s_.lines & bit) != 0;
    s_.lines = static_cast<std::uint8_t>(level ? s_.lines | bit : s_.lines & ~bit);
    if (level_triggered(irq)) {
        s_.irr = static_cast<std::uint8_t>(level ? s_.irr | bit : s_.irr & ~bit);
    } else if (level && !was) {
        s_.irr |= bit;
    } else if (!level) {
        s_.irr = static_cast<std::uint8_t>(s_.irr & ~bit);
    }
}

int Pic8259::next_request() const {
    const auto requests = static_cast<std::uint8_t>(s_.irr & ~s_.imr);
    if (requests == 0) return -1;
    for (unsigned p = 0; p < 8; ++p) {
        const unsigned irq = (s_.lowest_priority + 1 + p) & 7;
        const auto bit = static_cast<std::uint8_t>(1u << irq);
        if (s_.isr & bit) {
            // In service: it holds off itself and every lower priority, but
            // in special mask mode only itself, and in special fully nested
            // mode a slave's input may interrupt its own service (the slave
            // ranks its requests).
            if (s_.special_mask) continue;
            if (s_.special_fully_nested && cascades(irq) && (requests & bit))
                return static_cast<int>(irq);
            return -1;
        }
        if (requests & bit) return static_cast<int>(irq);
    }
    return -1;
}

int Pic8259::highest_in_service() const {
    for (unsigned p = 0; p < 8; ++p) {
        const unsigned irq = (s_.lowest_priority + 1 + p) & 7;
        if (s_.isr >> irq & 1) return static_cast<int>(irq);
    }
    return -1;
}

unsigned Pic8259::acknowledge() {
    const int found = next_request();
    if (found < 0) return 7;  // spurious: nothing set
    const auto irq = static_cast<unsigned>(found);
    const auto bit = static_cast<std::uint8_t>(1u << irq);
    // (A level-triggered request follows its line: it stays while high.)
    if (!level_triggered(irq)) s_.irr = static_cast<std::uint8_t>(s_.irr & ~bit);
    if (s_.auto_eoi) {
        if (s_.rotate_on_auto_eoi) s_.lowest_priority = static_cast<std::uint8_t>(irq);
    } else {
        s_.isr |= bit;
    }
    return irq;
}

void Pic8259::initialize(std::uint8_t icw1) {
    // The inputs and the ELCR are not the 8259's to reset.
    const std::uint8_t lines = s_.lines;
    const std::uint8_t elcr = s_.elcr;
    s_ = State{};
    s_.lines = lines;
    s_.elcr = elcr;
    s_.icw4_expected = (icw1 & 0x01) != 0;
    s_.single = (icw1 & 0x02) != 0;
    s_.level_mode = (icw1 & 0x08) != 0;
    s_.init_step = 2;
    // The edge sense is reset: an edge input must rise again; a level input
    // high now requests.
    for (unsigned irq = 0; irq < 8; ++irq) {
        if (level_triggered(irq) && (lines >> irq & 1))
            s_.irr |= static_cast<std::uint8_t>(1u << irq);
    }
}

void Pic8259::end_of_interrupt(unsigned irq, bool rotate) {
    s_.isr = static_cast<std::uint8_t>(s_.isr & ~(1u << irq));
    if (rotate) s_.lowest_priority = static_cast<std::uint8_t>(irq);
}

// OCW2: R, SL, EOI and the level (datasheet, figure 8).
void Pic8259::command(std::uint8_t ocw2) {
    const unsigned level = ocw2 & 7;
    switch (ocw2 >> 5) {
        case 0:  // rotate in automatic EOI mode: clear
            s_.rotate_on_auto_eoi = false;
            break;
        case 4:  // ... set
            s_.rotate_on_auto_eoi = true;
            break;
        case 1:  // non-specific EOI
        case 5:  // rotate on non-specific EOI
            if (const int irq = highest_in_service(); irq >= 0)
                end_of_interrupt(static_cast<unsigned>(irq), (ocw2 >> 5) == 5);
            break;
        case 3:  // specific EOI
            end_of_interrupt(level, false);
            break;
        case 7:  // rotate on specific EOI
            end_of_interrupt(level, true);
            break;
        case 6:  // set priority: `level` becomes the lowest
            s_.lowest_priority = static_cast<std::uint8_t>(level);
            break;
        default:  // 2: no operation
            break;
    }
}

std::uint8_t Pic8259::read(unsigned a0) {
    if (s_.poll) {
        // The poll: the highest request, acknowledged as by INTA.
        s_.poll = false;
        const int irq = next_request();
        if (irq < 0) return 0;
        acknowledge();
        return static_cast<std::uint8_t>(0x80 | irq);
    }
    if (a0 == 0) return s_.read_isr ? s_.isr : s_.irr;
    return s_.imr;
}

void Pic8259::write(unsigned a0, std::uint8_t value) {
    if (a0 == 0) {
        if (value & 0x10) {
            initialize(value);
        } else if (value & 0x08) {  // OCW3
            if (value & 0x04) s_.poll = true;
            if (value & 0x02) s_.read_isr = (value & 0x01) != 0;
            if (value & 0x40) s_.special_mask = (value & 0x20) != 0;
        } else {
            command(value);
        }
        return;
    }
    switch (s_.init_step) {
        case 2:  // ICW2
            s_.vector_base = static_cast<std::uint8_t>(value & 0xF8);
            s_.init_step = s_.single ? (s_.icw4_expected ? 4 : 0) : 3;
            break;
        case 3:  // ICW3
            s_.icw3 = value;
            s_.init_step = s_.icw4_expected ? 4 : 0;
            break;
        case 4:  // ICW4 (uPM, buffered mode and M/S do not matter here)
            s_.auto_eoi = (value & 0x02) != 0;
            s_.special_fully_nested = (value & 0x10) != 0;
            s_.init_step = 0;
            break;
        default:  // OCW1
            s_.imr = value;
            break;
    }
}

void Pic8259::set_elcr(std::uint8_t value) {
    s_.elcr = value;
    for (unsigned irq = 0; irq < 8; ++irq) {
        if (!level_triggered(irq)) continue;
        const auto bit = static_cast<std::uint8_t>(1u << irq);
        s_.irr = static_cast<std::uint8_t>((s_.lines & bit) ? s_.irr | bit : s_.irr & ~bit);
    }
}

// After reset every input is masked, until the firmware or the operating
// system programs the chip (a real 8259A's state is undefined then).
void Pic8259::reset() {
    const std::uint8_t lines = s_.lines;
    s_ = State{};
    s_.lines = lines;
    s_.imr = 0xFF;
}

// ---------------------------------------------------------------------------

namespace {
// The ELCR bits that exist: IRQ 0, 1, 2, 8 and 13 are always edge-triggered
// (PIIX3 datasheet, 4.1.13).
constexpr std::uint8_t kMasterElcrMask = 0xF8;
constexpr std::uint8_t kSlaveElcrMask = 0xDE;
}  // namespace

DualPic::DualPic(IntrFn intr) : intr_fn_(std::move(intr)) { reset(); }

void DualPic::set_irq(unsigned irq, bool level) {
    // IRQ 2 of the ISA bus is wired to the slave's IR1 (IRQ 9) since the AT.
    if (irq == kCascadeIrq) irq = 9;
    if (irq < 8) {
        master_.set_line(irq, level);
    } else if (irq < 16) {
        slave_.set_line(irq - 8, level);
    }
    update();
}

std::uint8_t DualPic::acknowledge() {
    const unsigned irq = master_.acknowledge();
    std::uint8_t vector;
    if (irq == kCascadeIrq && master_.cascades(kCascadeIrq)) {
        vector = static_cast<std::uint8_t>(slave_.vector_base() + slave_.acknowledge());
        // The slave's INT falls during the acknowledge: a request still
        // waiting there rises again on IR2.
        master_.set_line(kCascadeIrq, false);
    } else {
        vector = static_cast<std::uint8_t>(master_.vector_base() + irq);
    }
    update();
    return vector;
}

std::uint32_t DualPic::io_read(std::uint16_t port, unsigned size) {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < size; ++i) {
        const auto p = static_cast<std::uint16_t>(port + i);
        std::uint8_t byte = 0xFF;
        if ((p & ~1u) == kMasterPort) {
            byte = master_.read(p & 1);
        } else if ((p & ~1u) == kSlavePort) {
            byte = slave_.read(p & 1);
        } else if (p == kElcrPort) {
            byte = master_.state().elcr;
        } else if (p == kElcrPort + 1) {
            byte = slave_.state().elcr;
        }
        value |= std::uint32_t{byte} << (8 * i);
    }
    update();  // (a poll acknowledges)
    return value;
}

void DualPic::io_write(std::uint16_t port, unsigned size, std::uint32_t value) {
    for (unsigned i = 0; i < size; ++i) {
        const auto p = static_cast<std::uint16_t>(port + i);
        const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
        if ((p & ~1u) == kMasterPort) {
            master_.write(p & 1, byte);
        } else if ((p & ~1u) == kSlavePort) {
            slave_.write(p & 1, byte);
        } else if (p == kElcrPort) {
            master_.set_elcr(byte & kMasterElcrMask);
        } else if (p == kElcrPort + 1) {
            slave_.set_elcr(byte & kSlaveElcrMask);
        }
    }
    update();
}

void DualPic::reset() {
    master_.reset();
    slave_.reset();
    update();
}

void DualPic::restore(const State& s) {
    master_.restore(s.master);
    slave_.restore(s.slave);
    update();
}

void DualPic::update() {
    master_.set_line(kCascadeIrq, slave_.interrupt_output());
    const bool intr = master_.interrupt_output();
    if (intr == intr_) return;
    intr_ = intr;
    if (intr_fn_) intr_fn_(intr);
}

}  // namespace jitterbug::devices
