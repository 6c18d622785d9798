// Deferred status flags in the JIT: an INC/DEC takes CF from the op before
// it (the host's flags, a re-run record or EFLAGS), a condition read after
// the host's flags have changed re-runs the recorded op, and a record not
// stored at its op is there for runtime calls, faults and side exits. Every
// backend must end in the interpreter's state, for operands on both sides
// of every flag's edge.
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;

namespace {

struct Program {
    const char* what;
    std::vector<std::uint8_t> code;  // ends in HLT on every path
};

// (Assembled with nasm; [esi] is a data word.)
const Program kPrograms[] = {
    {"sub; dec (CF from the host's flags); jmp; pushfd",
     {0x29, 0xD8, 0x49, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"sub; store; dec (CF from the re-run SUB); jmp; pushfd",
     {0x29, 0xD8, 0x89, 0x3E, 0x49, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"cmp; store; setl; store; setbe; store; jb (each re-runs the CMP)",
     {0x39, 0xD8, 0x89, 0x3E, 0x0F, 0x9C, 0xC2, 0x89, 0x7E, 0x04, 0x0F, 0x96, 0xC6, 0x89, 0x7E,
      0x08, 0x72, 0x06, 0xBF, 0x01, 0x00, 0x00, 0x00, 0xF4, 0xBF, 0x02, 0x00, 0x00, 0x00, 0xF4}},
    {"cmp; jmp; inc (CF from EFLAGS); jmp; pushfd",
     {0x39, 0xD8, 0xEB, 0x00, 0x41, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"add al; inc cl; store; seto; setc; dec bx; store; sets; setc; jo",
     {0x00, 0xD8, 0xFE, 0xC1, 0x89, 0x3E, 0x0F, 0x90, 0xC2, 0x0F, 0x92,
      0xC6, 0x66, 0x4B, 0x89, 0x3E, 0x0F, 0x98, 0xC4, 0x0F, 0x92, 0xC7,
      0x70, 0x01, 0xF4, 0xBF, 0x03, 0x00, 0x00, 0x00, 0xF4}},
    {"dec; store; jz (re-runs the DEC); inc; store; jmp; pushfd",
     {0x49, 0x89, 0x3E, 0x74, 0x05, 0x41, 0x89, 0x3E, 0xEB, 0x05, 0xBF, 0x05, 0x00, 0x00, 0x00,
      0x9C, 0x5A, 0xF4}},
    {"cmp; store; adc (its carry from the re-run CMP); pushfd",
     {0x39, 0xD8, 0x89, 0x3E, 0x83, 0xD2, 0x00, 0x9C, 0x59, 0xF4}},
    // Records not stored at their op (sink-records): where something may
    // read them.
    {"cmp; read of unmapped memory (a runtime call); jmp; pushfd",
     {0x39, 0xD8, 0x8B, 0x3D, 0x00, 0x00, 0x02, 0x00, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"sub; jnz forward (a side exit when taken); pushfd on both paths, in the next blocks",
     {0x29, 0xD8, 0x75, 0x05, 0xEB, 0x00, 0x9C, 0x5A, 0xF4, 0xB9, 0x01, 0x00, 0x00, 0x00, 0x9C,
      0x5A, 0xF4}},
    {"cmp; a dword read wrapping past 4 GiB: #GP seeing the CMP's flags",
     {0x39, 0xD8, 0x8B, 0x3D, 0xFE, 0xFF, 0xFF, 0xFF, 0xF4}},
    {"add; test (replaces it); read unmapped; and; jmp; pushfd",
     {0x01, 0xD8, 0x85, 0xC9, 0x8B, 0x3D, 0x00, 0x00, 0x02, 0x00, 0x21, 0xC1, 0xEB, 0x00, 0x9C,
      0x5A, 0xF4}},
    {"cmp; both its operands' registers overwritten; read unmapped; jmp; pushfd",
     {0x39, 0xD8, 0x8B, 0x06, 0xBB, 0x05, 0x00, 0x00, 0x00, 0x8B,
      0x3D, 0x00, 0x00, 0x02, 0x00, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"cmp; its operands' registers overwritten; NOT of unmapped memory (values spilled)",
     {0x39, 0xD8, 0x8B, 0x06, 0x8B, 0x5E, 0x04, 0xF7, 0x94, 0x8F, 0x00, 0x00, 0x02, 0x00, 0xEB,
      0x00, 0x9C, 0x5A, 0xF4}},
    // Shifts by an immediate, deferred as their operand and count.
    {"shl; store; setc; seto (re-run from the operand); jmp; pushfd",
     {0xC1, 0xE0, 0x05, 0x89, 0x3E, 0x0F, 0x92, 0xC2, 0x0F, 0x90, 0xC6, 0xEB, 0x00, 0x9C, 0x59,
      0xF4}},
    {"sar; jmp; pushfd (the record re-run by the shared code)",
     {0xC1, 0xF8, 0x07, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"sar; store; dec (CF from the re-run SAR); jmp; pushfd",
     {0xC1, 0xF8, 0x07, 0x89, 0x3E, 0x49, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"shr by 1; read unmapped (the record stored for the call); jmp; pushfd",
     {0xD1, 0xEB, 0x8B, 0x3D, 0x00, 0x00, 0x02, 0x00, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"shl bl; store; jc forward (a side exit); jmp; pushfd",
     {0xC0, 0xE3, 0x03, 0x89, 0x3E, 0x72, 0x05, 0xBF, 0x01, 0x00, 0x00, 0x00, 0xEB, 0x00, 0x9C,
      0x5A, 0xF4}},
    // ADC/SBB, deferred with their carry in.
    {"add; adc; store; setc; seto (re-run from registers); jmp; pushfd",
     {0x01, 0xD8, 0x11, 0xC1, 0x89, 0x3E, 0x0F, 0x92, 0xC2, 0x0F, 0x90, 0xC6, 0xEB, 0x00, 0x9C,
      0x5B, 0xF4}},
    {"cmp; sbb; jmp; pushfd (re-run by the shared code)",
     {0x39, 0xD8, 0x19, 0xD9, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"add; adc cl, imm; read unmapped (stored for the call); jmp; pushfd",
     {0x01, 0xD8, 0x80, 0xD1, 0x7F, 0x8B, 0x3D, 0x00, 0x00, 0x02, 0x00, 0xEB, 0x00, 0x9C, 0x5A,
      0xF4}},
    {"sub; sbb ax, cx; store; dec (CF from the re-run SBB); jmp; pushfd",
     {0x29, 0xD8, 0x66, 0x19, 0xC8, 0x89, 0x3E, 0x4B, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    // Flags only an ADC/SBB right after reads: no image of them at all.
    {"sub; sbb (its carry straight from the host's flags); jmp; pushfd",
     {0x29, 0xD8, 0x19, 0xD1, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"sub; store; sbb (the store's lookup changed the host's flags); jmp; pushfd",
     {0x29, 0xD8, 0x89, 0x3E, 0x19, 0xD1, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"sub; cmovb (its select changes the host's flags); sbb; jmp; pushfd",
     {0x29, 0xD8, 0x0F, 0x42, 0xCA, 0x19, 0xFE, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"add al, cl; adc ah, ch (reading AH shifts: the carry from a re-run); jmp; pushfd",
     {0x00, 0xC8, 0x10, 0xEC, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"sub; sbb dh, cl (writing DH shifts too); jmp; pushfd",
     {0x29, 0xC3, 0x18, 0xCE, 0xEB, 0x00, 0x9C, 0x5A, 0xF4}},
    {"xor ecx, ecx (the zero idiom); store; setz; jmp; pushfd",
     {0x31, 0xC9, 0x89, 0x3E, 0x0F, 0x94, 0xC2, 0xEB, 0x00, 0x9C, 0x59, 0xF4}},
    // Flags the SDM leaves undefined follow ir::eval's model on every host:
    // OF and CF past a count of 1 from the host's flags, AF in images, the
    // 16-bit SHLD/SHRD past 16.
    {"shl eax, 5; seto; setc; jo (OF, CF straight from the host's flags)",
     {0xC1, 0xE0, 0x05, 0x0F, 0x90, 0xC2, 0x0F, 0x92, 0xC6, 0x70, 0x01, 0xF4, 0xBF, 0x03, 0x00,
      0x00, 0x00, 0xF4}},
    {"mov ecx, eax; shr ebx, cl; seto; pushfd (counts 0, 1, 24, 31)",
     {0x89, 0xC1, 0xD3, 0xEB, 0x0F, 0x90, 0xC2, 0x9C, 0x58, 0xF4}},
    {"rcl bx, 3; seto; rcr eax, cl; pushfd",
     {0x66, 0xC1, 0xD3, 0x03, 0x0F, 0x90, 0xC2, 0xD3, 0xD8, 0x9C, 0x59, 0xF4}},
    {"shld eax, ebx, 7; seto; pushfd",
     {0x0F, 0xA4, 0xD8, 0x07, 0x0F, 0x90, 0xC2, 0x9C, 0x59, 0xF4}},
    {"shrd bx, ax, 20 (past 16); pushfd", {0x66, 0x0F, 0xAC, 0xC3, 0x14, 0x9C, 0x59, 0xF4}},
    {"shld ebx, eax, cl; jo", {0x0F, 0xA5, 0xC3, 0x70, 0x01, 0xF4, 0xF4}},
    // Self-loops: from the second round on, the record comes round the
    // back edge in the registers (loop-copies).
    {"xor edx, edx; l: inc edx; cmp edx, 5; jne l; pushfd",
     {0x31, 0xD2, 0x42, 0x83, 0xFA, 0x05, 0x75, 0xFA, 0x9C, 0x59, 0xF4}},
    {"esi = 0xFFFFFFF2; l: read [esi] (no RAM, then past 4 GiB: #GP); add esi, 4; inc edx; "
     "cmp edx, ebx; jne l; pushfd",
     {0xBE, 0xF2, 0xFF, 0xFF, 0xFF, 0x31, 0xD2, 0x8B, 0x06, 0x83,
      0xC6, 0x04, 0x42, 0x39, 0xDA, 0x75, 0xF6, 0x9C, 0x59, 0xF4}},
};

constexpr std::uint32_t kCode = 0x1000;
constexpr std::uint32_t kData = 0x8000;
constexpr std::uint32_t kStack = 0x9000;

constexpr std::array<std::uint32_t, 12> kValues = {
    0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x12345678,
};

struct Outcome {
    cpu::CpuExit exit;
    std::array<std::uint32_t, 8> gpr;
    std::uint32_t eflags;
    std::uint32_t eip;
};

// Runs the program on `m` from a fresh state with EAX, EBX, ECX as given (and CF
// set beforehand, so that a lost CF shows).
Outcome run(BareCpu& m, std::uint32_t eax, std::uint32_t ebx, std::uint32_t ecx) {
    cpu::CpuState st = flat32_state(kCode);
    st.reg(Gpr::Eax) = eax;
    st.reg(Gpr::Ebx) = ebx;
    st.reg(Gpr::Ecx) = ecx;
    st.reg(Gpr::Edx) = 0x00C0FFEE;
    st.reg(Gpr::Esi) = kData;
    st.reg(Gpr::Edi) = 0xD1D1D1D1;
    st.reg(Gpr::Esp) = kStack;
    st.set_eflags(st.eflags() | cpu::eflags::CF);
    m.cpu().set_state(st);
    m.cpu().set_stop_on_events(true);  // a fault stops the run
    cpu::CpuOptions options;
    options.follow_jumps = false;  // each `jmp short $+2` ends its block
    m.cpu().set_options(options);
    Outcome o{m.cpu().run(1000), {}, 0, 0};
    for (unsigned g = 0; g < 8; ++g)
        o.gpr[g] = m.state().reg(static_cast<Gpr>(g));
    o.eflags = m.state().eflags();
    o.eip = m.state().eip;
    return o;
}

}  // namespace

TEST_SUITE("jit") {
    TEST_CASE("deferred flags: INC/DEC carries and late conditions match the interpreter") {
        for (const Program& p : kPrograms) {
            const std::string what = p.what;
            CAPTURE(what);
            std::vector<std::unique_ptr<BareCpu>> cpus;
            for (auto backend : cpu_backends()) {
                cpus.push_back(std::make_unique<BareCpu>(backend, 1 << 16));
                for (std::size_t k = 0; k < p.code.size(); ++k)
                    cpus.back()->poke(kCode + static_cast<std::uint32_t>(k), p.code[k]);
            }
            for (std::uint32_t a : kValues) {
                for (std::uint32_t b : kValues) {
                    for (std::uint32_t c : {0u, 0x7Fu, 0xFFu, 0x8000u, 0x7FFFFFFFu, 0x80000000u}) {
                        const Outcome reference = run(*cpus[0], a, b, c);
                        REQUIRE((reference.exit == cpu::CpuExit::Halted ||
                                 reference.exit == cpu::CpuExit::Event));
                        for (std::size_t k = 1; k < cpus.size(); ++k) {
                            const Outcome o = run(*cpus[k], a, b, c);
                            if (o.gpr == reference.gpr && o.eflags == reference.eflags &&
                                o.exit == reference.exit && o.eip == reference.eip) {
                                continue;
                            }
                            CAPTURE(a);
                            CAPTURE(b);
                            CAPTURE(c);
                            CHECK(o.exit == reference.exit);
                            CHECK(o.gpr == reference.gpr);
                            CHECK(o.eflags == reference.eflags);
                            CHECK(o.eip == reference.eip);
                        }
                    }
                }
            }
        }
    }
}
