// Privilege changes in protected mode (SDM Vol. 3A, 5.8 and 6.12): IRET to
// ring 3 with SS:ESP from the frame and the data segments ring 3 may not use
// made null, INT n through a DPL-3 trap gate to ring 0 on the TSS's ring-0
// stack, a far CALL through a call gate copying two parameters and RETF 8
// back, and INT n through a DPL-0 gate giving #GP(vector * 8 + 2) with RF in
// the fault's EFLAGS image. Expected frames from the SDM's figures 6-4 and 5-13.
#include <doctest/doctest.h>

#include <cstring>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;
using cpu::SegReg;

namespace {

// The program at 0x4000 (nasm, bits 32):
//   ltr 0x28; iret to 1B:user with SS:ESP 23:7000
//   user: store DS (via SS) at 5000; load DS/ES 23; int 80h; store EAX at 5004;
//         push AAAA1111, BBBB2222; call 33:0; store ESP at 5008; int 81h; hlt
//   handler80 (404E): ESP to 5010, five frame dwords to 5020; EAX 5678; iret
//   callee (4068): six frame dwords to 5060; retf 8
//   gp_handler (4079): six frame dwords to 5040; hlt
const std::uint8_t kProgram[] = {
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8, 0x6a, 0x23, 0x68, 0x00, 0x70, 0x00, 0x00, 0x6a, 0x02,
    0x6a, 0x1b, 0x68, 0x18, 0x40, 0x00, 0x00, 0xcf, 0x8c, 0xd8, 0x36, 0xa3, 0x00, 0x50, 0x00, 0x00,
    0x66, 0xb8, 0x23, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0xb8, 0x34, 0x12, 0x00, 0x00, 0xcd, 0x80, 0xa3,
    0x04, 0x50, 0x00, 0x00, 0x68, 0x11, 0x11, 0xaa, 0xaa, 0x68, 0x22, 0x22, 0xbb, 0xbb, 0x9a, 0x00,
    0x00, 0x00, 0x00, 0x33, 0x00, 0x89, 0x25, 0x08, 0x50, 0x00, 0x00, 0xcd, 0x81, 0xf4, 0x89, 0x25,
    0x10, 0x50, 0x00, 0x00, 0x89, 0xe6, 0xbf, 0x20, 0x50, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00,
    0xf3, 0xa5, 0xb8, 0x78, 0x56, 0x00, 0x00, 0xcf, 0x89, 0xe6, 0xbf, 0x60, 0x50, 0x00, 0x00, 0xb9,
    0x06, 0x00, 0x00, 0x00, 0xf3, 0xa5, 0xca, 0x08, 0x00, 0x89, 0xe6, 0xbf, 0x40, 0x50, 0x00, 0x00,
    0xb9, 0x06, 0x00, 0x00, 0x00, 0xf3, 0xa5, 0xf4};

constexpr std::uint32_t kGdt = 0x1000, kTss = 0x2000, kIdt = 0x3000;

void put32(BareCpu& m, std::uint32_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        m.poke(at + i, static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint32_t get32(BareCpu& m, std::uint32_t at) {
    std::uint32_t v;
    std::memcpy(&v, m.ram() + at, 4);
    return v;
}

void descriptor(BareCpu& m, std::uint32_t at, std::uint32_t base, std::uint32_t limit,
                std::uint32_t access, std::uint32_t flags) {
    put32(m, at, (limit & 0xFFFF) | (base << 16));
    put32(m, at + 4,
          ((base >> 16) & 0xFF) | (access << 8) | (limit & 0xF0000) | (flags << 20) |
              (base & 0xFF000000u));
}

void gate(BareCpu& m, std::uint32_t at, std::uint16_t selector, std::uint32_t offset,
          std::uint32_t access, unsigned params = 0) {
    put32(m, at, (offset & 0xFFFF) | (std::uint32_t{selector} << 16));
    put32(m, at + 4, (offset & 0xFFFF0000u) | (access << 8) | params);
}

// The flat segments both tests use: ring 0 and ring 3 code and data at
// 08/10/18/20, the TSS of the first task at 28.
void flat_gdt(BareCpu& m) {
    descriptor(m, kGdt + 0x08, 0, 0xFFFFF, 0x9A, 0xC);  // ring 0 code
    descriptor(m, kGdt + 0x10, 0, 0xFFFFF, 0x92, 0xC);  // ring 0 data
    descriptor(m, kGdt + 0x18, 0, 0xFFFFF, 0xFA, 0xC);  // ring 3 code
    descriptor(m, kGdt + 0x20, 0, 0xFFFFF, 0xF2, 0xC);  // ring 3 data
    descriptor(m, kGdt + 0x28, kTss, 0x67, 0x89, 0);    // available 32-bit TSS
}

void load_program(BareCpu& m, const std::uint8_t* code, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i)
        m.poke(static_cast<std::uint32_t>(0x4000 + i), code[i]);
}

// Ring 0 at 08:4000 with flat data, ESP 8000, no TR loaded yet.
cpu::CpuState ring0_state() {
    cpu::CpuState s = cpu::reset_state();
    s.cr0 |= cpu::cr0::PE;
    s.gdtr = {kGdt, 0x3F};
    s.idtr = {kIdt, 0x7FF};
    s.segment(SegReg::Cs) = cpu::SegmentRegister{0, 0xFFFFFFFF, 0x08, 0xC09B};
    for (SegReg r : {SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs})
        s.segment(r) = cpu::SegmentRegister{0, 0xFFFFFFFF, 0x10, 0xC093};
    s.eip = 0x4000;
    s.reg(Gpr::Esp) = 0x8000;
    return s;
}

// The task-switch program at 0x4000:
//   ltr 0x28; EAX 11111111; call 38:0 (task B); store EAX at 510C and
//   EFLAGS at 5114; jmp 38:0; hlt
//   task B (4027): EFLAGS to 5100, TR to 5104, its back link to 5108;
//   EAX 22222222; iret (back to the caller); then, entered again by the
//   JMP: 000000B2 to 5110; jmp 28:0
const std::uint8_t kTaskProgram[] = {
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8, 0xb8, 0x11, 0x11, 0x11, 0x11, 0x9a, 0x00, 0x00,
    0x00, 0x00, 0x38, 0x00, 0xa3, 0x0c, 0x51, 0x00, 0x00, 0x9c, 0x8f, 0x05, 0x14, 0x51, 0x00,
    0x00, 0xea, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0xf4, 0x9c, 0x58, 0xa3, 0x00, 0x51, 0x00,
    0x00, 0x0f, 0x00, 0xc8, 0xa3, 0x04, 0x51, 0x00, 0x00, 0xa1, 0x00, 0x21, 0x00, 0x00, 0xa3,
    0x08, 0x51, 0x00, 0x00, 0xb8, 0x22, 0x22, 0x22, 0x22, 0xcf, 0xc7, 0x05, 0x10, 0x51, 0x00,
    0x00, 0xb2, 0x00, 0x00, 0x00, 0xea, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00,
};

}  // namespace

TEST_SUITE("cpu") {
    TEST_CASE("rings change through IRET and trap gates and call gates on the TSS's stacks") {
        for (cpu::BackendKind backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            flat_gdt(m);
            gate(m, kGdt + 0x30, 0x08, 0x4068, 0xEC, 2);   // DPL-3 call gate, 2 params
            gate(m, kIdt + 0x80 * 8, 0x08, 0x404E, 0xEF);  // DPL-3 trap gate
            gate(m, kIdt + 0x81 * 8, 0x08, 0x404E, 0x8E);  // DPL-0 interrupt gate
            gate(m, kIdt + 13 * 8, 0x08, 0x4079, 0x8E);    // #GP
            put32(m, kTss + 4, 0x9000);                    // ESP0
            put32(m, kTss + 8, 0x10);                      // SS0
            load_program(m, kProgram, sizeof kProgram);
            m.cpu().set_state(ring0_state());
            REQUIRE(m.cpu().run(100000) == cpu::CpuExit::Halted);

            CHECK(get32(m, 0x5000) == 0);  // DS (ring 0 data) was made null
            CHECK(get32(m, 0x5004) == 0x5678);
            CHECK(get32(m, 0x5010) == 0x9000 - 20);
            const std::uint32_t int_frame[] = {0x402F, 0x1B, 0x2, 0x7000, 0x23};
            for (unsigned i = 0; i < 5; ++i) {
                CAPTURE(i);
                CHECK(get32(m, 0x5020 + 4 * i) == int_frame[i]);
            }
            const std::uint32_t call_frame[] = {0x4045,     0x1B,       0xBBBB2222,
                                                0xAAAA1111, 0x7000 - 8, 0x23};
            for (unsigned i = 0; i < 6; ++i) {
                CAPTURE(i);
                CHECK(get32(m, 0x5060 + 4 * i) == call_frame[i]);
            }
            CHECK(get32(m, 0x5008) == 0x7000);  // RETF 8 released the parameters
            const std::uint32_t gp_frame[] = {0x81 * 8 + 2, 0x404B, 0x1B, 0x10002, 0x7000, 0x23};
            for (unsigned i = 0; i < 6; ++i) {
                CAPTURE(i);
                CHECK(get32(m, 0x5040 + 4 * i) == gp_frame[i]);
            }
            const cpu::CpuState& end = m.cpu().state();
            CHECK(end.segment(SegReg::Cs).selector == 0x08);
            CHECK(end.segment(SegReg::Ss).selector == 0x10);
            CHECK(end.reg(Gpr::Esp) == 0x9000 - 24);
            // LTR marked the TSS busy.
            CHECK(((get32(m, kGdt + 0x2C) >> 8) & 0xF) == 0xB);
        }
    }

    TEST_CASE("CALL to a TSS nests a task that IRET leaves and JMP switches without nesting") {
        for (cpu::BackendKind backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            flat_gdt(m);
            constexpr std::uint32_t kTssB = 0x2100;
            descriptor(m, kGdt + 0x38, kTssB, 0x67, 0x89, 0);
            put32(m, kTssB + 0x20, 0x4027);  // EIP
            put32(m, kTssB + 0x24, 0x2);     // EFLAGS
            put32(m, kTssB + 0x38, 0x6000);  // ESP
            for (unsigned seg = 0; seg < 6; ++seg)
                put32(m, kTssB + 0x48 + 4 * seg, seg == 1 ? 0x08 : 0x10);
            load_program(m, kTaskProgram, sizeof kTaskProgram);
            m.cpu().set_state(ring0_state());
            REQUIRE(m.cpu().run(100000) == cpu::CpuExit::Halted);

            CHECK(get32(m, 0x5100) == (cpu::eflags::NT | 0x2));  // nested
            CHECK(get32(m, 0x5104) == 0x38);
            CHECK(get32(m, 0x5108) == 0x28);        // the back link
            CHECK(get32(m, 0x510C) == 0x11111111);  // the caller's EAX came back
            CHECK(get32(m, 0x5114) == 0x2);         // and its NT is clear
            CHECK(get32(m, 0x5110) == 0xB2);        // B resumed after its IRET
            // B's state was saved at its IRET and at its JMP: EAX, ESP.
            CHECK(get32(m, kTssB + 0x28) == 0x22222222);
            CHECK(get32(m, kTssB + 0x38) == 0x6000);
            const cpu::CpuState& end = m.cpu().state();
            CHECK(end.tr.selector == 0x28);
            CHECK(end.reg(Gpr::Eax) == 0x11111111);
            CHECK((end.cr0 & cpu::cr0::TS) != 0);
            CHECK(end.eip == 0x4027 - 1 + 1);                    // past the HLT at 4026
            CHECK(((get32(m, kGdt + 0x2C) >> 8) & 0xF) == 0xB);  // A busy
            CHECK(((get32(m, kGdt + 0x3C) >> 8) & 0xF) == 0x9);  // B available
        }
    }
}
