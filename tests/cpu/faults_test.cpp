// Exceptions are precise: a faulting instruction leaves the registers, the
// flags and memory as they were (no partial writes), with EIP at it; a REP
// string instruction stopped by a fault or by the end of a time slice
// resumes where it stopped. Expectations from the SDM.
#include <doctest/doctest.h>

#include <cstring>
#include <initializer_list>
#include <vector>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;
using cpu::SegReg;

namespace {

const char* name(cpu::BackendKind b) { return b == cpu::BackendKind::Jit ? "jit" : "interp"; }

constexpr std::uint16_t kCodeSegment = 0x1000;   // code at 0x10000
constexpr std::uint16_t kDataSegment = 0x2000;   // data at 0x20000
constexpr std::uint16_t kStackSegment = 0x3000;  // stack at 0x30000

// A real-mode CPU about to run `code` at 1000:0000, stopping on events.
struct RealMode {
    BareCpu machine;
    cpu::CpuState start;

    RealMode(cpu::BackendKind backend, std::initializer_list<std::uint8_t> code)
        : machine(backend, 1 << 20) {
        std::uint32_t at = kCodeSegment * 16;
        for (std::uint8_t b : code)
            machine.poke(at++, b);
        machine.poke(at, 0xF4);  // HLT
        start = cpu::reset_state();
        start.eip = 0;
        start.segment(SegReg::Cs) = real_mode_segment(kCodeSegment, true);
        start.segment(SegReg::Ds) = real_mode_segment(kDataSegment);
        start.segment(SegReg::Es) = real_mode_segment(kDataSegment);
        start.segment(SegReg::Ss) = real_mode_segment(kStackSegment);
        start.reg(Gpr::Esp) = 0x8000;
        start.set_eflags(cpu::eflags::Fixed1 | cpu::eflags::CF | cpu::eflags::ZF | cpu::eflags::OF);
        machine.cpu().set_stop_on_events(true);
    }

    cpu::CpuExit run() {
        machine.cpu().set_state(start);
        return machine.cpu().run(1000);
    }
    std::uint8_t* memory() { return machine.ram(); }
};

// The state after a fault equals the state before, but for EIP, which must
// point at the instruction (it already does in `start`).
void check_unchanged(const cpu::CpuState& before, const cpu::CpuState& after) {
    for (unsigned r = 0; r < 8; ++r) {
        CAPTURE(r);
        CHECK(after.gpr[r] == before.gpr[r]);
    }
    CHECK(after.eflags() == before.eflags());
    CHECK(after.eip == before.eip);
    for (unsigned s = 0; s < cpu::kNumSegRegs; ++s)
        CHECK(after.seg[s].selector == before.seg[s].selector);
}

void expect_fault(RealMode& m, std::uint8_t vector) {
    REQUIRE(m.run() == cpu::CpuExit::Event);
    CHECK(m.machine.cpu().last_event().vector == vector);
    CHECK(m.machine.cpu().last_event().kind == cpu::EventKind::Fault);
    check_unchanged(m.start, m.machine.state());
}

}  // namespace

