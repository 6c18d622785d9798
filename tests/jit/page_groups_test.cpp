// Page groups: stack accesses off one ESP value share one TLB check in the
// JIT, and a read of what the block stored there before takes the value.
// Whatever the stack's place (inside a page, across a page boundary, on a
// page that holds code), every backend must store and load the same. (The
// JIT makes page groups where it does not access guest memory directly:
// these tests turn direct accesses off, and run with them too.)
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <string>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;
using cpu::SegReg;

namespace {

// The JIT with page groups instead of direct accesses.
void use_page_groups(BareCpu& m) {
    cpu::CpuOptions o;
    o.backend.fastmem = false;
    m.cpu().set_options(o);
}

// Twice (the second time with the TLB warm): push ebp; push edi; push esi;
// push ebx; mov eax, [esp+8]; mov [esp+12], ecx; pop ebx; pop esi; pop edi;
// pop ebp; dec edx; jnz back (then hlt).
constexpr std::array<std::uint8_t, 18> kProgram = {0x55, 0x57, 0x56, 0x53, 0x8B, 0x44,
                                                   0x24, 0x08, 0x89, 0x4C, 0x24, 0x0C,
                                                   0x5B, 0x5E, 0x5F, 0x5D, 0x4A, 0x75};

struct StackRun {
    cpu::CpuExit exit;
    cpu::CpuState state;
    std::array<std::uint32_t, 4> stack;  // ESP-16 .. ESP-4 after the run
    std::uint64_t deopts;                // blocks made again without page groups
};

StackRun run(cpu::BackendKind backend, std::uint32_t code_at, std::uint32_t esp,
             bool groups = true) {
    BareCpu m(backend, 1 << 20);
    if (groups) use_page_groups(m);
    for (std::size_t i = 0; i < kProgram.size(); ++i)
        m.poke(code_at + static_cast<std::uint32_t>(i), kProgram[i]);
    const auto end = code_at + static_cast<std::uint32_t>(kProgram.size());
    m.poke(end, static_cast<std::uint8_t>(-static_cast<int>(kProgram.size() + 1)));  // jnz rel8
    m.poke(end + 1, 0xF4);                                                           // hlt
    cpu::CpuState st = flat32_state(code_at);
    st.reg(Gpr::Esp) = esp;
    st.reg(Gpr::Ebp) = 0xB0B0B0B0;
    st.reg(Gpr::Edi) = 0xD1D1D1D1;
    st.reg(Gpr::Esi) = 0x51515151;
    st.reg(Gpr::Ebx) = 0xBBBBBBBB;
    st.reg(Gpr::Ecx) = 0xCCCCCCCC;
    st.reg(Gpr::Edx) = 2;
    m.cpu().set_stop_on_events(true);
    m.cpu().set_state(st);
    StackRun r{m.cpu().run(1000), m.state(), {}, 0};
    for (unsigned k = 0; k < 4; ++k) {
        const std::uint32_t at = esp - 16 + 4 * k;
        if (at + 4 <= m.ram_size()) std::memcpy(&r.stack[k], m.ram() + at, 4);
    }
    r.deopts = m.cpu().statistics().page_group_deopts;
    return r;
}

// Store forwarding: mov [esi+8], eax; mov [esi+4], ebx; mov [esi], ecx;
// mov byte [esi+9], dl (into the dword at +8); mov ebp, [esi+8];
// mov [esi+4], eax; mov [edi], ebx (perhaps the same place); mov ecx,
// [esi+4]; mov [esi], edx; mov eax, [esi]; dec esp; jnz back (twice: the
// second time with the TLB warm); hlt.
constexpr std::array<std::uint8_t, 30> kStores = {
    0x89, 0x46, 0x08, 0x89, 0x5E, 0x04, 0x89, 0x0E, 0x88, 0x56, 0x09, 0x8B, 0x6E, 0x08, 0x89,
    0x46, 0x04, 0x89, 0x1F, 0x8B, 0x4E, 0x04, 0x89, 0x16, 0x8B, 0x06, 0x4C, 0x75, 0xE3, 0xF4};

struct StoresRun {
    cpu::CpuExit exit;
    cpu::CpuState state;
    std::array<std::uint8_t, 16> data;  // ESI .. ESI+15 after the run
};

StoresRun run_stores(cpu::BackendKind backend, std::uint32_t code_at, std::uint32_t esi,
                     std::uint32_t edi) {
    BareCpu m(backend, 1 << 20);
    use_page_groups(m);
    for (std::size_t i = 0; i < kStores.size(); ++i)
        m.poke(code_at + static_cast<std::uint32_t>(i), kStores[i]);
    cpu::CpuState st = flat32_state(code_at);
    st.reg(Gpr::Eax) = 0x11223344;
    st.reg(Gpr::Ebx) = 0x55667788;
    st.reg(Gpr::Ecx) = 0x99AABBCC;
    st.reg(Gpr::Edx) = 0xDDEEFF5A;
    st.reg(Gpr::Esi) = esi;
    st.reg(Gpr::Edi) = edi;
    st.reg(Gpr::Esp) = 2;  // the loop count
    m.cpu().set_stop_on_events(true);
    m.cpu().set_state(st);
    StoresRun r{m.cpu().run(1000), m.state(), {}};
    if (esi + 16 <= m.ram_size()) std::memcpy(r.data.data(), m.ram() + esi, 16);
    return r;
}

}  // namespace

