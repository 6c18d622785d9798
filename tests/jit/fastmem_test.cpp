// Direct guest memory accesses (mode::kFastmem): the JIT reaches RAM through
// the CPU's GuestWindow with no lookup, and everything that is not plain
// RAM faults there and resumes at the access's slow path. Each case must
// give what the interpreter gives, and the JIT must really have used the
// window (Cpu::direct_memory).
#include <doctest/doctest.h>
#include <sys/auxv.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;

namespace {

// Whether this host lets the JIT base GS itself (user-mode FSGSBASE), which
// direct accesses need; without, the JIT keeps to the TLB (checked below).
bool host_allows_direct() {
    constexpr unsigned long kFsgsbase = 1ul << 1;  // HWCAP2_FSGSBASE
    return (getauxval(AT_HWCAP2) & kFsgsbase) != 0;
}

// Whether `backend` should have accessed memory directly here.
bool expect_direct(cpu::BackendKind backend) {
    if (backend != cpu::BackendKind::Jit) return false;
    if (!host_allows_direct()) {
        MESSAGE("this host has no user-mode FSGSBASE: the JIT's direct accesses are not tested");
        return false;
    }
    return true;
}

// A device that remembers what was written and answers reads with a
// pattern of the offset.
struct Recorder : mmu::MmioHandler {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> writes;
    std::uint64_t mmio_read(std::uint64_t offset, unsigned) override {
        return 0xA5000000u | static_cast<std::uint32_t>(offset);
    }
    void mmio_write(std::uint64_t offset, unsigned, std::uint64_t value) override {
        writes.emplace_back(offset, value);
    }
};

void load(BareCpu& m, std::uint32_t at, std::span<const std::uint8_t> code) {
    for (std::size_t i = 0; i < code.size(); ++i)
        m.poke(at + static_cast<std::uint32_t>(i), code[i]);
}

struct Outcome {
    cpu::CpuExit exit;
    cpu::CpuState state;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> device_writes;
    std::uint32_t ram_word;  // at 0x8000
    bool direct;
    std::uint64_t faults;
};

// RAM 0..1 MiB, ROM 0x100000..+4 KiB holding 0x11223344 at its start, the
// recorder at 0x200000, nothing at 0x300000. The program: mov eax,
// [0x200010]; mov [0x200020], eax; mov ebx, [0x100000]; mov dword
// [0x100000], 0 (ignored: ROM); mov ecx, [0x100000]; mov edx, [0x300000]
// (all ones); mov [0x8000], eax; mov esi, [0x8000]; twice round a loop
// (dec edi; jnz), then hlt.
Outcome run_devices(cpu::BackendKind backend) {
    static const std::array<std::uint8_t, 4096> rom = [] {
        std::array<std::uint8_t, 4096> r{};
        const std::uint32_t v = 0x11223344;
        std::memcpy(r.data(), &v, 4);
        return r;
    }();
    BareCpu m(backend, 1 << 20);
    Recorder recorder;
    REQUIRE(m.memory().map_rom(PhysicalAddress{0x100000}, rom, "ROM"));
    REQUIRE(m.memory().map_mmio(PhysicalAddress{0x200000}, 0x1000, recorder, "recorder"));
    constexpr std::array<std::uint8_t, 48> kCode = {
        0xA1, 0x10, 0x00, 0x20, 0x00,                                // mov eax, [0x200010]
        0xA3, 0x20, 0x00, 0x20, 0x00,                                // mov [0x200020], eax
        0x8B, 0x1D, 0x00, 0x00, 0x10, 0x00,                          // mov ebx, [0x100000]
        0xC7, 0x05, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,  // mov dword [0x100000], 0
        0x8B, 0x0D, 0x00, 0x00, 0x10, 0x00,                          // mov ecx, [0x100000]
        0x8B, 0x15, 0x00, 0x00, 0x30, 0x00,                          // mov edx, [0x300000]
        0xA3, 0x00, 0x80, 0x00, 0x00,                                // mov [0x8000], eax
        0x8B, 0x35, 0x00, 0x80, 0x00,                                // mov esi, [0x8000] (...)
    };
    load(m, 0x2000, kCode);
    // (The last byte of that address; dec edi; jnz 0x2000; hlt.)
    constexpr std::array<std::uint8_t, 5> kTail = {0x00, 0x4F, 0x75, 0xCC, 0xF4};
    load(m, 0x2000 + kCode.size(), kTail);
    cpu::CpuState st = flat32_state(0x2000);
    st.reg(Gpr::Edi) = 2;
    m.cpu().set_state(st);
    Outcome o{m.cpu().run(1000),       m.state(),
              recorder.writes,         0,
              m.cpu().direct_memory(), m.cpu().statistics().direct_access_faults};
    std::memcpy(&o.ram_word, m.ram() + 0x8000, 4);
    return o;
}

}  // namespace

