// The integer workloads compute the same report under jitterbug, on every
// backend, as the same C code compiled for and run on the host.
#include <doctest/doctest.h>

#include <cstdio>
#include <memory>

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

}  // namespace

TEST_SUITE("guests") {
    TEST_CASE("the workloads report matches native execution on every backend") {
        const unsigned scale = 1;
#ifdef JITTERBUG_WORKLOADS_NATIVE
        const std::string expected = run_native(JITTERBUG_WORKLOADS_NATIVE, scale);
        REQUIRE(expected.find("wide_arithmetic:") != std::string::npos);
#else
        MESSAGE("no native 32-bit build on this host: comparing the backends with each other only");
        const std::string expected =
            test::run_guest(Backend::Interpreter, test::guest_path("workloads.elf"), "scale=1")
                .serial;
#endif
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
