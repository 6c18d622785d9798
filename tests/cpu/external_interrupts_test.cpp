// Maskable interrupts from the 8259A pair to the CPU (SDM Vol. 3A, 6.8):
// delivered between instructions while EFLAGS.IF is set, held for the
// instruction after STI, waking HLT, ignored with IF clear, and within a
// block of the INTR line rising even when translated code is chained.
#include <doctest/doctest.h>

#include <vector>

#include "devices/pic8259.hpp"
#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::SegReg;

namespace {

constexpr std::uint32_t kCode = 0x10000;   // CS = 0x1000
constexpr std::uint32_t kData = 0x20000;   // DS = 0x2000
constexpr std::uint16_t kHandler = 0x100;  // IRQ 0's handler, at 1000:0100
constexpr std::uint8_t kVectorBase = 0x20;

// A real-mode CPU with a programmed 8259A pair (master at 0x20, slave at
// 0x28, all unmasked) wired to INTR, and IRQ 0's handler: count in [0],
// the interrupted IP in [2], CX in [4], EOI, IRET.
struct Machine {
    BareCpu m;
    devices::DualPic pic{[this](bool level) { m.cpu().set_intr(level); }};

    Machine(cpu::BackendKind backend, const std::vector<std::uint8_t>& code, bool interrupts)
        : m(backend, 1 << 20) {
        REQUIRE(m.io().map(0x20, 2, pic, "pic").ok());
        REQUIRE(m.io().map(0xA0, 2, pic, "pic slave").ok());
        m.cpu().set_interrupt_acknowledge([this] { return pic.acknowledge(); });
        const auto out = [&](std::uint16_t port, std::uint8_t v) { pic.io_write(port, 1, v); };
        out(0x20, 0x11);  // ICW1-4: master at kVectorBase, slave on IR2 at 0x28
        out(0x21, kVectorBase);
        out(0x21, 0x04);
        out(0x21, 0x01);
        out(0x21, 0x00);  // OCW1: all unmasked
        out(0xA0, 0x11);
        out(0xA1, 0x28);
        out(0xA1, 0x02);
        out(0xA1, 0x01);
        out(0xA1, 0x00);
        std::uint32_t at = kCode;
        for (std::uint8_t b : code)
            m.poke(at++, b);
        const std::vector<std::uint8_t> handler = {
            0xFF, 0x06, 0x00, 0x00,  // inc word [0]
            0x55,                    // push bp
            0x89, 0xE5,              // mov bp, sp
            0x8B, 0x46, 0x02,        // mov ax, [bp+2] (the interrupted IP)
            0xA3, 0x02, 0x00,        // mov [2], ax
            0x89, 0x0E, 0x04, 0x00,  // mov [4], cx
            0x5D,                    // pop bp
            0xB0, 0x20,              // mov al, 0x20
            0xE6, 0x20,              // out 0x20, al: EOI
            0xCF,                    // iret
        };
        at = kCode + kHandler;
        for (std::uint8_t b : handler)
            m.poke(at++, b);
        const std::uint32_t entry = kVectorBase * 4;
        m.poke(entry, kHandler & 0xFF);
        m.poke(entry + 1, kHandler >> 8);
        m.poke(entry + 2, 0x00);
        m.poke(entry + 3, 0x10);
        cpu::CpuState s = cpu::reset_state();
        s.eip = 0;
        s.segment(SegReg::Cs) = real_mode_segment(0x1000, true);
        s.segment(SegReg::Ds) = real_mode_segment(0x2000);
        s.segment(SegReg::Ss) = real_mode_segment(0x3000);
        s.reg(cpu::Gpr::Esp) = 0x8000;
        s.set_eflags(cpu::eflags::Fixed1 | (interrupts ? cpu::eflags::IF : 0));
        m.cpu().set_state(s);
    }

    std::uint16_t word(std::uint32_t offset) {
        return static_cast<std::uint16_t>(m.ram()[kData + offset] | m.ram()[kData + offset + 1]
                                                                        << 8);
    }
};

}  // namespace

TEST_SUITE("cpu") {
    TEST_CASE("an interrupt wakes HLT and returns after it and STI holds it for one instruction") {
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            // 0: sti; 1: hlt; 2: jmp 1
            Machine t(backend, {0xFB, 0xF4, 0xEB, 0xFD}, false);
            t.pic.set_irq(0, true);  // pending before STI
            REQUIRE(t.m.cpu().run(1000) == cpu::CpuExit::WaitingForInterrupt);
            // The request waited out STI's shadow: HLT ran, the handler
            // returns after it.
            CHECK(t.word(0) == 1);
            CHECK(t.word(2) == 2);
            CHECK(t.m.state().eip == 2);
            t.pic.set_irq(0, false);
            for (int i = 0; i < 3; ++i) {
                t.pic.set_irq(0, true);  // a new edge each time
                REQUIRE(t.m.cpu().run(1000) == cpu::CpuExit::WaitingForInterrupt);
                t.pic.set_irq(0, false);
            }
            CHECK(t.word(0) == 4);
            CHECK(t.word(2) == 2);
        }
    }

    TEST_CASE("with IF clear an interrupt waits in the 8259A and HLT does not wake") {
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            Machine t(backend, {0xF4}, false);  // hlt
            t.pic.set_irq(0, true);
            REQUIRE(t.m.cpu().run(1000) == cpu::CpuExit::Halted);
            CHECK(t.word(0) == 0);
            CHECK(t.pic.interrupt_output());
        }
    }

    TEST_CASE("an interrupt raised inside chained code arrives within a block") {
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            // mov al, 0xFF; out 0x21, al (mask IRQ 0); then IRQ 0 rises
            // (masked); mov cx, 2000; l: inc dx; loop l (several rounds, so
            // the loop is translated and chained); then unmask inside a loop:
            // mov cx, 2000; l2: cmp cx, 1000; jne skip; mov al, 0; out 0x21, al;
            // skip: loop l2; hlt
            const std::vector<std::uint8_t> code = {
                0xB0, 0xFF, 0xE6, 0x21,  // 0: mov al, 0xFF; out 0x21, al
                0xB9, 0xD0, 0x07,        // 4: mov cx, 2000
                0x42,                    // 7: inc dx
                0xE2, 0xFD,              // 8: loop 7
                0xB9, 0xD0, 0x07,        // 10: mov cx, 2000
                0x81, 0xF9, 0xE8, 0x03,  // 13: cmp cx, 1000
                0x75, 0x04,              // 17: jne 23
                0xB0, 0x00,              // 19: mov al, 0
                0xE6, 0x21,              // 21: out 0x21, al (unmask: INTR rises)
                0xE2, 0xF4,              // 23: loop 13
                0xF4,                    // 25: hlt
            };
            Machine t(backend, code, true);
            t.pic.io_write(0x21, 1, 0xFF);  // masked until the program unmasks it
            t.pic.set_irq(0, true);
            REQUIRE(t.m.cpu().run(1'000'000) == cpu::CpuExit::WaitingForInterrupt);
            CHECK(t.word(0) == 1);
            // Delivered right after the OUT's block: CX was 1000 there, and
            // the LOOP of that round at most (one block further) had run.
            CHECK(t.word(4) >= 999);
            CHECK(t.word(4) <= 1000);
        }
    }
}
