// Superblocks: a block goes on past a forward conditional jump and leaves
// through a side exit when it is taken, and at the target of a direct JMP
// or CALL on its page. Whichever way each jump goes, every
// backend must compute the same and retire exactly the instructions the
// guest executed (the time-stamp counter and instruction limits count them).
#include <doctest/doctest.h>

#include <array>
#include <cstring>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;

namespace {

// top:   test ecx, 1 ; jz .even ; add eax, 3 ; mov [esi], eax ; jmp .join
// .even: add eax, 5
// .join: cmp ecx, 7 ; jne .skip ; xor eax, 0x100 ; mov [esi+4], ecx
// .skip: dec ecx ; jnz top ; hlt          (assembled with nasm)
constexpr std::array<std::uint8_t, 35> kProgram = {
    0xF7, 0xC1, 0x01, 0x00, 0x00, 0x00, 0x74, 0x07, 0x83, 0xC0, 0x03, 0x89,
    0x06, 0xEB, 0x03, 0x83, 0xC0, 0x05, 0x83, 0xF9, 0x07, 0x75, 0x08, 0x35,
    0x00, 0x01, 0x00, 0x00, 0x89, 0x4E, 0x04, 0x49, 0x75, 0xDE, 0xF4};

constexpr std::uint32_t kCode = 0x1000;
constexpr std::uint32_t kData = 0x8000;

struct Expected {
    std::uint32_t eax = 0;
    std::uint32_t last_odd_eax = 0;  // what the odd path stored last
    std::uint32_t seven = 0;         // ECX stored when it was 7
    std::uint64_t instructions = 0;
};

// The program in C, counting the instructions it executes.
Expected expected(std::uint32_t n) {
    Expected e;
    for (std::uint32_t k = n; k != 0; --k) {
        e.instructions += 2;  // test, jz
        if (k & 1) {
            e.eax += 3;
            e.last_odd_eax = e.eax;
            e.instructions += 3;  // add, mov, jmp
        } else {
            e.eax += 5;
            e.instructions += 1;  // add
        }
        e.instructions += 2;  // cmp, jne
        if (k == 7) {
            e.eax ^= 0x100;
            e.seven = 7;
            e.instructions += 2;  // xor, mov
        }
        e.instructions += 2;  // dec, jnz
    }
    e.instructions += 1;  // hlt
    return e;
}

// Followed jumps: at 0x1000 mov ecx, 3; xor eax, eax; xor ebx, ebx;
// top: call f; cmp ecx, 2; jne skip; mov byte [g+2], 7; skip: dec ecx;
// jnz top; hlt. At 0x1100 f: add eax, 5; jmp g. At 0x1200 g: add ebx, 1;
// ret. The block at `top` goes on into f and g (one page); the store into
// g's immediate, made from another block, must retire it.
constexpr std::array<std::uint8_t, 30> kMain = {
    0xB9, 0x03, 0x00, 0x00, 0x00, 0x31, 0xC0, 0x31, 0xDB, 0xE8, 0xF2, 0x00, 0x00, 0x00, 0x83,
    0xF9, 0x02, 0x75, 0x07, 0xC6, 0x05, 0x02, 0x12, 0x00, 0x00, 0x07, 0x49, 0x75, 0xEC, 0xF4};
constexpr std::array<std::uint8_t, 8> kF = {0x83, 0xC0, 0x05, 0xE9, 0xF8, 0x00, 0x00, 0x00};
constexpr std::array<std::uint8_t, 4> kG = {0x83, 0xC3, 0x01, 0xC3};

// Calls and returns, through the jump cache or translated inline: recursion
// 100 deep (each level's frame of three pushes a page group), a CALL whose
// RET never comes (call next; pop ebx), a RET to 2 bytes past its return
// address, a RET 4, a loop of calls. (At 0x1000; assembled with nasm.)
constexpr std::array<std::uint8_t, 86> kCalls = {
    0x31, 0xC0, 0xB9, 0x64, 0x00, 0x00, 0x00, 0xE8, 0x29, 0x00, 0x00, 0x00, 0xE8, 0x00, 0x00,
    0x00, 0x00, 0x5B, 0xE8, 0x2E, 0x00, 0x00, 0x00, 0x40, 0x40, 0x05, 0x00, 0x01, 0x00, 0x00,
    0x6A, 0x07, 0xE8, 0x26, 0x00, 0x00, 0x00, 0x01, 0xF0, 0xBE, 0x03, 0x00, 0x00, 0x00, 0xE8,
    0x21, 0x00, 0x00, 0x00, 0x4E, 0x75, 0xF8, 0xF4, 0x55, 0x56, 0x57, 0x49, 0x74, 0x05, 0xE8,
    0xF5, 0xFF, 0xFF, 0xFF, 0x40, 0x5F, 0x5E, 0x5D, 0xC3, 0x5A, 0x83, 0xC2, 0x02, 0x52, 0xC3,
    0x8B, 0x74, 0x24, 0x04, 0xC2, 0x04, 0x00, 0x83, 0xC7, 0x01, 0xC3};

}  // namespace

