// The embedded firmware boots on every backend and prints exactly its lines.
#include <doctest/doctest.h>

#include "support/guest.hpp"

using namespace jitterbug;

TEST_SUITE("guests") {
    TEST_CASE("the firmware prints its greeting and the RAM size and then halts") {
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            const test::GuestRun run = test::run_guest(backend);
            CHECK(run.serial == "jitterbug: firmware ok\r\njitterbug: RAM 65536 KiB\r\n");
            CHECK(run.result.reason == StopReason::Halted);
            CHECK(run.result.exit_status == 0);
            CHECK(run.stats.guest_instructions > 100);
            CHECK(run.stats.blocks_translated > 0);
        }
    }

    TEST_CASE("the firmware reports the RAM size the CMOS gives it") {
        struct Case {
            std::uint64_t bytes;
            const char* line;
        };
        const Case cases[] = {
            {std::uint64_t{1} << 20, "jitterbug: RAM 1024 KiB\r\n"},
            {std::uint64_t{15} << 20, "jitterbug: RAM 15360 KiB\r\n"},
            {std::uint64_t{16} << 20, "jitterbug: RAM 16384 KiB\r\n"},
            {(std::uint64_t{16} << 20) + 65536, "jitterbug: RAM 16448 KiB\r\n"},
            {std::uint64_t{3} << 30, "jitterbug: RAM 3145728 KiB\r\n"},
        };
        for (Backend backend : test::backends()) {
            for (const Case& c : cases) {
                CAPTURE(to_string(backend));
                CAPTURE(c.bytes);
                const test::GuestRun run = test::run_guest(backend, {}, {}, c.bytes);
                CHECK(run.serial == std::string("jitterbug: firmware ok\r\n") + c.line);
            }
        }
    }
}
