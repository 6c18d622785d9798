// EFLAGS.TF: a debug exception after every instruction that completes with
// TF set at its start (SDM Vol. 3A, 17.3.1.4). The handlers of the #DB and
// of an INT n are not stepped (TF is clear inside them); IRET and POPF
// that set or clear TF follow the flag at their start.
#include <doctest/doctest.h>

#include <cstring>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;
using cpu::SegReg;

namespace {

void put(BareCpu& m, std::uint32_t at, std::initializer_list<std::uint8_t> bytes) {
    for (std::uint8_t b : bytes)
        m.poke(at++, b);
}

void vector_to(BareCpu& m, unsigned v, std::uint16_t segment, std::uint16_t offset) {
    put(m, v * 4,
        {static_cast<std::uint8_t>(offset), static_cast<std::uint8_t>(offset >> 8),
         static_cast<std::uint8_t>(segment), static_cast<std::uint8_t>(segment >> 8)});
}

}  // namespace

TEST_SUITE("cpu") {
    TEST_CASE("single-stepping traps after each completed instruction and not in handlers") {
        for (cpu::BackendKind backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            // #DB handler at 1000:0100 counts the traps and records the
            // stepped IP; INT 30h's handler at 1000:0200 runs two instructions.
            vector_to(m, 1, 0x1000, 0x0100);
            vector_to(m, 0x30, 0x1000, 0x0200);
            put(m, 0x10100, {0xFF, 0x06, 0x00, 0x00,  // inc word [0]
                             0x55, 0x89, 0xE5,        // push bp; mov bp, sp
                             0x8B, 0x46, 0x02,        // mov ax, [bp+2] (the stepped-to IP)
                             0x8B, 0x1E, 0x00, 0x00,  // mov bx, [0]
                             0xD1, 0xE3,              // shl bx, 1
                             0x89, 0x07,              // mov [bx], ax
                             0x5D, 0xCF});            // pop bp; iret
            put(m, 0x10200, {0x40, 0x40, 0xCF});      // inc ax; inc ax; iret
            put(m, 0x10000,
                {0x9C, 0x58, 0x0D, 0x00, 0x01, 0x50,  // pushf; pop ax; or ax,100h; push ax
                 0x9D,                                // popf (sets TF: no trap)
                 0x90,                                // 0007 nop: trap 1 -> 0008
                 0x90,                                // 0008 nop: trap 2 -> 0009
                 0xCD, 0x30,                          // 0009 int 30h: no trap
                 0x90,                                // 000B nop: trap 3 -> 000C
                 0x9C, 0x58,                          // pushf; pop ax: traps 4, 5
                 0x25, 0xFF, 0xFE, 0x50,              // and ax,~100h; push ax: 6, 7
                 0x9D,                                // popf (clears TF): trap 8
                 0x90, 0xF4});                        // nop; hlt: no traps
            cpu::CpuState s = cpu::reset_state();
            s.eip = 0;
            s.segment(SegReg::Cs) = real_mode_segment(0x1000, true);
            for (SegReg r : {SegReg::Ds, SegReg::Es})
                s.segment(r) = real_mode_segment(0x2000);
            s.segment(SegReg::Ss) = real_mode_segment(0x3000);
            s.reg(Gpr::Esp) = 0x8000;
            m.cpu().set_state(s);
            CHECK(m.cpu().run(10000) == cpu::CpuExit::Halted);
            std::uint16_t log[10];
            std::memcpy(log, m.ram() + 0x20000, sizeof log);
            CHECK(log[0] == 8);
            const std::uint16_t expected[] = {0x0008, 0x0009, 0x000C, 0x000D,
                                              0x000E, 0x0011, 0x0012, 0x0013};
            for (unsigned i = 0; i < 8; ++i) {
                CAPTURE(i);
                CHECK(log[i + 1] == expected[i]);
            }
            CHECK((m.cpu().state().dr[6] & cpu::kDr6SingleStep) != 0);
            CHECK((m.cpu().state().eflags() & cpu::eflags::TF) == 0);
        }
    }
    TEST_CASE("a new state drops the single-step trap the old one left pending") {
        for (cpu::BackendKind backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            vector_to(m, 1, 0x1000, 0x0100);
            put(m, 0x10100, {0xF4});              // the #DB handler: hlt
            put(m, 0x10000, {0x90, 0x90, 0xF4});  // nop; nop; hlt
            cpu::CpuState s = cpu::reset_state();
            s.eip = 0;
            s.segment(SegReg::Cs) = real_mode_segment(0x1000, true);
            s.segment(SegReg::Ss) = real_mode_segment(0x3000);
            s.reg(Gpr::Esp) = 0x8000;
            s.set_eflags(s.eflags() | cpu::eflags::TF);
            m.cpu().set_state(s);
            // One instruction: its trap waits for the next run.
            REQUIRE(m.cpu().run(1) == cpu::CpuExit::InstructionLimit);
            s.set_eflags(s.eflags() & ~cpu::eflags::TF);
            m.cpu().set_state(s);
            CHECK(m.cpu().run(100) == cpu::CpuExit::Halted);
            CHECK(m.cpu().state().eip == 3);  // past the program's HLT, not the handler's
            CHECK(m.cpu().state().reg(Gpr::Esp) == 0x8000);
        }
    }
}