TEST_SUITE("jit") {
    TEST_CASE("store forwarding: a read takes what the block stored there unless overwritten") {
        struct Place {
            const char* what;
            std::uint32_t code_at;
            std::uint32_t esi;
            std::uint32_t edi;
        };
        const Place places[] = {
            {"inside a page, EDI elsewhere", 0x2000, 0x8800, 0x6000},
            {"inside a page, EDI = ESI+4", 0x2000, 0x8800, 0x8804},
            {"EDI = ESI+6 (overlapping half of it)", 0x2000, 0x8800, 0x8806},
            {"across a page boundary", 0x2000, 0x8FFC, 0x9000},
            {"on the page of the code", 0x2000, 0x2100, 0x2104},
            {"past the end of RAM", 0x2000, 0xFFFF8, 0x6000},
        };
        for (const Place& p : places) {
            const std::string what = p.what;
            CAPTURE(what);
            const StoresRun reference =
                run_stores(cpu::BackendKind::Interpreter, p.code_at, p.esi, p.edi);
            REQUIRE(reference.exit == cpu::CpuExit::Halted);
            for (auto backend : cpu_backends()) {
                CAPTURE(static_cast<int>(backend));
                const StoresRun r = run_stores(backend, p.code_at, p.esi, p.edi);
                CHECK(r.exit == reference.exit);
                for (unsigned g = 0; g < 8; ++g) {
                    CAPTURE(g);
                    CHECK(r.state.reg(static_cast<Gpr>(g)) ==
                          reference.state.reg(static_cast<Gpr>(g)));
                }
                CHECK(r.data == reference.data);
            }
        }
        // The interpreter's own answer, worked by hand for the plain case.
        const StoresRun plain = run_stores(cpu::BackendKind::Interpreter, 0x2000, 0x8800, 0x6000);
        // (The second round stores EDX from the first as EAX.)
        CHECK(plain.state.reg(Gpr::Ebp) == 0xDDEE5A5A);  // EAX with DL in byte 1
        CHECK(plain.state.reg(Gpr::Ecx) == 0xDDEEFF5A);  // EAX, stored at +4 second
        CHECK(plain.state.reg(Gpr::Eax) == 0xDDEEFF5A);  // EDX
        const StoresRun alias = run_stores(cpu::BackendKind::Interpreter, 0x2000, 0x8800, 0x8804);
        CHECK(alias.state.reg(Gpr::Ecx) == 0x55667788);  // EBX, through EDI
    }

    TEST_CASE("stack accesses off one ESP: same results inside and across and on a code page") {
        struct Place {
            const char* what;
            std::uint32_t code_at;
            std::uint32_t esp;
            bool fast;  // the JIT's page group can take the fast path
        };
        const Place places[] = {
            {"inside a page", 0x2000, 0x8800, true},
            {"the frame ends exactly at the page start", 0x2000, 0x9010, true},
            {"the frame crosses a page boundary", 0x2000, 0x9008, false},
            {"the frame starts on the page before", 0x2000, 0x9002, false},
            {"the stack is on the page of the code", 0x9100, 0x9180, false},
        };
        for (const Place& p : places) {
            const std::string what = p.what;
            for (auto backend : cpu_backends()) {
                CAPTURE(what);
                CAPTURE(static_cast<int>(backend));
                const StackRun r = run(backend, p.code_at, p.esp);
                CHECK(r.exit == cpu::CpuExit::Halted);
                CHECK(r.state.reg(Gpr::Esp) == p.esp);
                CHECK(r.state.reg(Gpr::Eax) == 0xD1D1D1D1);  // the pushed EDI
                CHECK(r.state.reg(Gpr::Ebp) == 0xCCCCCCCC);  // ECX, stored over the pushed EBP
                CHECK(r.state.reg(Gpr::Edi) == 0xD1D1D1D1);
                CHECK(r.state.reg(Gpr::Esi) == 0x51515151);
                CHECK(r.state.reg(Gpr::Ebx) == 0xBBBBBBBB);
                CHECK(r.stack ==
                      std::array<std::uint32_t, 4>{0xBBBBBBBB, 0x51515151, 0xD1D1D1D1, 0xCCCCCCCC});
                // Where it cannot, the block leaves at the group's first
                // access and is made again without groups, once.
                const bool jit = backend == cpu::BackendKind::Jit;
                CHECK(r.deopts == (jit && !p.fast ? 1u : 0u));
                // Direct accesses instead: the same, with nothing to deoptimise.
                const StackRun direct = run(backend, p.code_at, p.esp, false);
                CHECK(direct.exit == cpu::CpuExit::Halted);
                CHECK(direct.state.reg(Gpr::Ebp) == 0xCCCCCCCC);
                CHECK(direct.stack == r.stack);
                CHECK(direct.deopts == 0);
            }
        }
    }

    TEST_CASE("stack accesses off one ESP: a helper between them and then the rest of the frame") {
        // push eax; bound eax, [0x3000] (a helper; EAX is within); push ebx;
        // push ecx; push edx; mov esi, [esp+12]; hlt — the accesses after the helper check
        // their page again, from an access other than the group's first;
        // with ESP 8 bytes above a page boundary, that check sees the frame
        // cross it.
        constexpr std::array<std::uint8_t, 14> kCode = {0x50, 0x62, 0x05, 0x00, 0x30, 0x00, 0x00,
                                                        0x53, 0x51, 0x52, 0x8B, 0x74, 0x24, 0x0C};
        for (const std::uint32_t esp : {0x8800u, 0x9008u, 0x9010u}) {
            CAPTURE(esp);
            for (auto backend : cpu_backends()) {
                CAPTURE(static_cast<int>(backend));
                BareCpu m(backend, 1 << 20);
                use_page_groups(m);
                for (std::size_t i = 0; i < kCode.size(); ++i)
                    m.poke(0x2000 + static_cast<std::uint32_t>(i), kCode[i]);
                m.poke(0x2000 + kCode.size(), 0xF4);
                m.poke(0x3007, 0x7F);  // bounds 0 .. 0x7F000000
                cpu::CpuState st = flat32_state(0x2000);
                st.reg(Gpr::Esp) = esp;
                st.reg(Gpr::Eax) = 0x2AAAAAAA;
                st.reg(Gpr::Ebx) = 0xBBBBBBBB;
                st.reg(Gpr::Ecx) = 0xCCCCCCCC;
                st.reg(Gpr::Edx) = 0xDDDDDDDD;
                m.cpu().set_state(st);
                REQUIRE(m.cpu().run(100) == cpu::CpuExit::Halted);
                std::array<std::uint32_t, 4> stack{};
                std::memcpy(stack.data(), m.ram() + esp - 16, 16);
                CHECK(stack ==
                      std::array<std::uint32_t, 4>{0xDDDDDDDD, 0xCCCCCCCC, 0xBBBBBBBB, 0x2AAAAAAA});
                CHECK(m.state().reg(Gpr::Esi) == 0x2AAAAAAA);
                CHECK(m.state().reg(Gpr::Esp) == esp - 16);
            }
        }
    }

    TEST_CASE("a device remapping memory from a data access: the JIT reports it as its bug") {
        // push eax; mov [0x300000], al (a device that turns A20 off there);
        // push ebx; push ecx; hlt. Translated code keeps a page's addend
        // across the slow paths of data accesses, so mappings may change
        // only in helpers (port I/O); the interpreter copes either way.
        constexpr std::array<std::uint8_t, 9> kCode = {0x50, 0xA2, 0x00, 0x00, 0x30,
                                                       0x00, 0x53, 0x51, 0xF4};
        struct A20Device : mmu::MmioHandler {
            cpu::Cpu* cpu = nullptr;
            std::uint64_t mmio_read(std::uint64_t, unsigned) override { return 0; }
            void mmio_write(std::uint64_t, unsigned, std::uint64_t) override {
                cpu->mmu().set_a20(false);
            }
        };
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 2 << 20);
            use_page_groups(m);
            A20Device device;
            device.cpu = &m.cpu();
            REQUIRE(m.memory().map_mmio(PhysicalAddress{0x300000}, 0x1000, device, "A20"));
            for (std::size_t i = 0; i < kCode.size(); ++i)
                m.poke(0x2000 + static_cast<std::uint32_t>(i), kCode[i]);
            cpu::CpuState st = flat32_state(0x2000);
            st.reg(Gpr::Esp) = 0x100800;
            st.reg(Gpr::Ebx) = 0xBBBBBBBB;
            m.cpu().set_state(st);
            const cpu::CpuExit exit = m.cpu().run(100);
            if (backend == cpu::BackendKind::Interpreter) {
                CHECK(exit == cpu::CpuExit::Halted);
                std::uint32_t v = 0;
                std::memcpy(&v, m.ram() + 0x0007F8, 4);
                CHECK(v == 0xBBBBBBBB);  // wrapped to the first MiB
            } else {
                CHECK(exit == cpu::CpuExit::InternalError);
                CHECK(m.cpu().error().find("changed the memory map") != std::string::npos);
            }
        }
    }

    TEST_CASE("stack accesses off one ESP: a frame running off the end of RAM") {
        // The upper half of the frame is past RAM (no memory there): every
        // backend must behave as the interpreter, access by access.
        const StackRun reference = run(cpu::BackendKind::Interpreter, 0x2000, 0x100008);
        CHECK(reference.exit == cpu::CpuExit::Halted);
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            const StackRun r = run(backend, 0x2000, 0x100008);
            CHECK(r.exit == reference.exit);
            for (unsigned g = 0; g < 8; ++g) {
                CAPTURE(g);
                CHECK(r.state.reg(static_cast<Gpr>(g)) == reference.state.reg(static_cast<Gpr>(g)));
            }
        }
    }
}
