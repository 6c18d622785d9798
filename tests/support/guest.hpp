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
