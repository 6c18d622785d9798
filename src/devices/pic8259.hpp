// The 8259A programmable interrupt controller (Intel 8259A datasheet,
// 231468), and the PC's pair of them: the slave's INT on the master's IR2,
// ports 0x20/0x21 and 0xA0/0xA1, and the PIIX's edge/level control
// registers (ELCR) at 0x4D0/0x4D1.
//
// Inputs are levels: a device says where its line is, on each change. An
// edge-triggered input requests on a rising edge and withdraws the request
// when it falls before the acknowledge, as the 8259A's edge latch does
// (INTA then finds no request: the spurious IR7). A level-triggered input
// requests while high.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class Pic8259 {
  public:
    struct State {
        std::uint8_t irr = 0;    // requests
        std::uint8_t isr = 0;    // in service
        std::uint8_t imr = 0;    // masked
        std::uint8_t lines = 0;  // input levels
        std::uint8_t elcr = 0;   // level-triggered inputs (ELCR)
        std::uint8_t vector_base = 0;
        std::uint8_t icw3 = 0;             // master: inputs with a slave; slave: its id
        std::uint8_t lowest_priority = 7;  // priority rotates: this input is the lowest
        std::uint8_t init_step = 0;        // 0: running; 2, 3, 4: the ICW expected next
        bool icw4_expected = false;
        bool single = false;                // ICW1.SNGL: no cascade
        bool level_mode = false;            // ICW1.LTIM: every input level-triggered
        bool auto_eoi = false;              // ICW4.AEOI
        bool special_fully_nested = false;  // ICW4.SFNM
        bool rotate_on_auto_eoi = false;
        bool special_mask = false;  // OCW3.SMM
        bool read_isr = false;      // OCW3.RIS: reads of port 0 give the ISR
        bool poll = false;          // OCW3.P: the next read of port 0 is a poll
        bool operator==(const State&) const = default;
    };

    // Sets the level of input `irq` (0-7).
    void set_line(unsigned irq, bool level);
    // INT: a request the priority logic lets through.
    bool interrupt_output() const { return next_request() >= 0; }
    // The INTA cycle: the input served, its ISR bit set (unless automatic
    // EOI); 7 with nothing set when no request is left (spurious).
    unsigned acknowledge();
    std::uint8_t read(unsigned a0);
    void write(unsigned a0, std::uint8_t value);
    void set_elcr(std::uint8_t value);
    std::uint8_t vector_base() const { return s_.vector_base; }
    bool cascades(unsigned irq) const { return !s_.single && (s_.icw3 >> irq & 1) != 0; }

    void reset();
    const State& state() const { return s_; }
    void restore(const State& s) { s_ = s; }

  private:
    bool level_triggered(unsigned irq) const { return s_.level_mode || (s_.elcr >> irq & 1) != 0; }
    // The input the next INTA would serve, or -1.
    int next_request() const;
    // The in-service input of the highest priority, or -1.
    int highest_in_service() const;
    void initialize(std::uint8_t icw1);
    void command(std::uint8_t ocw2);
    void end_of_interrupt(unsigned irq, bool rotate);

    State s_;
};

class DualPic final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kMasterPort = 0x20;
    static constexpr std::uint16_t kSlavePort = 0xA0;
    static constexpr std::uint16_t kElcrPort = 0x4D0;
    static constexpr unsigned kCascadeIrq = 2;
    using IntrFn = std::function<void(bool level)>;

    // `intr`: the CPU's INTR input, told of each change.
    explicit DualPic(IntrFn intr = {});

    // Sets the level of ISA interrupt line `irq` (0-15; 2 is the cascade).
    void set_irq(unsigned irq, bool level);
    bool interrupt_output() const { return intr_; }
    // The CPU's INTA cycles: the vector to deliver.
    std::uint8_t acknowledge();

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

    struct State {
        Pic8259::State master, slave;
        bool operator==(const State&) const = default;
    };
    void reset();
    State save() const { return {master_.state(), slave_.state()}; }
    void restore(const State& s);

  private:
    // The slave's INT to the master's IR2, the master's INT to the CPU.
    void update();

    Pic8259 master_, slave_;
    IntrFn intr_fn_;
    bool intr_ = false;
};

}  // namespace jitterbug::devices
