// Operand- and address-size prefixes across code sizes: the cases the
// host-differential test cannot run natively (16-bit addressing, 16-bit
// instruction pointers). Expectations written from the SDM (Vol. 1, 3.6 and
// Vol. 2A, 2.1 and the instruction pages); 16-bit code is also covered by the
// 80286 hardware tests.
#include <doctest/doctest.h>

#include <vector>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;
using cpu::SegReg;

namespace {

struct Setup {
    bool code32 = false;
    std::vector<std::uint8_t> code;
    std::uint32_t eip = 0x100;
    std::vector<std::pair<Gpr, std::uint32_t>> regs;
    std::vector<std::pair<std::uint32_t, std::uint8_t>> memory;  // offsets in the data segment
};

// Runs one instruction (stopping at the HLT after it or at its target) in a
// segment based at 0x10000 with limit 0xFFFF (16-bit code) or 4 GiB (32-bit).
struct Outcome {
    cpu::CpuExit exit;
    cpu::CpuState state;
    BareCpu* machine;
};

constexpr std::uint32_t kBase = 0x10000;

Outcome run(BareCpu& m, const Setup& s) {
    for (std::size_t i = 0; i < s.code.size(); ++i)
        m.poke(kBase + s.eip + i, s.code[i]);
    m.poke(kBase + s.eip + s.code.size(), 0xF4);
    for (auto [offset, value] : s.memory)
        m.poke(kBase + offset, value);
    cpu::CpuState st = cpu::reset_state();
    if (s.code32) {
        st = flat32_state(s.eip, kBase);
    } else {
        for (SegReg r : {SegReg::Cs, SegReg::Ds, SegReg::Es, SegReg::Ss})
            st.segment(r) = real_mode_segment(kBase >> 4, r == SegReg::Cs);
    }
    st.eip = s.eip;
    st.reg(Gpr::Esp) = 0x8000;
    for (auto [r, v] : s.regs)
        st.reg(r) = v;
    m.cpu().set_stop_on_events(true);
    m.cpu().set_state(st);
    const cpu::CpuExit exit = m.cpu().run(100);
    return {exit, m.state(), &m};
}

std::uint32_t read32(BareCpu& m, std::uint32_t offset) {
    const std::uint8_t* p = m.ram() + kBase + offset;
    return p[0] | p[1] << 8 | p[2] << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

}  // namespace

TEST_SUITE("isa") {
    TEST_CASE("16-bit code with operand- and address-size prefixes") {
        for (auto backend : cpu_backends()) {
            BareCpu m(backend, 1 << 20);
            // 66 8B 07: mov eax, [bx] reads a doubleword.
            Outcome o = run(m, {false,
                                {0x66, 0x8B, 0x07},
                                0x100,
                                {{Gpr::Ebx, 0x20}},
                                {{0x20, 0x11}, {0x21, 0x22}, {0x22, 0x33}, {0x23, 0x44}}});
            CHECK(o.exit == cpu::CpuExit::Halted);
            CHECK(o.state.reg(Gpr::Eax) == 0x44332211);
            // 67 8B 04 58: mov ax, [eax + ebx*2]: 32-bit addressing, 16-bit data.
            o = run(m, {false,
                        {0x67, 0x8B, 0x04, 0x58},
                        0x100,
                        {{Gpr::Eax, 0x10}, {Gpr::Ebx, 0x8}, {Gpr::Ecx, 0}},
                        {{0x20, 0xCD}, {0x21, 0xAB}}});
            CHECK((o.state.reg(Gpr::Eax) & 0xFFFF) == 0xABCD);
            CHECK((o.state.reg(Gpr::Eax) >> 16) == 0);
            // The same with an offset past the 64 KiB limit: #GP(0).
            o = run(
                m,
                {false, {0x67, 0x8B, 0x04, 0x58}, 0x100, {{Gpr::Eax, 0x10000}, {Gpr::Ebx, 0}}, {}});
            REQUIRE(o.exit == cpu::CpuExit::Event);
            CHECK(m.cpu().last_event().vector == cpu::vector::GP);
            CHECK(o.state.eip == 0x100);
            // E9 rel16 at IP FFF0 wraps within the segment: (FFF3 + 0020) mod 64K = 0013.
            o = run(m, {false, {0xE9, 0x20, 0x00}, 0xFFF0, {}, {{0x13, 0xF4}}});
            CHECK(o.state.eip == 0x14);  // after the HLT at the target
            // 66 E8 rel32: a 32-bit call pushes a doubleword return address.
            o = run(m, {false, {0x66, 0xE8, 0x10, 0x00, 0x00, 0x00}, 0x100, {}, {{0x116, 0xF4}}});
            CHECK(o.state.eip == 0x117);
            CHECK((o.state.reg(Gpr::Esp) & 0xFFFF) == 0x7FFC);
            CHECK(read32(m, 0x7FFC) == 0x106);
        }
    }

    TEST_CASE("32-bit code with operand- and address-size prefixes") {
        for (auto backend : cpu_backends()) {
            BareCpu m(backend, 1 << 20);
            // 67 8B 07: mov eax, [bx]: 16-bit addressing ignores the upper half of EBX.
            Outcome o = run(m, {true,
                                {0x67, 0x8B, 0x07},
                                0x100,
                                {{Gpr::Ebx, 0xABCD0040}},
                                {{0x40, 0x78}, {0x41, 0x56}, {0x42, 0x34}, {0x43, 0x12}}});
            CHECK(o.exit == cpu::CpuExit::Halted);
            CHECK(o.state.reg(Gpr::Eax) == 0x12345678);
            // 67 8B 40 F0: mov eax, [bx + si - 16] wraps at 64 KiB: offset FFF8.
            o = run(m, {true,
                        {0x67, 0x8B, 0x40, 0xF0},
                        0x100,
                        {{Gpr::Ebx, 0x8}, {Gpr::Esi, 0}},
                        {{0xFFF8, 0xEF}, {0xFFF9, 0xBE}, {0xFFFA, 0xAD}, {0xFFFB, 0xDE}}});
            CHECK(o.state.reg(Gpr::Eax) == 0xDEADBEEF);
            // 66 B8 iw: mov ax, imm16 writes only AX.
            o = run(m, {true, {0x66, 0xB8, 0x34, 0x12}, 0x100, {{Gpr::Eax, 0xFFFFFFFF}}, {}});
            CHECK(o.state.reg(Gpr::Eax) == 0xFFFF1234);
            // 66 E8 rel16: a 16-bit call truncates EIP to 16 bits and pushes a word.
            o = run(m, {true, {0x66, 0xE8, 0x00, 0x10}, 0x20100, {}, {{0x1104, 0xF4}}});
            CHECK(o.state.eip == 0x1105);  // (0x20104 + 0x1000) & 0xFFFF, then the HLT
            CHECK(o.state.reg(Gpr::Esp) == 0x7FFE);
            // 67 E3 rel8: JCXZ tests CX, not ECX.
            o = run(m, {true, {0x67, 0xE3, 0x10}, 0x100, {{Gpr::Ecx, 0x10000}}, {{0x113, 0xF4}}});
            CHECK(o.state.eip == 0x114);
            // 67 E2 rel8: LOOP decrements CX only, leaving the upper half.
            o = run(m, {true, {0x67, 0xE2, 0x10}, 0x100, {{Gpr::Ecx, 0x30001}}, {{0x113, 0xF4}}});
            CHECK(o.state.reg(Gpr::Ecx) == 0x30000);
            CHECK(o.state.eip == 0x104);  // CX reached 0: not taken
        }
    }
}
