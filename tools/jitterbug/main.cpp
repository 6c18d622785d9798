// jitterbug: the command-line tool over the public API.
//
//   jitterbug run [--kernel FILE [--initrd FILE] [--append ARGS]] [--backend jit|interp]
//                 [--memory SIZE] [--serial stdio|file:PATH|none] [--timeout SECONDS]
//                 [--floppy FILE[,writable]]... [--boot a|c]
//                 [--no-reboot] [--screen] [--screenshot FILE.png] [--stats]
//                 [--disable OPT,...] [--lockstep]
//                 [--deterministic]
//
// Exit status: 0 when the guest halts with interrupts disabled (powers off),
// resets with --no-reboot, or the user quits with Ctrl-A x; (v << 1) | 1
// when it writes v to the exit port 0xF4; 3 after a triple fault with
// --no-reboot; 4 when --lockstep finds the JIT and the interpreter
// disagreeing; 124 at --timeout; 130 when interrupted; 2 for bad
// arguments; 1 when the guest cannot be loaded; 125 when the emulator fails.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
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

struct Options {
    std::string kernel, initrd, append;
    std::string backend;
    std::string memory = "64M";
    std::string serial = "stdio";
    std::vector<std::string> disks;
    std::vector<std::string> floppies;
    std::string boot = "a";
    std::string screenshot;
    bool screen = false;
    double timeout = 0;  // seconds; 0: none
    bool stats = false;
    bool no_reboot = false;
    std::vector<std::string> disabled;
    bool lockstep = false;
    bool deterministic = false;
};

