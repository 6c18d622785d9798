// FSTENV/FLDENV in real mode (SDM Vol. 1, figures 8-10 and 8-12): the
// instruction and operand pointers are linear addresses, split into a low
// word and bits 19-16 (16-bit format) or 31-16 (32-bit format) beside the
// opcode; FLDENV takes them back so that they store again the same.
// (The protected-mode formats are checked by the x87 guest.)
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::SegReg;

namespace {

std::uint32_t get(const std::uint8_t* p, unsigned size) {
    std::uint32_t v = 0;
    std::memcpy(&v, p, size);
    return v;
}

}  // namespace

TEST_SUITE("x87") {
    TEST_CASE(
        "real-mode FSTENV stores linear pointers in both formats and FLDENV takes them back") {
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            const std::vector<std::uint8_t> code = {
                0xDB, 0xE3,                    // 0: fninit
                0xD9, 0x06, 0x10, 0x00,        // 2: fld dword [0x10]
                0xD9, 0x36, 0x20, 0x00,        // 6: fnstenv [0x20] (16-bit format)
                0x66, 0xD9, 0x36, 0x40, 0x00,  // 10: o32 fnstenv [0x40]
                0xD9, 0x26, 0x20, 0x00,        // 15: fldenv [0x20]
                0xD9, 0x36, 0x60, 0x00,        // 19: fnstenv [0x60]
                0xF4,
            };
            std::uint32_t at = 0x10000;
            for (std::uint8_t b : code)
                m.poke(at++, b);
            for (unsigned i = 0; i < 4; ++i)  // 1.0f
                m.poke(0x20010 + i, static_cast<std::uint8_t>(0x3F800000u >> (8 * i)));
            cpu::CpuState s = cpu::reset_state();
            s.eip = 0;
            s.segment(SegReg::Cs) = real_mode_segment(0x1000, true);
            s.segment(SegReg::Ds) = real_mode_segment(0x2000);
            m.cpu().set_state(s);
            REQUIRE(m.cpu().run(100) == cpu::CpuExit::Halted);

            const std::uint8_t* e16 = m.ram() + 0x20020;
            CHECK(get(e16, 2) == 0x037F);
            CHECK(get(e16 + 2, 2) == 0x3800);   // TOP 7
            CHECK(get(e16 + 4, 2) == 0x3FFF);   // register 7 valid
            CHECK(get(e16 + 6, 2) == 0x0002);   // FIP 0x10002, low word
            CHECK(get(e16 + 8, 2) == 0x1106);   // FIP bits 19-16, FOP D9 /0 ModR/M 06
            CHECK(get(e16 + 10, 2) == 0x0010);  // FDP 0x20010, low word
            CHECK(get(e16 + 12, 2) == 0x2000);  // FDP bits 19-16

            const std::uint8_t* e32 = m.ram() + 0x20040;
            CHECK(get(e32, 4) == 0xFFFF037F);
            CHECK(get(e32 + 4, 4) == 0xFFFF3800);
            CHECK(get(e32 + 8, 4) == 0xFFFF3FFF);
            CHECK(get(e32 + 12, 4) == 0xFFFF0002);
            CHECK(get(e32 + 16, 4) == 0x00001106);
            CHECK(get(e32 + 20, 4) == 0xFFFF0010);
            CHECK(get(e32 + 24, 4) == 0x00002000);

            CHECK(std::memcmp(m.ram() + 0x20060, e16, 14) == 0);
        }
    }
}
