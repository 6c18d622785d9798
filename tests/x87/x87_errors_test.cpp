// How an unmasked x87 exception reaches the program (SDM Vol. 1, 8.7 and
// D.2.1): #MF at the next waiting x87 instruction with CR0.NE = 1; with
// CR0.NE = 0 the PC way, FERR# asserted and the instruction frozen until
// an interrupt (IRQ 13 on a PC) or IGNNE#.
#include <doctest/doctest.h>

#include <vector>

#include "cpu/x87/unit.hpp"
#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::SegReg;

namespace {

constexpr std::uint16_t kCodeSegment = 0x1000;  // code at 0x10000
constexpr std::uint16_t kDataSegment = 0x2000;  // data at 0x20000
constexpr std::uint32_t kFrozenAt = 12;         // the FLD1 after the FDIVP
constexpr std::uint32_t kAfterHlt = 15;
constexpr std::uint8_t kIrq13Vector = 0x75;  // where a PC BIOS puts IRQ 13
constexpr std::uint16_t kHandler = 0x100;

// Real mode: a control word unmasking ZE, 1/0 (ZE pending, ES set), then a
// waiting FLD1 and HLT. The IRQ 13 handler at 1000:0100 clears the
// exception (FNCLEX) and returns.
struct ErrorProgram {
    BareCpu machine;
    cpu::CpuState start;
    std::vector<bool> ferr_changes;

    ErrorProgram(cpu::BackendKind backend, bool ne, bool interrupts) : machine(backend, 1 << 20) {
        const std::vector<std::uint8_t> code = {
            0xDB, 0xE3,              // fninit
            0xD9, 0x2E, 0x00, 0x00,  // fldcw [0]
            0xD9, 0xE8,              // fld1
            0xD9, 0xEE,              // fldz
            0xDE, 0xF9,              // fdivp st(1), st(0): 1/0
            0xD9, 0xE8,              // fld1 (waits: the pending error)
            0xF4,                    // hlt
        };
        std::uint32_t at = kCodeSegment * 16;
        for (std::uint8_t b : code)
            machine.poke(at++, b);
        at = kCodeSegment * 16 + kHandler;
        for (std::uint8_t b : {0xDB, 0xE2, 0xCF})  // fnclex; iret
            machine.poke(at++, b);
        machine.poke(kDataSegment * 16, 0x7B);  // control word 0x037B: ZE unmasked
        machine.poke(kDataSegment * 16 + 1, 0x03);
        const std::uint32_t vector_entry = kIrq13Vector * 4;
        machine.poke(vector_entry, kHandler & 0xFF);
        machine.poke(vector_entry + 1, kHandler >> 8);
        machine.poke(vector_entry + 2, kCodeSegment & 0xFF);
        machine.poke(vector_entry + 3, kCodeSegment >> 8);
        start = cpu::reset_state();
        start.eip = 0;
        start.segment(SegReg::Cs) = real_mode_segment(kCodeSegment, true);
        start.segment(SegReg::Ds) = real_mode_segment(kDataSegment);
        start.segment(SegReg::Ss) = real_mode_segment(0x3000);
        start.reg(cpu::Gpr::Esp) = 0x8000;
        if (ne) start.cr0 |= cpu::cr0::NE;
        start.set_eflags(cpu::eflags::Fixed1 | (interrupts ? cpu::eflags::IF : 0));
        machine.cpu().set_ferr_listener([this](bool level) { ferr_changes.push_back(level); });
        machine.cpu().set_state(start);
    }

    cpu::Cpu& cpu() { return machine.cpu(); }
    const cpu::X87State& x87() { return machine.state().x87; }
    unsigned top() { return (x87().status >> 11) & 7; }
};

constexpr std::uint16_t kZE = 1u << 2;

}  // namespace

TEST_SUITE("x87") {
    TEST_CASE(
        "an unmasked x87 exception raises #MF at the next waiting instruction with CR0.NE set") {
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            ErrorProgram p(backend, true, false);
            p.cpu().set_stop_on_events(true);
            REQUIRE(p.cpu().run(1000) == cpu::CpuExit::Event);
            CHECK(p.cpu().last_event().vector == cpu::vector::MF);
            CHECK(p.cpu().last_event().kind == cpu::EventKind::Fault);
            CHECK(p.machine.state().eip == kFrozenAt);
            CHECK((p.x87().status & kZE) != 0);
            CHECK((p.x87().status & cpu::x87::sw::ES) != 0);
            CHECK((p.x87().status & cpu::x87::sw::B) != 0);
            CHECK(p.x87().ip == 10);  // FIP: the FDIVP that raised it
            CHECK(p.ferr_changes.empty());
        }
    }

    TEST_CASE(
        "with CR0.NE clear an x87 error asserts FERR# and freezes the instruction until IGNNE#") {
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            ErrorProgram p(backend, false, false);
            // Interrupts are off: nothing can come, the CPU stays at the FLD1.
            REQUIRE(p.cpu().run(1000) == cpu::CpuExit::Halted);
            CHECK(p.machine.state().eip == kFrozenAt);
            CHECK(p.cpu().ferr());
            CHECK(p.ferr_changes == std::vector<bool>{true});
            const unsigned top = p.top();
            REQUIRE(p.cpu().run(1000) == cpu::CpuExit::Halted);  // still frozen
            CHECK(p.machine.state().eip == kFrozenAt);
            // IGNNE#: the FLD1 runs with the error still pending.
            p.cpu().set_ignne(true);
            REQUIRE(p.cpu().run(1000) == cpu::CpuExit::Halted);
            CHECK(p.machine.state().eip == kAfterHlt);
            CHECK(p.top() == ((top - 1) & 7));
            CHECK(p.cpu().ferr());
            CHECK((p.x87().status & cpu::x87::sw::ES) != 0);
        }
    }

    TEST_CASE("with CR0.NE clear the IRQ 13 handler runs before the frozen x87 instruction") {
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            ErrorProgram p(backend, false, true);
            REQUIRE(p.cpu().run(1000) == cpu::CpuExit::WaitingForInterrupt);
            CHECK(p.machine.state().eip == kFrozenAt);
            CHECK(p.ferr_changes == std::vector<bool>{true});
            const unsigned top = p.top();
            // The chipset turns FERR# into IRQ 13: the handler's FNCLEX
            // drops FERR#, its IRET returns to the FLD1, which now runs.
            p.cpu().deliver(cpu::Event{cpu::EventKind::External, kIrq13Vector});
            REQUIRE(p.cpu().run(1000) == cpu::CpuExit::WaitingForInterrupt);
            CHECK(p.machine.state().eip == kAfterHlt);
            CHECK(p.ferr_changes == std::vector<bool>{true, false});
            CHECK(p.top() == ((top - 1) & 7));
            CHECK((p.x87().status & (kZE | cpu::x87::sw::ES)) == 0);
        }
    }
}
