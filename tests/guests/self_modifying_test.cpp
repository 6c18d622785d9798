// Stores into translated code take effect at once: the blocks they touch are
// invalidated, and an instruction that overwrites its own block runs again
// on its own before the modified code is translated afresh.
#include <doctest/doctest.h>

#include "support/guest.hpp"

using namespace jitterbug;

TEST_SUITE("guests") {
    TEST_CASE("self-modifying code sees its own stores on every backend") {
        const std::string expected =
            "same_block 0x00000042\r\n"
            "same_block_again 0x00000017\r\n"
            "same_block_chained 0x00000091\r\n"
            "chained_block 0x00000001\r\n"
            "function 0x11111111\r\n"
            "patched_function 0x22222222\r\n"
            "rep_movsb 0x0000600d\r\n";
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            const test::GuestRun run =
                test::run_guest(backend, test::guest_path("self_modifying.elf"));
            CHECK(run.serial == expected);
            CHECK(run.result.reason == StopReason::GuestExit);
            CHECK(run.result.exit_status == 1);
        }
    }
}