TEST_SUITE("jit") {
    TEST_CASE("direct accesses: MMIO and ROM and holes go to the slow path and RAM does not") {
        const Outcome ref = run_devices(cpu::BackendKind::Interpreter);
        REQUIRE(ref.exit == cpu::CpuExit::Halted);
        CHECK(ref.state.reg(Gpr::Eax) == 0xA5000010);
        CHECK(ref.state.reg(Gpr::Ebx) == 0x11223344);
        CHECK(ref.state.reg(Gpr::Ecx) == 0x11223344);  // the ROM write was dropped
        CHECK(ref.state.reg(Gpr::Edx) == 0xFFFFFFFF);  // nothing there
        CHECK(ref.state.reg(Gpr::Esi) == 0xA5000010);
        CHECK(ref.ram_word == 0xA5000010);
        using W = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
        CHECK(ref.device_writes == W{{0x20, 0xA5000010}, {0x20, 0xA5000010}});
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            const Outcome o = run_devices(backend);
            CHECK(o.exit == ref.exit);
            for (unsigned g = 0; g < 8; ++g) {
                CAPTURE(g);
                CHECK(o.state.reg(static_cast<Gpr>(g)) == ref.state.reg(static_cast<Gpr>(g)));
            }
            CHECK(o.device_writes == ref.device_writes);
            CHECK(o.ram_word == ref.ram_word);
            CHECK(o.direct == expect_direct(backend));
            // Direct: per round, the device read and write, the ROM read,
            // write and read again, the hole's read: 6 faults, 12 in all;
            // the RAM write and read none.
            CHECK(o.faults == (o.direct ? 12u : 0u));
        }
    }

    TEST_CASE("direct accesses: one wrapping past 4 GiB faults as the segment check says") {
        // mov eax, [0xFFFFFFFE] with flat DS: #GP(0), EIP at the instruction.
        constexpr std::array<std::uint8_t, 6> kCode = {0x8B, 0x05, 0xFE, 0xFF, 0xFF, 0xFF};
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            load(m, 0x2000, kCode);
            m.cpu().set_stop_on_events(true);
            m.cpu().set_state(flat32_state(0x2000));
            CHECK(m.cpu().run(10) == cpu::CpuExit::Event);
            CHECK(m.cpu().last_event().vector == cpu::vector::GP);
            CHECK(m.cpu().last_event().error_code == 0);
            CHECK(m.state().eip == 0x2000);
        }
    }

    TEST_CASE("direct accesses: an address added up in the access wraps at 4 GiB as the guest's") {
        // EBX = 0xFFFFFFF8, ECX = 4, ESI = 0x8000:
        // mov dword [ebx + 0x8010], 0xCAFEBABE (0x8008, wrapped)
        // mov [esi + 4], ecx; mov eax, [esi + ecx*4 - 8]; mov edx, [esi + ecx]
        // mov edi, [ebx + 6] (0xFFFFFFFE: past the flat limit, #GP(0))
        constexpr std::array<std::uint8_t, 23> kCode = {
            0xC7, 0x83, 0x10, 0x80, 0x00, 0x00, 0xBE, 0xBA, 0xFE, 0xCA, 0x89, 0x4E,
            0x04, 0x8B, 0x44, 0x8E, 0xF8, 0x8B, 0x14, 0x0E, 0x8B, 0x7B, 0x06};
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            load(m, 0x2000, kCode);
            m.cpu().set_stop_on_events(true);
            cpu::CpuState st = flat32_state(0x2000);
            st.reg(Gpr::Ebx) = 0xFFFFFFF8;
            st.reg(Gpr::Ecx) = 4;
            st.reg(Gpr::Esi) = 0x8000;
            m.cpu().set_state(st);
            CHECK(m.cpu().run(100) == cpu::CpuExit::Event);
            CHECK(m.cpu().last_event().vector == cpu::vector::GP);
            CHECK(m.cpu().last_event().error_code == 0);
            CHECK(m.state().eip == 0x2000 + 20);
            std::uint32_t v = 0;
            std::memcpy(&v, m.ram() + 0x8008, 4);
            CHECK(v == 0xCAFEBABE);
            CHECK(m.state().reg(Gpr::Eax) == 0xCAFEBABE);
            CHECK(m.state().reg(Gpr::Edx) == 4);
            CHECK(m.state().reg(Gpr::Edi) == 0);
            // Direct: only the access past 4 GiB faulted (into the guard).
            CHECK(m.cpu().statistics().direct_access_faults == (expect_direct(backend) ? 1u : 0u));
        }
    }

    TEST_CASE(
        "direct accesses: pushes whose ESP the access computes wrap and fault and resume exactly") {
        // ESP = 8: push ebx; push ecx; push edx (to 0xFFFFFFFC: no RAM
        // there, dropped); pop eax (all ones); pop esi; pop edi; hlt.
        constexpr std::array<std::uint8_t, 7> kWrap = {0x53, 0x51, 0x52, 0x58, 0x5E, 0x5F, 0xF4};
        // ESP = 2: push ebx writes past 4 GiB: #SS(0), ESP as it was.
        constexpr std::array<std::uint8_t, 2> kFault = {0x53, 0xF4};
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            {
                BareCpu m(backend, 1 << 20);
                load(m, 0x2000, kWrap);
                cpu::CpuState st = flat32_state(0x2000);
                st.reg(Gpr::Esp) = 8;
                st.reg(Gpr::Ebx) = 0x11111111;
                st.reg(Gpr::Ecx) = 0x22222222;
                st.reg(Gpr::Edx) = 0x33333333;
                m.cpu().set_state(st);
                REQUIRE(m.cpu().run(100) == cpu::CpuExit::Halted);
                CHECK(m.state().reg(Gpr::Eax) == 0xFFFFFFFF);
                CHECK(m.state().reg(Gpr::Esi) == 0x22222222);
                CHECK(m.state().reg(Gpr::Edi) == 0x11111111);
                CHECK(m.state().reg(Gpr::Esp) == 8);
                std::array<std::uint32_t, 2> stack{};
                std::memcpy(stack.data(), m.ram(), 8);
                CHECK(stack == std::array<std::uint32_t, 2>{0x22222222, 0x11111111});
            }
            {
                BareCpu m(backend, 1 << 20);
                load(m, 0x2000, kFault);
                m.cpu().set_stop_on_events(true);
                cpu::CpuState st = flat32_state(0x2000);
                st.reg(Gpr::Esp) = 2;
                m.cpu().set_state(st);
                CHECK(m.cpu().run(100) == cpu::CpuExit::Event);
                CHECK(m.cpu().last_event().vector == cpu::vector::SS);
                CHECK(m.cpu().last_event().error_code == 0);
                CHECK(m.state().eip == 0x2000);
                CHECK(m.state().reg(Gpr::Esp) == 2);
            }
        }
    }

    TEST_CASE("direct accesses: RAM mapped after the window was made is reached all the same") {
        // A first run makes the window; then more RAM, at 1 MiB, and mov
        // dword [0x180000], 0x12345678; mov eax, [0x180000]; hlt (in RAM the
        // window does not show: the slow path by way of a fault).
        constexpr std::array<std::uint8_t, 16> kCode = {0xC7, 0x05, 0x00, 0x00, 0x18, 0x00,
                                                        0x78, 0x56, 0x34, 0x12, 0xA1, 0x00,
                                                        0x00, 0x18, 0x00, 0xF4};
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            m.poke(0x1000, 0xF4);
            m.cpu().set_state(flat32_state(0x1000));
            REQUIRE(m.cpu().run(10) == cpu::CpuExit::Halted);
            CHECK(m.cpu().direct_memory() == expect_direct(backend));
            mmu::HostMemory more(1 << 20);
            REQUIRE(m.memory().map_ram(PhysicalAddress{0x100000}, more.bytes(), "more",
                                       more.backing(more.bytes())));
            load(m, 0x2000, kCode);
            m.cpu().set_state(flat32_state(0x2000));
            CHECK(m.cpu().run(10) == cpu::CpuExit::Halted);
            CHECK(m.state().reg(Gpr::Eax) == 0x12345678);
            std::uint32_t v = 0;
            std::memcpy(&v, more.data() + 0x80000, 4);
            CHECK(v == 0x12345678);
        }
    }

    TEST_CASE("direct accesses: a guest that never leaves its chained loop gets them when due") {
        // mov ecx, 3000; l: mov eax, [0x200000]; dec ecx; jnz l; hlt — one
        // self-chained block reading a device, with no budget to end it. The
        // window is due after 3000 instructions (of 9002): from then on each
        // read is a direct access that faults to its slow path.
        constexpr std::array<std::uint8_t, 14> kCode = {0xB9, 0xB8, 0x0B, 0x00, 0x00, 0xA1, 0x00,
                                                        0x00, 0x20, 0x00, 0x49, 0x75, 0xF8, 0xF4};
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20, false);
            cpu::CpuOptions options = m.cpu().options();
            options.direct_memory_after = 3000;
            m.cpu().set_options(options);
            Recorder device;
            REQUIRE(m.memory().map_mmio(PhysicalAddress{0x200000}, 0x1000, device, "device"));
            load(m, 0x1000, kCode);
            m.cpu().set_state(flat32_state(0x1000));
            REQUIRE(m.cpu().run() == cpu::CpuExit::Halted);
            CHECK(m.state().reg(Gpr::Eax) == 0xA5000000u);
            CHECK(m.state().reg(Gpr::Ecx) == 0);
            const std::uint64_t faults = m.cpu().statistics().direct_access_faults;
            if (expect_direct(backend)) {
                // (About 2000 iterations after the window; a few more are
                // spent before its block is translated again.)
                CHECK(faults > 1900);
                CHECK(faults <= 2000);
            } else {
                CHECK(faults == 0);
            }
        }
    }

    TEST_CASE("direct accesses: CPUs on several threads fault and resume each on its own") {
        // Each thread's CPU reads its device in a loop (with the JIT, a
        // fault every time): the handler must send each fault to its own
        // CPU's code. (The last backend: the JIT where the build has one.)
        const cpu::BackendKind backend = cpu_backends().back();
        constexpr unsigned kThreads = 4;
        std::array<std::uint32_t, kThreads> eax{};
        std::array<bool, kThreads> halted{};
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < kThreads; ++t) {
            threads.emplace_back([t, backend, &eax, &halted] {
                BareCpu m(backend, 1 << 20);
                Recorder recorder;
                (void)m.memory().map_mmio(PhysicalAddress{0x200000}, 0x1000, recorder, "dev");
                // mov eax, [0x200000 + 4t]; add [0x8000], eax; dec ecx; jnz; hlt
                const std::array<std::uint8_t, 16> code = {0xA1, static_cast<std::uint8_t>(4 * t),
                                                           0x00, 0x20,
                                                           0x00, 0x01,
                                                           0x05, 0x00,
                                                           0x80, 0x00,
                                                           0x00, 0x49,
                                                           0x75, 0xF2,
                                                           0xF4, 0x90};
                load(m, 0x2000, code);
                cpu::CpuState st = flat32_state(0x2000);
                st.reg(Gpr::Ecx) = 1000;
                m.cpu().set_state(st);
                halted[t] = m.cpu().run(100000) == cpu::CpuExit::Halted;
                std::memcpy(&eax[t], m.ram() + 0x8000, 4);
            });
        }
        for (std::thread& th : threads)
            th.join();
        for (unsigned t = 0; t < kThreads; ++t) {
            CAPTURE(t);
            CHECK(halted[t]);
            CHECK(eax[t] == (0xA5000000u + 4 * t) * 1000u);
        }
    }
}
