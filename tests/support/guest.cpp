#include "support/guest.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

namespace jitterbug::test {

std::vector<Backend> long_run_backends() {
    const bool long_tests = std::getenv("JITTERBUG_LONG_TESTS") != nullptr;
    std::vector<Backend> out;
    for (Backend backend : backends()) {
        if (backend == Backend::Interpreter && jit_available() && !long_tests) {
            MESSAGE(
                "the interpreter boots it in builds without the JIT, or with "
                "JITTERBUG_LONG_TESTS=1");
            continue;
        }
        out.push_back(backend);
    }
    return out;
}

GuestRun run_guest(Backend backend, const std::filesystem::path& kernel, std::string_view cmdline,
                   std::uint64_t memory) {
    MachineConfig config;
    config.backend = backend;
    config.memory_bytes = memory;
    // (Every block through the JIT: the guests test its code.)
    config.optimizations.tiering = false;
    return run_guest(std::move(config), kernel, cmdline);
}

GuestRun run_guest(MachineConfig config, const std::filesystem::path& kernel,
                   std::string_view cmdline) {
    GuestRun run;
    config.serial_output = [&run](std::span<const std::uint8_t> bytes) {
        run.serial.append(bytes.begin(), bytes.end());
    };
    Result<Machine> machine = Machine::create(std::move(config));
    REQUIRE_MESSAGE(machine.ok(), (machine.ok() ? "" : machine.error().message));
    if (!kernel.empty()) {
        const Result<void> loaded = machine->load_multiboot(kernel, cmdline);
        REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
    }
    run.result = machine->run();
    run.stats = machine->statistics();
    return run;
}

}  // namespace jitterbug::test
