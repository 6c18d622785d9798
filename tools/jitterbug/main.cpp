// jitterbug: the command-line tool over the public API.
//
//   jitterbug run [--kernel FILE [--initrd FILE] [--append ARGS]] [--backend jit|interp]
//                 [--memory SIZE] [--stats] [--disable OPT,...] [--lockstep]
//                 [--deterministic]
//
// Exit status: 0 when the guest halts with interrupts disabled; (v << 1) | 1
// when it writes v to the exit port 0xF4; 3 after a triple fault; 4 when
// --lockstep finds the JIT and the interpreter disagreeing; 130 when
// interrupted; 2 for bad arguments; 1 when the guest cannot be loaded;
// 125 when the emulator fails.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "jitterbug/jitterbug.hpp"

namespace {

// Parses "64M", "1G", "512K" or a plain byte count.
std::optional<std::uint64_t> parse_size(const std::string& text) {
    if (text.empty()) return std::nullopt;
    std::size_t pos = 0;
    unsigned long long value = 0;
    try {
        value = std::stoull(text, &pos, 10);
    } catch (...) {
        return std::nullopt;
    }
    std::uint64_t scale = 1;
    const std::string suffix = text.substr(pos);
    if (suffix == "K" || suffix == "k" || suffix == "KiB") {
        scale = std::uint64_t{1} << 10;
    } else if (suffix == "M" || suffix == "m" || suffix == "MiB") {
        scale = std::uint64_t{1} << 20;
    } else if (suffix == "G" || suffix == "g" || suffix == "GiB") {
        scale = std::uint64_t{1} << 30;
    } else if (!suffix.empty()) {
        return std::nullopt;
    }
    if (value > (~std::uint64_t{0}) / scale) return std::nullopt;
    return value * scale;
}

// The signal handler may only touch a lock-free atomic; a watcher thread
// turns it into a stop request.
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }

int run(const std::string& kernel, const std::string& initrd, const std::string& append,
        const std::string& backend_name, const std::string& memory_text, bool stats,
        const std::vector<std::string>& disabled, bool lockstep, bool deterministic) {
    jitterbug::MachineConfig config;
    for (const std::string& name : disabled) {
        if (!jitterbug::disable_optimization(config.optimizations, name)) {
            fmt::print(stderr, "jitterbug: --disable: no optimisation '{}' (there are: {}, all)\n",
                       name, jitterbug::optimization_names());
            return 2;
        }
    }
    config.lockstep = lockstep;
    config.deterministic = deterministic;
    const std::optional<std::uint64_t> memory = parse_size(memory_text);
    if (!memory) {
        fmt::print(stderr, "jitterbug: --memory: '{}' is not a size (try 64M)\n", memory_text);
        return 2;
    }
    config.memory_bytes = *memory;
    config.backend =
        backend_name == "interp" ? jitterbug::Backend::Interpreter : jitterbug::Backend::Jit;

    auto machine = jitterbug::Machine::create(std::move(config));
    if (!machine) {
        fmt::print(stderr, "jitterbug: {}\n", machine.error().message);
        return 2;
    }
    if (!kernel.empty()) {
        if (auto r = machine->load_kernel(kernel, initrd, append); !r) {
            fmt::print(stderr, "jitterbug: {}\n", r.error().message);
            return 1;
        }
    } else if (!append.empty() || !initrd.empty()) {
        fmt::print(stderr, "jitterbug: --append and --initrd need --kernel\n");
        return 2;
    }

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::atomic<bool> finished{false};
    std::thread watcher([&] {
        while (!finished.load()) {
            if (g_interrupted.load()) {
                machine->request_stop();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    const jitterbug::RunResult result = machine->run();
    finished.store(true);
    watcher.join();

    if (stats) {
        const jitterbug::RunStatistics s = machine->statistics();
        fmt::print(stderr,
                   "jitterbug: {} guest instructions, {} blocks translated ({} deoptimized), "
                   "{} access faults, {:.6f} s wall, backend {}, {}\n",
                   s.guest_instructions, s.blocks_translated, s.blocks_deoptimized, s.access_faults,
                   s.wall_seconds, backend_name, jitterbug::to_string(result.reason));
    }
    switch (result.reason) {
        case jitterbug::StopReason::Halted:
        case jitterbug::StopReason::GuestExit:
            return result.exit_status;
        case jitterbug::StopReason::StopRequested:
            return 130;
        case jitterbug::StopReason::Shutdown:
            fmt::print(stderr, "jitterbug: the guest shut the CPU down ({})\n", result.detail);
            return result.exit_status;
        case jitterbug::StopReason::Error:
            fmt::print(stderr, "jitterbug: internal error: {}\n", result.detail);
            return result.exit_status;
        case jitterbug::StopReason::Diverged:
            fmt::print(stderr, "jitterbug: {}\n", result.detail);
            return result.exit_status;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"jitterbug: an x86 PC emulator"};
    app.require_subcommand(1);

    CLI::App* run_cmd = app.add_subcommand("run", "Boot the firmware or a multiboot kernel");
    std::string kernel;
    std::string append;
    std::string backend = jitterbug::jit_available() ? "jit" : "interp";
    std::string memory = "64M";
    bool stats = false;
    run_cmd
        ->add_option("--kernel", kernel,
                     "Linux bzImage or multiboot v1 kernel (ELF or a.out kludge) to boot")
        ->check(CLI::ExistingFile);
    std::string initrd;
    run_cmd->add_option("--initrd", initrd, "Initial ramdisk for a Linux kernel")
        ->check(CLI::ExistingFile);
    run_cmd->add_option("--append", append, "Kernel command line");
    run_cmd->add_option("--backend", backend, "Execution backend")
        ->check(CLI::IsMember({"jit", "interp"}))
        ->default_val(backend);
    run_cmd->add_option("--memory", memory, "Guest RAM, e.g. 64M or 1G")->default_val(memory);
    run_cmd->add_flag("--stats", stats, "Print statistics on stderr at exit");
    std::vector<std::string> disabled;
    run_cmd
        ->add_option("--disable", disabled,
                     "Optimisations to turn off, comma-separated: " +
                         jitterbug::optimization_names() + ", all")
        ->delimiter(',');
    bool lockstep = false;
    run_cmd->add_flag("--lockstep", lockstep,
                      "Run the interpreter beside the JIT and stop at the first divergence");

    bool deterministic = false;
    run_cmd->add_flag(
        "--deterministic", deterministic,
        "Time counts guest instructions: the same run gives the same output every time");

    CLI11_PARSE(app, argc, argv);
    if (backend == "jit" && !jitterbug::jit_available()) {
        fmt::print(stderr, "jitterbug: this build has no JIT backend; use --backend interp\n");
        return 2;
    }
    if (lockstep && backend != "jit") {
        fmt::print(stderr, "jitterbug: --lockstep checks the JIT: it needs --backend jit\n");
        return 2;
    }
    return run(kernel, initrd, append, backend, memory, stats, disabled, lockstep, deterministic);
}
