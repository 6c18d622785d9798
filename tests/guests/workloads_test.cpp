// The integer workloads compute the same report under jitterbug, on every
// backend, as the same C code compiled for and run on the host.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "support/guest.hpp"

using namespace jitterbug;

namespace {

std::string run_native(const char* program, unsigned scale) {
    const std::string command = std::string(program) + " " + std::to_string(scale);
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    REQUIRE(pipe);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe.get()))
        out.append(buf, n);
    return out;
}

// What the workloads print at scale 1: natively where the host can run the
// 32-bit build, else under the interpreter.
std::string expected_report() {
#ifdef JITTERBUG_WORKLOADS_NATIVE
    const std::string expected = run_native(JITTERBUG_WORKLOADS_NATIVE, 1);
    REQUIRE(expected.find("wide_arithmetic:") != std::string::npos);
    return expected;
#else
    MESSAGE("no native 32-bit build on this host: comparing the backends with each other only");
    return test::run_guest(Backend::Interpreter, test::guest_path("workloads.elf"), "scale=1")
        .serial;
#endif
}

}  // namespace

TEST_SUITE("guests") {
    TEST_CASE("the workloads report matches native execution on every backend") {
        const unsigned scale = 1;
        const std::string expected = expected_report();
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            const test::GuestRun run = test::run_guest(backend, test::guest_path("workloads.elf"),
                                                       "scale=" + std::to_string(scale));
            CHECK(run.serial == expected);
            CHECK(run.result.reason == StopReason::GuestExit);
            CHECK(run.result.exit_status == 1);
        }
    }
}

TEST_SUITE("jit") {
    // Each switch alone, and all of them at once: the report never changes.
    TEST_CASE("every optimisation can be turned off without changing what the guest computes") {
        const std::string expected = expected_report();
        using Switch = bool Optimizations::*;
        const std::pair<const char*, Switch> switches[] = {
            {"chain_blocks", &Optimizations::chain_blocks},
            {"jump_cache", &Optimizations::jump_cache},
            {"flat_segments", &Optimizations::flat_segments},
            {"bulk_strings", &Optimizations::bulk_strings},
            {"forward_and_fold", &Optimizations::forward_and_fold},
            {"dead_stores", &Optimizations::dead_stores},
            {"dead_code", &Optimizations::dead_code},
            {"host_flags", &Optimizations::host_flags},
            {"in_place_alu", &Optimizations::in_place_alu},
            {"inline_tlb", &Optimizations::inline_tlb},
            {"inline_divide", &Optimizations::inline_divide},
            {"lazy_flags", &Optimizations::lazy_flags},
            {"sink_records", &Optimizations::sink_records},
            {"page_groups", &Optimizations::page_groups},
            {"store_forwarding", &Optimizations::store_forwarding},
            {"fastmem", &Optimizations::fastmem},
            {"address_modes", &Optimizations::address_modes},
            {"loop_copies", &Optimizations::loop_copies},
            {"superblocks", &Optimizations::superblocks},
            {"follow_jumps", &Optimizations::follow_jumps},
            {"all", nullptr},
        };
        for (Backend backend : test::backends()) {
            for (const auto& [name, flag] : switches) {
                CAPTURE(to_string(backend));
                CAPTURE(name);
                MachineConfig config;
                config.backend = backend;
                if (flag) {
                    config.optimizations.*flag = false;
                } else {
                    for (const auto& [other, f] : switches)
                        if (f) config.optimizations.*f = false;
                }
                const test::GuestRun run = test::run_guest(
                    std::move(config), test::guest_path("workloads.elf"), "scale=1");
                CHECK(run.serial == expected);
                CHECK(run.result.reason == StopReason::GuestExit);
            }
        }
    }

    TEST_CASE("lockstep: the JIT and the interpreter agree block by block on the test guests") {
        if (!jit_available()) {
            MESSAGE("skipped: this build has no JIT to check");
            return;
        }
        const std::string expected = expected_report();
        for (const char* guest : {"workloads.elf", "self_modifying.elf", "multiboot_info.elf"}) {
            CAPTURE(guest);
            MachineConfig config;
            config.backend = Backend::Jit;
            config.lockstep = true;
            const test::GuestRun run =
                test::run_guest(std::move(config), test::guest_path(guest),
                                std::string(guest) == "workloads.elf" ? "scale=1" : "");
            CHECK_MESSAGE(run.result.reason == StopReason::GuestExit, run.result.detail);
            if (std::string(guest) == "workloads.elf") CHECK(run.serial == expected);
        }
    }

    TEST_CASE("request_stop from another thread ends a run inside chained blocks") {
        // The sieve loops inside linked blocks (and the jump cache) for minutes
        // at this scale: only the check at block entry can notice the request.
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            MachineConfig config;
            config.backend = backend;
            Result<Machine> machine = Machine::create(std::move(config));
            REQUIRE(machine.ok());
            REQUIRE(
                machine
                    ->load_multiboot(test::guest_path("workloads.elf"), "scale=1000000 only=sieve")
                    .ok());
            for (int round = 0; round < 2; ++round) {
                CAPTURE(round);
                const std::uint64_t before = machine->statistics().guest_instructions;
                RunResult result;
                std::thread runner([&] { result = machine->run(); });
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                machine->request_stop();
                runner.join();
                CHECK(result.reason == StopReason::StopRequested);
                // It ran (and, the second time, went on where it stopped).
                CHECK(machine->statistics().guest_instructions > before + 100000);
            }
        }
    }

    TEST_CASE("lockstep needs the JIT") {
        MachineConfig config;
        config.backend = Backend::Interpreter;
        config.lockstep = true;
        const Result<Machine> m = Machine::create(std::move(config));
        REQUIRE_FALSE(m.ok());
        CHECK(m.error().message.find("lockstep") != std::string::npos);
    }
}
