// Checking a guest's serial output line by line, on each backend: a
// differing line is reported on its own, so that a failure names the check.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/guest.hpp"

namespace jitterbug::test {

inline std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        lines.push_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

// Runs build/guests/<kernel>.elf on each backend and expects `expected`,
// then a clean exit through the exit port.
inline void expect_guest_output(const char* kernel, std::string_view expected) {
    for (Backend backend : backends()) {
        CAPTURE(to_string(backend));
        const GuestRun run = run_guest(backend, guest_path(std::string(kernel) + ".elf"));
        const std::vector<std::string_view> got = lines_of(run.serial);
        const std::vector<std::string_view> want = lines_of(expected);
        for (std::size_t i = 0; i < want.size() && i < got.size(); ++i) {
            CAPTURE(i);
            CHECK(got[i] == want[i]);
        }
        CHECK(got.size() == want.size());
        CHECK(run.result.reason == StopReason::GuestExit);
        CHECK(run.result.exit_status == 1);
    }
}

}  // namespace jitterbug::test
