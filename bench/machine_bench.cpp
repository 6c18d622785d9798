// Whole-machine benchmarks: booting the firmware, and the integer workloads
// guest, per backend. Counters report guest instructions per second.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "jitterbug/jitterbug.hpp"

using namespace jitterbug;

namespace {

Machine make_machine(Backend backend) {
    MachineConfig config;
    config.backend = backend;
    config.serial_output = [](std::span<const std::uint8_t>) {};
    Result<Machine> m = Machine::create(std::move(config));
    if (!m) throw std::runtime_error(m.error().message);
    return std::move(m).value();
}

Backend backend_of(const benchmark::State& state) {
    return state.range(0) == 0 ? Backend::Interpreter : Backend::Jit;
}

void BM_BootFirmware(benchmark::State& state) {
    const Backend backend = backend_of(state);
    std::uint64_t instructions = 0;
    for (auto _ : state) {
        Machine m = make_machine(backend);
        m.run();
        instructions += m.statistics().guest_instructions;
    }
    state.counters["guest_insns/s"] =
        benchmark::Counter(static_cast<double>(instructions), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(to_string(backend)));
}

void BM_Workloads(benchmark::State& state) {
    const Backend backend = backend_of(state);
    const auto kernel = std::filesystem::path(JITTERBUG_GUEST_DIR) / "workloads.elf";
    std::uint64_t instructions = 0;
    for (auto _ : state) {
        Machine m = make_machine(backend);
        if (!m.load_multiboot(kernel, "scale=1")) state.SkipWithError("cannot load workloads.elf");
        const RunResult r = m.run();
        if (r.reason != StopReason::GuestExit) state.SkipWithError("the workloads did not finish");
        instructions += m.statistics().guest_instructions;
    }
    state.counters["guest_insns/s"] =
        benchmark::Counter(static_cast<double>(instructions), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(to_string(backend)));
}

void backends(benchmark::internal::Benchmark* b) {
    b->Arg(0);
    if (jit_available()) b->Arg(1);
    b->ArgName("jit");
}

}  // namespace

BENCHMARK(BM_BootFirmware)->Apply(backends)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Workloads)->Apply(backends)->Unit(benchmark::kMillisecond);
