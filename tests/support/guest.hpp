// Running guests in tests: build a Machine with a backend, capture its
// serial output, run it to the end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "jitterbug/jitterbug.hpp"

namespace jitterbug::test {

// Where the build put the guest programs (build/guests).
inline std::filesystem::path guest_path(std::string_view name) {
    return std::filesystem::path(JITTERBUG_GUEST_DIR) / name;
}

// The backends this build has: both on x86-64, the interpreter elsewhere.
inline std::vector<Backend> backends() {
    std::vector<Backend> b{Backend::Interpreter};
    if (jit_available()) b.push_back(Backend::Jit);
    return b;
}

// The backends a long guest boot (a minute or more on the interpreter)
// runs on: the interpreter only where the build has no JIT (CI's
// interpreter-only build) or with JITTERBUG_LONG_TESTS set; the test says
// so when it leaves it out.
std::vector<Backend> long_run_backends();

// Whether `text` holds `part`.
inline bool has(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

struct GuestRun {
    RunResult result;
    std::string serial;
    RunStatistics stats;
};

// Boots the firmware (kernel empty) or a multiboot kernel and runs it.
GuestRun run_guest(Backend backend, const std::filesystem::path& kernel = {},
                   std::string_view cmdline = {}, std::uint64_t memory = std::uint64_t{64} << 20);
// The same with a configuration of one's own (its serial output is captured).
GuestRun run_guest(MachineConfig config, const std::filesystem::path& kernel,
                   std::string_view cmdline = {});

}  // namespace jitterbug::test
