// CPU-level costs: creating an instance and running its first instruction,
// a guest memory access that hits or misses the TLB, and a dispatch through
// the jump cache or the block cache. Each guest loop runs a million times per
// benchmark iteration; the counters give nanoseconds per loop iteration.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "jitterbug/jitterbug.hpp"
#include "support/bare_cpu.hpp"

using namespace jitterbug;
using cpu::Gpr;

namespace {

constexpr std::uint32_t kCodeAt = 0x1000;
constexpr std::uint32_t kIterations = 1'000'000;

// A CPU over RAM alone (test::BareCpu), in flat 32-bit protected mode,
// running `code` at kCodeAt (followed by HLT).
struct BareMachine {
    test::BareCpu bare;

    // (direct_at_once: the JIT's direct memory accesses from the start, not
    // after CpuOptions::direct_memory_after instructions.)
    BareMachine(cpu::BackendKind backend, std::uint64_t ram_bytes,
                const std::vector<std::uint8_t>& code, bool direct_at_once = true)
        : bare(backend, ram_bytes, direct_at_once) {
        std::memcpy(bare.ram() + kCodeAt, code.data(), code.size());
        bare.ram()[kCodeAt + code.size()] = 0xF4;  // HLT
    }

    cpu::CpuExit start(std::initializer_list<std::pair<Gpr, std::uint32_t>> regs) {
        cpu::CpuState st = test::flat32_state(kCodeAt);
        st.reg(Gpr::Esp) = 0x800;
        for (auto [r, v] : regs)
            st.reg(r) = v;
        bare.cpu().set_state(st);
        return bare.cpu().run();
    }
};

cpu::BackendKind backend_of(const benchmark::State& state) {
    return state.range(0) == 0 ? cpu::BackendKind::Interpreter : cpu::BackendKind::Jit;
}

void per_iteration(benchmark::State& state, std::uint64_t loops) {
    state.counters["ns/loop"] = benchmark::Counter(
        static_cast<double>(loops), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Machine::create with 64 MiB of RAM: what an embedder pays per instance.
void BM_CreateMachine(benchmark::State& state) {
    for (auto _ : state) {
        MachineConfig config;
        config.backend = state.range(0) == 0 ? Backend::Interpreter : Backend::Jit;
        Result<Machine> m = Machine::create(std::move(config));
        if (!m) state.SkipWithError("Machine::create failed");
        benchmark::DoNotOptimize(m);
    }
}

// A CPU created, given its state, and run to its first instruction (HLT).
void BM_FirstInstruction(benchmark::State& state) {
    for (auto _ : state) {
        BareMachine m(backend_of(state), 1 << 20, {}, false);
        if (m.start({}) != cpu::CpuExit::Halted) state.SkipWithError("no HLT");
    }
}

// mov eax, [esi + ebx]; add ebx, edx; and ebx, edi; dec ecx; jnz back.
// EDX = 4 walks one page (every access a TLB hit); EDX = 4096 over 2048
// pages walks twice the TLB's reach (every access a miss, refilled from
// the page's RAM mapping).
// (Range 2: the JIT's direct accesses instead of the TLB, the walk of one page.)
void BM_GuestLoad(benchmark::State& state) {
    const bool miss = state.range(1) == 1;
    const bool direct = state.range(1) == 2;
    BareMachine m(backend_of(state), 16 << 20,
                  {0x8B, 0x04, 0x1E, 0x01, 0xD3, 0x21, 0xFB, 0x49, 0x75, 0xF6});
    cpu::CpuOptions options = m.bare.cpu().options();
    options.backend.fastmem = direct;
    m.bare.cpu().set_options(options);
    std::uint64_t loops = 0;
    for (auto _ : state) {
        m.start({{Gpr::Ecx, kIterations},
                 {Gpr::Esi, 0x400000},
                 {Gpr::Ebx, 0},
                 {Gpr::Edx, miss ? 4096u : 4u},
                 {Gpr::Edi, miss ? 0x7FFFFFu : 0xFFFu}});
        loops += kIterations;
    }
    per_iteration(state, loops);
    state.SetLabel(direct ? "direct" : miss ? "TLB miss" : "TLB hit");
}

// dec ecx; jz out; jmp eax (EAX = the loop): one indirect jump per loop,
// found in the jump cache, or (range 1 = 0) by the dispatcher in the block
// cache.
void BM_IndirectJump(benchmark::State& state) {
    const bool jump_cache = state.range(1) != 0;
    BareMachine m(backend_of(state), 1 << 20, {0x49, 0x74, 0x02, 0xFF, 0xE0});
    cpu::CpuOptions options = m.bare.cpu().options();
    options.backend.jump_cache = jump_cache;
    m.bare.cpu().set_options(options);
    std::uint64_t loops = 0;
    for (auto _ : state) {
        m.start({{Gpr::Ecx, kIterations}, {Gpr::Eax, kCodeAt}});
        loops += kIterations;
    }
    per_iteration(state, loops);
    state.SetLabel(jump_cache ? "jump cache" : "dispatcher");
}

void backends(benchmark::internal::Benchmark* b) {
    b->Arg(0);
    if (jit_available()) b->Arg(1);
    b->ArgName("jit");
}

void backends_by(benchmark::internal::Benchmark* b, const char* second) {
    for (int jit = 0; jit <= (jit_available() ? 1 : 0); ++jit) {
        for (int k = 0; k <= 1; ++k)
            b->Args({jit, k});
    }
    b->ArgNames({"jit", second});
}

}  // namespace

BENCHMARK(BM_CreateMachine)->Apply(backends)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FirstInstruction)->Apply(backends)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GuestLoad)
    ->Apply([](benchmark::internal::Benchmark* b) {
        backends_by(b, "miss");
        if (jit_available()) b->Args({1, 2});
    })
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IndirectJump)
    ->Apply([](benchmark::internal::Benchmark* b) { backends_by(b, "jump_cache"); })
    ->Unit(benchmark::kMillisecond);