// The terminal in raw mode while the guest's serial console has it (and
// back as it was at exit): keys go to the guest as typed, Ctrl-A x quits.
class RawTerminal {
  public:
    RawTerminal() {
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios raw = saved_;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR;  // (the guest's "\n" still starts a line)
        active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    ~RawTerminal() {
        if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;
    bool active() const { return active_; }

  private:
    termios saved_{};
    bool active_ = false;
};

// Standard input to the guest's COM1 until `finished` (or end of input).
// On a raw terminal, Ctrl-A x asks to quit and Ctrl-A Ctrl-A sends Ctrl-A.
void forward_input(jitterbug::Machine& machine, const std::atomic<bool>& finished, bool raw,
                   std::atomic<bool>& quit) {
    bool escape = false;
    while (!finished.load()) {
        pollfd p{STDIN_FILENO, POLLIN, 0};
        const int ready = poll(&p, 1, 50);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            if (ready < 0) return;
            continue;
        }
        std::uint8_t buffer[256];
        const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
        if (n <= 0) return;  // end of input: the guest just gets no more
        std::vector<std::uint8_t> out;
        for (ssize_t i = 0; i < n; ++i) {
            const std::uint8_t b = buffer[i];
            if (!raw) {
                out.push_back(b);
            } else if (escape) {
                escape = false;
                if (b == 'x' || b == 'X') {
                    quit.store(true);
                    return;
                }
                if (b == 0x01) out.push_back(b);
            } else if (b == 0x01) {
                escape = true;
            } else {
                out.push_back(b);
            }
        }
        machine.send_serial(out);
    }
}

// FILE or FILE,writable.
jitterbug::DiskConfig disk_config(const std::string& option) {
    const std::size_t comma = option.rfind(',');
    if (comma != std::string::npos && option.substr(comma + 1) == "writable")
        return {option.substr(0, comma), true};
    return {option, false};
}

int run(const Options& o) {
    jitterbug::MachineConfig config;
    for (const std::string& name : o.disabled) {
        if (!jitterbug::disable_optimization(config.optimizations, name)) {
            fmt::print(stderr, "jitterbug: --disable: no optimisation '{}' (there are: {}, all)\n",
                       name, jitterbug::optimization_names());
            return 2;
        }
    }
    config.lockstep = o.lockstep;
    config.deterministic = o.deterministic;
    config.reboot = !o.no_reboot;
    for (const std::string& d : o.disks)
        config.disks.push_back(disk_config(d));
    for (const std::string& d : o.floppies)
        config.floppies.push_back(disk_config(d));
    config.boot =
        o.boot == "c" ? jitterbug::BootOrder::HardDiskFirst : jitterbug::BootOrder::FloppyFirst;
    if (o.screen) {
        config.screen_changed = [](const std::string& text) {
            fmt::print(stderr, "jitterbug: the screen:\n{}", text);
            if (!text.empty() && text.back() != '\n') fmt::print(stderr, "\n");
        };
    }
    const std::optional<std::uint64_t> memory = parse_size(o.memory);
    if (!memory) {
        fmt::print(stderr, "jitterbug: --memory: '{}' is not a size (try 64M)\n", o.memory);
        return 2;
    }
    config.memory_bytes = *memory;
    config.backend =
        o.backend == "interp" ? jitterbug::Backend::Interpreter : jitterbug::Backend::Jit;

    // Where COM1 goes: the terminal (both ways), a file, or nowhere.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> serial_file(nullptr, &std::fclose);
    const bool serial_stdio = o.serial == "stdio";
    if (o.serial == "none") {
        config.serial_output = [](std::span<const std::uint8_t>) {};
    } else if (o.serial.rfind("file:", 0) == 0 && o.serial.size() > 5) {
        const std::string path = o.serial.substr(5);
        serial_file.reset(std::fopen(path.c_str(), "wb"));
        if (!serial_file) {
            fmt::print(stderr, "jitterbug: --serial: cannot write '{}': {}\n", path,
                       std::strerror(errno));
            return 2;
        }
        config.serial_output = [f = serial_file.get()](std::span<const std::uint8_t> bytes) {
            std::fwrite(bytes.data(), 1, bytes.size(), f);
            std::fflush(f);
        };
    } else if (!serial_stdio) {
        fmt::print(stderr, "jitterbug: --serial: '{}' is not stdio, file:PATH or none\n", o.serial);
        return 2;
    }

    auto machine = jitterbug::Machine::create(std::move(config));
    if (!machine) {
        fmt::print(stderr, "jitterbug: {}\n", machine.error().message);
        return 2;
    }
    if (!o.kernel.empty()) {
        if (auto r = machine->load_kernel(o.kernel, o.initrd, o.append); !r) {
            fmt::print(stderr, "jitterbug: {}\n", r.error().message);
            return 1;
        }
    } else if (!o.append.empty() || !o.initrd.empty()) {
        fmt::print(stderr, "jitterbug: --append and --initrd need --kernel\n");
        return 2;
    }

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::atomic<bool> finished{false};
    std::atomic<bool> quit{false};
    std::atomic<bool> timed_out{false};
    std::optional<RawTerminal> terminal;
    std::thread input;
    if (serial_stdio) {
        terminal.emplace();
        if (terminal->active()) fmt::print(stderr, "jitterbug: Ctrl-A x quits\r\n");
        input = std::thread(forward_input, std::ref(*machine), std::cref(finished),
                            terminal->active(), std::ref(quit));
    }
    const auto start = std::chrono::steady_clock::now();
    std::thread watcher([&] {
        while (!finished.load()) {
            if (g_interrupted.load() || quit.load()) {
                machine->request_stop();
                break;
            }
            if (o.timeout > 0 &&
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >=
                    o.timeout) {
                timed_out.store(true);
                machine->request_stop();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    const jitterbug::RunResult result = machine->run();
    finished.store(true);
    watcher.join();
    if (input.joinable()) input.join();
    terminal.reset();

    if (o.screen) {
        const std::string text = machine->screen_text();
        fmt::print(stderr, "jitterbug: the screen at exit:\n{}", text);
        if (!text.empty() && text.back() != '\n') fmt::print(stderr, "\n");
    }
    if (!o.screenshot.empty()) {
        if (auto r = machine->save_screenshot(o.screenshot); !r)
            fmt::print(stderr, "jitterbug: --screenshot: {}\n", r.error().message);
    }
    if (o.stats) {
        const jitterbug::RunStatistics s = machine->statistics();
        const double mips = s.wall_seconds > 0 ? s.guest_instructions / s.wall_seconds / 1e6 : 0;
        fmt::print(stderr,
                   "jitterbug: {} guest instructions in {:.3f} s wall ({:.1f} MIPS), {} blocks "
                   "translated ({} compiled, {} deoptimized), {} TLB misses, {} access faults, "
                   "{} reboots, backend {}, {}\n",
                   s.guest_instructions, s.wall_seconds, mips, s.blocks_translated,
                   s.blocks_compiled, s.blocks_deoptimized, s.tlb_misses, s.access_faults,
                   s.reboots, o.backend, jitterbug::to_string(result.reason));
    }
    switch (result.reason) {
        case jitterbug::StopReason::Halted:
        case jitterbug::StopReason::GuestExit:
        case jitterbug::StopReason::Reset:
            return result.exit_status;
        case jitterbug::StopReason::StopRequested:
            if (timed_out.load()) {
                fmt::print(stderr, "jitterbug: timeout: the guest ran for {} s\n", o.timeout);
                return 124;
            }
            return quit.load() ? 0 : 130;
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

    CLI::App* run_cmd = app.add_subcommand("run", "Boot the firmware or a kernel");
    Options o;
    o.backend = jitterbug::jit_available() ? "jit" : "interp";
    run_cmd
        ->add_option("--kernel", o.kernel,
                     "Linux bzImage or multiboot v1 kernel (ELF or a.out kludge) to boot")
        ->check(CLI::ExistingFile);
    run_cmd->add_option("--initrd", o.initrd, "Initial ramdisk for a Linux kernel")
        ->check(CLI::ExistingFile);
    run_cmd->add_option("--append", o.append, "Kernel command line");
    run_cmd->add_option("--disk", o.disks,
                        "Hard disk image on the primary ATA channel (master, then slave); "
                        "FILE,writable lets guest writes reach the file");
    run_cmd->add_option("--floppy", o.floppies,
                        "Floppy image for the BIOS (A:, then B:): 160 KiB to 2.88 MiB; "
                        "FILE,writable lets guest writes reach the file");
    run_cmd
        ->add_option("--boot", o.boot,
                     "Boot order: a (floppy, then hard disk) or c (hard disk, then floppy)")
        ->check(CLI::IsMember({"a", "c"}))
        ->default_val(o.boot);
    run_cmd->add_option("--backend", o.backend, "Execution backend")
        ->check(CLI::IsMember({"jit", "interp"}))
        ->default_val(o.backend);
    run_cmd->add_option("--memory", o.memory, "Guest RAM, e.g. 64M or 1G")->default_val(o.memory);
    run_cmd
        ->add_option("--serial", o.serial,
                     "COM1: stdio (the terminal, both ways; Ctrl-A x quits), file:PATH or none")
        ->default_val(o.serial);
    run_cmd
        ->add_option("--timeout", o.timeout,
                     "Stop the guest after this many seconds (exit status 124)")
        ->check(CLI::PositiveNumber);
    run_cmd->add_flag("--no-reboot", o.no_reboot,
                      "End the run (status 0) when the guest resets the machine, or 3 after a "
                      "triple fault, instead of rebooting");
    run_cmd->add_flag("--screen", o.screen,
                      "Print the VGA text screen on stderr when it changes and at exit");
    run_cmd->add_option("--screenshot", o.screenshot,
                        "Save the VGA screen at exit as a PNG (720x400)");
    run_cmd->add_flag("--stats", o.stats,
                      "Print guest instructions, MIPS, blocks translated, TLB misses and wall "
                      "time on stderr at exit");
    run_cmd
        ->add_option("--disable", o.disabled,
                     "Optimisations to turn off, comma-separated: " +
                         jitterbug::optimization_names() + ", all")
        ->delimiter(',');
    run_cmd->add_flag("--lockstep", o.lockstep,
                      "Run the interpreter beside the JIT and stop at the first divergence");
    run_cmd->add_flag(
        "--deterministic", o.deterministic,
        "Time counts guest instructions: the same run gives the same output every time");

    CLI11_PARSE(app, argc, argv);
    if (o.backend == "jit" && !jitterbug::jit_available()) {
        fmt::print(stderr, "jitterbug: this build has no JIT backend; use --backend interp\n");
        return 2;
    }
    if (o.lockstep && o.backend != "jit") {
        fmt::print(stderr, "jitterbug: --lockstep checks the JIT: it needs --backend jit\n");
        return 2;
    }
    return run(o);
}