TEST_SUITE("jit") {
    TEST_CASE("calls and returns: deep and unmatched and redirected returns") {
        for (auto backend : cpu_backends()) {
            for (bool follow : {false, true}) {
                CAPTURE(static_cast<int>(backend));
                CAPTURE(follow);
                BareCpu m(backend, 1 << 16);
                cpu::CpuOptions options;
                options.follow_jumps = follow;
                m.cpu().set_options(options);
                for (std::size_t k = 0; k < kCalls.size(); ++k)
                    m.poke(0x1000 + static_cast<std::uint32_t>(k), kCalls[k]);
                // Three times: the later runs go through linked, cached blocks.
                for (int round = 0; round < 3; ++round) {
                    CAPTURE(round);
                    cpu::CpuState st = flat32_state(0x1000);
                    st.reg(Gpr::Esp) = 0x9000;
                    st.reg(Gpr::Edi) = 10;
                    m.cpu().set_state(st);
                    const std::uint64_t before = m.cpu().statistics().instructions;
                    REQUIRE(m.cpu().run(10000) == cpu::CpuExit::Halted);
                    CHECK(m.state().reg(Gpr::Eax) == 100 + 0x100 + 7);
                    CHECK(m.state().reg(Gpr::Ebx) == 0x1011);
                    CHECK(m.state().reg(Gpr::Edi) == 13);
                    CHECK(m.state().reg(Gpr::Esp) == 0x9000);
                    CHECK(m.state().eip == 0x1035);  // past the hlt
                    // xor, mov, call; rec: 99 x (3 pushes, dec, jz, call) + (3 pushes,
                    // dec, jz) + 100 x (inc, 3 pops, ret); call, pop, call, skip2's
                    // 4, add, push, call, callee_pops' 2, add, mov; 3 x (call, add,
                    // ret, dec, jnz); hlt.
                    CHECK(m.cpu().statistics().instructions - before ==
                          3 + 99 * 6 + 5 + 100 * 5 + 2 + 1 + 4 + 1 + 1 + 1 + 2 + 1 + 1 + 3 * 5 + 1);
                }
            }
        }
    }

    TEST_CASE(
        "followed jumps: code changed at a jump's target retires the block that went on there") {
        for (auto backend : cpu_backends()) {
            for (bool follow : {false, true}) {
                CAPTURE(static_cast<int>(backend));
                CAPTURE(follow);
                BareCpu m(backend, 1 << 16);
                cpu::CpuOptions options;
                options.follow_jumps = follow;
                m.cpu().set_options(options);
                const auto load = [&](std::uint32_t at, const auto& bytes) {
                    for (std::size_t k = 0; k < bytes.size(); ++k)
                        m.poke(at + static_cast<std::uint32_t>(k), bytes[k]);
                };
                load(0x1000, kMain);
                load(0x1100, kF);
                load(0x1200, kG);
                cpu::CpuState st = flat32_state(0x1000);
                st.reg(Gpr::Esp) = 0x9000;
                m.cpu().set_state(st);
                REQUIRE(m.cpu().run(1000) == cpu::CpuExit::Halted);
                CHECK(m.state().reg(Gpr::Eax) == 15);
                CHECK(m.state().reg(Gpr::Ebx) == 1 + 1 + 7);  // the third round adds 7
                CHECK(m.state().reg(Gpr::Ecx) == 0);
                // 3 + 3 rounds of (call, add, jmp, add, ret, cmp, jne, dec, jnz),
                // the store once, hlt.
                CHECK(m.cpu().statistics().instructions == 3 + 3 * 9 + 1 + 1);
            }
        }
    }

    TEST_CASE("superblocks: side exits taken or not give the same results and instruction counts") {
        for (auto backend : cpu_backends()) {
            for (bool superblocks : {false, true}) {
                BareCpu m(backend, 1 << 16);
                cpu::CpuOptions options;
                options.superblocks = superblocks;
                m.cpu().set_options(options);
                for (std::size_t k = 0; k < kProgram.size(); ++k)
                    m.poke(kCode + static_cast<std::uint32_t>(k), kProgram[k]);
                for (std::uint32_t n : {1u, 2u, 7u, 8u, 21u}) {
                    CAPTURE(static_cast<int>(backend));
                    CAPTURE(superblocks);
                    CAPTURE(n);
                    std::memset(m.ram() + kData, 0, 8);
                    cpu::CpuState st = flat32_state(kCode);
                    st.reg(Gpr::Ecx) = n;
                    st.reg(Gpr::Esi) = kData;
                    st.reg(Gpr::Esp) = 0x9000;
                    m.cpu().set_state(st);
                    const std::uint64_t before = m.cpu().statistics().instructions;
                    REQUIRE(m.cpu().run(100000) == cpu::CpuExit::Halted);
                    const Expected e = expected(n);
                    CHECK(m.state().reg(Gpr::Eax) == e.eax);
                    CHECK(m.state().reg(Gpr::Ecx) == 0);
                    std::uint32_t stored[2];
                    std::memcpy(stored, m.ram() + kData, 8);
                    CHECK(stored[0] == e.last_odd_eax);
                    CHECK(stored[1] == e.seven);
                    CHECK(m.cpu().statistics().instructions - before == e.instructions);
                }
            }
        }
    }
}
