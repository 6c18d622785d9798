// The timer guest (tests/guests/system/timer.c): the 8254 and the 8259A
// pair bring IRQ 0 to a kernel, in real time and in deterministic time, and
// a deterministic run is the same, to the last byte of its output, on every
// run and on either backend.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/guest_lines.hpp"

using namespace jitterbug;

namespace {

constexpr std::string_view kChecks =
    "pit-mode2-ticks: 0x0a ok\r\n"
    "hlt-wakes-on-each-tick: 0x1 ok\r\n"
    "masked-irq0-no-ticks: 0x00 ok\r\n"
    "unmasked-irq0-arrives: 0x01 ok\r\n"
    "pit-mode0-one-shot: 0x01 ok\r\n"
    "pit-mode0-out-stays-high: 0x1 ok\r\n"
    "pit-ch2-out2-rises: 0x1 ok\r\n"
    "pit-ch2-msb-counts-down: 0x1 ok\r\n";

// The checks, then "loops-per-tick: N" (N depends on time), then the end.
void expect_timer_output(const test::GuestRun& run) {
    const std::vector<std::string_view> got = test::lines_of(run.serial);
    const std::vector<std::string_view> want = test::lines_of(kChecks);
    REQUIRE(got.size() == want.size() + 2);
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i] == want[i]);
    }
    CHECK(got[want.size()].substr(0, 16) == "loops-per-tick: ");
    CHECK(got[want.size() + 1] == "system_timer: done, 0 bad\r");
    CHECK(run.result.reason == StopReason::GuestExit);
}

test::GuestRun run_timer(Backend backend, bool deterministic) {
    MachineConfig config;
    config.backend = backend;
    config.deterministic = deterministic;
    std::string debug_console;
    config.debug_console_output = [&](std::span<const std::uint8_t> bytes) {
        debug_console.append(bytes.begin(), bytes.end());
    };
    test::GuestRun run = test::run_guest(std::move(config), test::guest_path("system_timer.elf"));
    CHECK(debug_console == "system_timer: debug console\n");
    return run;
}

}  // namespace

TEST_SUITE("guests") {
    TEST_CASE("the timer guest gets IRQ 0 from the 8254 through the 8259A pair in real time") {
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            expect_timer_output(run_timer(backend, false));
        }
    }

    TEST_CASE(
        "a deterministic run of the timer guest is the same every time and on either backend") {
        std::string first;
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            for (int round = 0; round < 2; ++round) {
                const test::GuestRun run = run_timer(backend, true);
                expect_timer_output(run);
                if (first.empty()) first = run.serial;
                CHECK(run.serial == first);
            }
        }
        MESSAGE("deterministic output: " << first);
    }
}