TEST_SUITE("isa") {
    TEST_CASE(
        "DIV and IDIV raise #DE on a zero divisor and on quotient overflow with nothing changed") {
        for (auto backend : cpu_backends()) {
            CAPTURE(name(backend));
            RealMode zero(backend, {0xF6, 0xF3});  // div bl
            zero.start.reg(Gpr::Eax) = 0x1234;
            zero.start.reg(Gpr::Ebx) = 0x5600;
            expect_fault(zero, cpu::vector::DE);

            RealMode overflow(backend, {0xF6, 0xF1});  // div cl: 0x1000 / 1 does not fit AL
            overflow.start.reg(Gpr::Eax) = 0x1000;
            overflow.start.reg(Gpr::Ecx) = 1;
            expect_fault(overflow, cpu::vector::DE);

            // EDX:EAX = -2^63 divided by -1 overflows (and must not trap the host).
            RealMode wide(backend, {0x66, 0xF7, 0xF9});  // idiv ecx
            wide.start.reg(Gpr::Edx) = 0x80000000;
            wide.start.reg(Gpr::Eax) = 0;
            wide.start.reg(Gpr::Ecx) = 0xFFFFFFFF;
            expect_fault(wide, cpu::vector::DE);

            // -128 fits in AL: no fault.
            RealMode fits(backend, {0xF6, 0xF9});  // idiv cl
            fits.start.reg(Gpr::Eax) = 0xFF80;
            fits.start.reg(Gpr::Ecx) = 1;
            REQUIRE(fits.run() == cpu::CpuExit::Halted);
            CHECK((fits.machine.state().reg(Gpr::Eax) & 0xFFFF) == 0x0080);

            RealMode aam(backend, {0xD4, 0x00});  // aam 0
            aam.start.reg(Gpr::Eax) = 0x1234;
            expect_fault(aam, cpu::vector::DE);
        }
    }

    TEST_CASE("BOUND raises #BR outside the bounds and not inside") {
        for (auto backend : cpu_backends()) {
            CAPTURE(name(backend));
            for (const std::uint16_t index : {0x0010, 0x0100, 0x0101, 0xFFFF}) {
                RealMode m(backend, {0x62, 0x07});  // bound ax, [bx]
                m.start.reg(Gpr::Ebx) = 0x40;
                m.start.reg(Gpr::Eax) = index;
                std::uint8_t* bounds = m.memory() + kDataSegment * 16 + 0x40;
                bounds[0] = 0x10;  // lower = 0x0010
                bounds[1] = 0x00;
                bounds[2] = 0x00;  // upper = 0x0100
                bounds[3] = 0x01;
                CAPTURE(index);
                if (index == 0x0101 ||
                    index == 0xFFFF) {  // 0xFFFF is -1: below the signed lower bound
                    expect_fault(m, cpu::vector::BR);
                } else {
                    CHECK(m.run() == cpu::CpuExit::Halted);
                }
            }
        }
    }

    TEST_CASE("invalid and unimplemented encodings raise #UD") {
        const std::vector<std::vector<std::uint8_t>> codes = {
            {0x0F, 0x0B},        // ud2
            {0x0F, 0xB9, 0x00},  // ud1
            {0x0F, 0x28, 0xC1},  // movaps: no SSE on this CPU
            {0xF0, 0x89, 0x07},  // lock mov [bx], ax: not lockable
            {0xF0, 0x01, 0xC0},  // lock add ax, ax: register destination
            {0xFE, 0xF8},        // FE /7
            {0x8F, 0xC8},        // 8F /1
            {0xC4, 0xC0},        // les ax, ax: register operand
            {0x0F, 0x22, 0xC8},  // mov cr1, eax: there is no CR1
            {0x0F, 0x20, 0xE8},  // mov eax, cr5
            {0x0F, 0x00, 0xD0},  // lldt ax: protected mode only
            {0x0F, 0x01, 0xF8},  // 0F 01 /7 on a register: SWAPGS, 64-bit mode only
        };
        for (auto backend : cpu_backends()) {
            for (const auto& code : codes) {
                CAPTURE(name(backend));
                CAPTURE(code[1]);
                RealMode m(backend, {});
                for (std::size_t i = 0; i < code.size(); ++i)
                    m.machine.poke(kCodeSegment * 16 + i, code[i]);
                expect_fault(m, cpu::vector::UD);
            }
        }
    }

    TEST_CASE("a fault on an instruction's second memory access leaves no partial write") {
        for (auto backend : cpu_backends()) {
            CAPTURE(name(backend));
            const std::uint32_t stack = kStackSegment * 16;
            {
                // push word [bx]: the read succeeds, the push crosses the top of SS.
                RealMode m(backend, {0xFF, 0x37});
                m.start.reg(Gpr::Esp) = 0x0001;
                m.start.reg(Gpr::Ebx) = 0x10;
                m.memory()[kDataSegment * 16 + 0x10] = 0xAA;
                expect_fault(m, cpu::vector::SS);
                CHECK(m.memory()[stack + 0xFFFF] == 0);
                CHECK(m.memory()[stack + 0x0000] == 0);
            }
            {
                // movsw: the source word is read, the destination crosses the end of ES.
                RealMode m(backend, {0xA5});
                m.start.reg(Gpr::Esi) = 0x10;
                m.start.reg(Gpr::Edi) = 0xFFFF;
                m.memory()[kDataSegment * 16 + 0x10] = 0x55;
                m.memory()[kDataSegment * 16 + 0x11] = 0x66;
                expect_fault(m, cpu::vector::GP);
                CHECK(m.memory()[kDataSegment * 16 + 0xFFFF] == 0);
            }
            {
                // call far 2000:0000 with room for one push only: nothing is pushed.
                RealMode m(backend, {0x9A, 0x00, 0x00, 0x00, 0x20});
                m.start.reg(Gpr::Esp) = 0x0003;
                expect_fault(m, cpu::vector::SS);
                CHECK(m.memory()[stack + 0x0001] == 0);
                CHECK(m.memory()[stack + 0x0002] == 0);
            }
            {
                // pusha with room for seven of the eight words.
                RealMode m(backend, {0x60});
                m.start.reg(Gpr::Esp) = 0x000F;
                m.start.reg(Gpr::Eax) = 0xABCD;
                expect_fault(m, cpu::vector::SS);
                for (unsigned a = 0; a < 0x10; ++a)
                    CHECK(m.memory()[stack + a] == 0);
            }
        }
    }

    TEST_CASE("a REP string instruction stopped by a fault resumes where it stopped") {
        for (auto backend : cpu_backends()) {
            CAPTURE(name(backend));
            // rep movsw from DI = FFF1: seven words fit, the eighth crosses the end of ES.
            RealMode m(backend, {0xF3, 0xA5});
            m.start.reg(Gpr::Esi) = 0x100;
            m.start.reg(Gpr::Edi) = 0xFFF1;
            m.start.reg(Gpr::Ecx) = 10;
            for (unsigned i = 0; i < 20; ++i)
                m.memory()[kDataSegment * 16 + 0x100 + i] = static_cast<std::uint8_t>(i + 1);
            REQUIRE(m.run() == cpu::CpuExit::Event);
            CHECK(m.machine.cpu().last_event().vector == cpu::vector::GP);
            const cpu::CpuState& s = m.machine.state();
            CHECK(s.eip == 0);  // still at the REP MOVSW
            CHECK((s.reg(Gpr::Ecx) & 0xFFFF) == 3);
            CHECK((s.reg(Gpr::Esi) & 0xFFFF) == 0x10E);
            CHECK((s.reg(Gpr::Edi) & 0xFFFF) == 0xFFFF);
            for (unsigned i = 0; i < 14; ++i)
                CHECK(m.memory()[kDataSegment * 16 + 0xFFF1 + i] == i + 1);
            CHECK(m.memory()[kDataSegment * 16 + 0xFFFF] == 0);

            // Resume with DI moved back into the segment: the remaining three words follow.
            cpu::CpuState resumed = s;
            resumed.reg(Gpr::Edi) = 0x0200;
            m.machine.cpu().set_state(resumed);
            REQUIRE(m.machine.cpu().run(1000) == cpu::CpuExit::Halted);
            CHECK((m.machine.state().reg(Gpr::Ecx) & 0xFFFF) == 0);
            for (unsigned i = 0; i < 6; ++i)
                CHECK(m.memory()[kDataSegment * 16 + 0x200 + i] == 15 + i);
        }
    }

    TEST_CASE("a long REP string instruction yields between chunks and resumes exactly") {
        for (auto backend : cpu_backends()) {
            CAPTURE(name(backend));
            // 32-bit flat: rep stosb of 600000 bytes at 0x40000, more than one chunk.
            BareCpu machine(backend, 1 << 20);
            const std::uint8_t code[] = {0xF3, 0xAA, 0xF4};  // rep stosb; hlt
            for (unsigned i = 0; i < sizeof code; ++i)
                machine.poke(0x1000 + i, code[i]);
            cpu::CpuState s = flat32_state(0x1000);
            s.reg(Gpr::Eax) = 0x5A;
            s.reg(Gpr::Ecx) = 600000;
            s.reg(Gpr::Edi) = 0x40000;
            machine.cpu().set_state(s);
            // One block at a time: the instruction gives the CPU back after a chunk.
            REQUIRE(machine.cpu().run(1) == cpu::CpuExit::InstructionLimit);
            const std::uint32_t left = machine.state().reg(Gpr::Ecx);
            CHECK(left > 0);
            CHECK(left < 600000);
            CHECK(machine.state().eip == 0x1000);
            CHECK(machine.state().reg(Gpr::Edi) == 0x40000 + (600000 - left));
            REQUIRE(machine.cpu().run() == cpu::CpuExit::Halted);
            CHECK(machine.state().reg(Gpr::Ecx) == 0);
            CHECK(machine.state().reg(Gpr::Edi) == 0x40000 + 600000);
            CHECK(machine.ram()[0x40000] == 0x5A);
            CHECK(machine.ram()[0x40000 + 599999] == 0x5A);
            CHECK(machine.ram()[0x40000 + 600000] == 0);
        }
    }

    TEST_CASE("RDTSC counts up with the instructions executed") {
        for (auto backend : cpu_backends()) {
            CAPTURE(name(backend));
            // rdtsc; mov ebx, eax; mov ecx, 100; loop $; rdtsc; hlt
            RealMode m(backend, {0x0F, 0x31, 0x66, 0x89, 0xC3, 0x66, 0xB9, 0x64, 0x00, 0x00, 0x00,
                                 0xE2, 0xFE, 0x0F, 0x31});
            REQUIRE(m.run() == cpu::CpuExit::Halted);
            const std::uint32_t first = m.machine.state().reg(Gpr::Ebx);
            const std::uint32_t second = m.machine.state().reg(Gpr::Eax);
            CHECK(second > first);
            CHECK(second - first >= 100);  // at least the loop's iterations
        }
    }

    TEST_CASE("CPUID reports a coherent family-6 identity and only what is implemented") {
        BareCpu machine(cpu::BackendKind::Interpreter, 1 << 20);
        const std::uint8_t code[] = {0x0F, 0xA2, 0xF4};  // cpuid; hlt
        for (unsigned i = 0; i < sizeof code; ++i)
            machine.poke(0x1000 + i, code[i]);
        auto query = [&](std::uint32_t leaf) {
            cpu::CpuState s = machine.state();
            s.segment(SegReg::Cs) = real_mode_segment(0x0100, true);
            s.eip = 0;
            s.reg(Gpr::Eax) = leaf;
            machine.cpu().set_state(s);
            REQUIRE(machine.cpu().run(100) == cpu::CpuExit::Halted);
            const auto& r = machine.state();
            return std::array<std::uint32_t, 4>{r.reg(Gpr::Eax), r.reg(Gpr::Ebx), r.reg(Gpr::Ecx),
                                                r.reg(Gpr::Edx)};
        };
        const auto leaf0 = query(0);
        char vendor[13] = {};
        std::memcpy(vendor, &leaf0[1], 4);
        std::memcpy(vendor + 4, &leaf0[3], 4);
        std::memcpy(vendor + 8, &leaf0[2], 4);
        CHECK(std::string(vendor) == "GenuineIntel");
        CHECK(leaf0[0] == 2);
        const auto leaf1 = query(1);
        CHECK(((leaf1[0] >> 8) & 0xF) == 6);  // family 6
        CHECK(leaf1[0] == machine.cpu().state().reg(Gpr::Eax));
        // FPU, DE, PSE, TSC, MSR, PAE, CX8, SEP, MTRR, PGE, CMOV, PAT, PSE-36, FXSR; no APIC, no
        // SSE.
        CHECK(leaf1[3] == 0x0103B97Du);
        // A Pentium II's caches and TLBs: one round of descriptors.
        const auto leaf2 = query(2);
        CHECK(leaf2 == std::array<std::uint32_t, 4>{0x03020101, 0, 0, 0x0C040843});
        CHECK(query(5) == leaf2);  // beyond the maximum: the highest basic leaf
        const auto brand = query(0x80000002);
        char text[17] = {};
        std::memcpy(text, brand.data(), 16);
        CHECK(std::string(text) == "jitterbug virtua");
    }
}
