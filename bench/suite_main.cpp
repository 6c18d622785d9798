// The whole-guest benchmark suite: each workload of tests/guests/workloads
// runs natively (the same C built with gcc -m32), under jitterbug's JIT and
// interpreter, under Unicorn 2 (when built with it) and under
// qemu-system-i386 -accel tcg (when installed), in one run. Outputs must
// match native byte for byte; times are CPU seconds, the best of --repeat
// rounds (each round runs every engine once). --disable turns jitterbug's
// optimisations off by the names `jitterbug run --disable` takes, to see
// what each buys.
//
//   jitterbug_suite [--scale N] [--repeat R] [--only NAME] [--engines
//   native,jit,interp,unicorn,qemu] [--markdown] [--disable OPT,...]
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "jitterbug/jitterbug.hpp"

#ifdef JITTERBUG_HAVE_UNICORN
#include <unicorn/unicorn.h>
#endif

extern char** environ;
namespace fs = std::filesystem;
using namespace jitterbug;

namespace {

const std::vector<std::string> kWorkloads = {"integer_mix", "sieve",    "crc32",  "quicksort",
                                             "fib",         "bytecode", "memory", "wide_arithmetic",
                                             "rep_movsd",   "rep_stosd"};

struct Run {
    double seconds = 0;  // CPU time
    std::string output;
    std::uint64_t guest_instructions = 0;
    bool ok = false;
};

double thread_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Runs a child process; returns its CPU time (user + system) and stdout.
Run run_child(const std::vector<std::string>& args) {
    Run r;
    int out[2];
    if (pipe(out) != 0) return r;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid;
    const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        return r;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0)
        r.output.append(buf, static_cast<std::size_t>(n));
    close(out[0]);
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    r.seconds = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec +
                usage.ru_stime.tv_usec * 1e-6;
    r.ok = WIFEXITED(status);
    return r;
}

Run run_jitterbug(Backend backend, const fs::path& kernel, const std::string& cmdline,
                  const Optimizations& optimizations) {
    Run r;
    const double start = thread_cpu_seconds();
    MachineConfig config;
    config.backend = backend;
    config.optimizations = optimizations;
    config.serial_output = [&r](std::span<const std::uint8_t> b) {
        r.output.append(b.begin(), b.end());
    };
    Result<Machine> m = Machine::create(std::move(config));
    if (!m || !m->load_multiboot(kernel, cmdline)) return r;
    const RunResult result = m->run();
    r.seconds = thread_cpu_seconds() - start;
    r.guest_instructions = m->statistics().guest_instructions;
    r.ok = result.reason == StopReason::GuestExit;
    return r;
}

#ifdef JITTERBUG_HAVE_UNICORN
// The flat binary at 1 MiB, entered at its first byte with the multiboot
// registers; COM1 output and the exit port through instruction hooks.
struct UnicornGuest {
    std::string output;
    uc_engine* uc = nullptr;
};

void unicorn_out(uc_engine* uc, std::uint32_t port, int size, std::uint32_t value, void* user) {
    auto* g = static_cast<UnicornGuest*>(user);
    (void)size;
    if (port == 0x3F8) g->output.push_back(static_cast<char>(value));
    if (port == 0xF4) uc_emu_stop(uc);
}

std::uint32_t unicorn_in(uc_engine*, std::uint32_t port, int, void*) {
    return port == 0x3FD ? 0x60 : 0xFF;  // the UART's transmitter is always empty
}

Run run_unicorn(const fs::path& flat, const std::string& cmdline) {
    Run r;
    std::ifstream in(flat, std::ios::binary);
    const std::vector<char> image((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    const double start = thread_cpu_seconds();
    UnicornGuest g;
    if (uc_open(UC_ARCH_X86, UC_MODE_32, &g.uc) != UC_ERR_OK) return r;
    uc_mem_map(g.uc, 0, 64 << 20, UC_PROT_ALL);
    uc_mem_write(g.uc, 0x100000, image.data(), image.size());
    // A multiboot information structure with just the command line.
    const std::uint32_t info[5] = {1u << 2, 0, 0, 0, 0x9100};
    uc_mem_write(g.uc, 0x9000, info, sizeof info);
    uc_mem_write(g.uc, 0x9100, cmdline.c_str(), cmdline.size() + 1);
    std::uint32_t eax = 0x2BADB002, ebx = 0x9000, esp = 0x8000;
    uc_reg_write(g.uc, UC_X86_REG_EAX, &eax);
    uc_reg_write(g.uc, UC_X86_REG_EBX, &ebx);
    uc_reg_write(g.uc, UC_X86_REG_ESP, &esp);
    uc_hook out_hook, in_hook;
    uc_hook_add(g.uc, &out_hook, UC_HOOK_INSN, reinterpret_cast<void*>(unicorn_out), &g, 1, 0,
                UC_X86_INS_OUT);
    uc_hook_add(g.uc, &in_hook, UC_HOOK_INSN, reinterpret_cast<void*>(unicorn_in), &g, 1, 0,
                UC_X86_INS_IN);
    const uc_err err = uc_emu_start(g.uc, 0x100000, 0xFFFFFFFF, 0, 0);
    r.seconds = thread_cpu_seconds() - start;
    uc_close(g.uc);
    r.output = std::move(g.output);
    r.ok = err == UC_ERR_OK;
    return r;
}
#endif

struct Options {
    unsigned scale = 10;
    unsigned repeat = 3;
    std::set<std::string> engines = {"native", "jit", "interp", "unicorn", "qemu"};
    std::string only;
    bool markdown = false;
    Optimizations optimizations;  // jitterbug's, less those --disable names
};

constexpr const char* kUsage =
    "usage: jitterbug_suite [--scale N] [--repeat R] [--only WORKLOAD]\n"
    "                       [--engines native,jit,interp,unicorn,qemu] [--markdown]\n"
    "                       [--disable OPTIMISATION,...]\n";

[[noreturn]] void usage_error(const std::string& problem) {
    fmt::print(stderr, "jitterbug_suite: {}\n{}", problem, kUsage);
    std::exit(2);
}

unsigned positive(const std::string& option, const std::string& v) {
    try {
        std::size_t used = 0;
        const unsigned long n = std::stoul(v, &used);
        if (used == v.size() && n > 0 && n < 1000000) return static_cast<unsigned>(n);
    } catch (const std::exception&) {}
    usage_error(fmt::format("{} needs a positive number, not '{}'", option, v));
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        const std::string v = has_value ? argv[i + 1] : "";
        const bool takes_value = a == "--scale" || a == "--repeat" || a == "--only" ||
                                 a == "--engines" || a == "--disable";
        if (takes_value && !has_value) usage_error(a + " needs a value");
        if (a == "--help" || a == "-h") {
            fmt::print("{}", kUsage);
            std::exit(0);
        } else if (a == "--scale") {
            o.scale = positive(a, v);
        } else if (a == "--repeat") {
            o.repeat = positive(a, v);
        } else if (a == "--only") {
            if (std::find(kWorkloads.begin(), kWorkloads.end(), v) == kWorkloads.end()) {
                usage_error(fmt::format("no workload '{}' (there are: {})", v,
                                        fmt::join(kWorkloads, ", ")));
            }
            o.only = v;
        } else if (a == "--markdown") {
            o.markdown = true;
        } else if (a == "--disable") {
            std::stringstream ss(v);
            for (std::string name; std::getline(ss, name, ',');) {
                if (!disable_optimization(o.optimizations, name)) {
                    usage_error(fmt::format("no optimisation '{}' (there are: {}, all)", name,
                                            optimization_names()));
                }
            }
        } else if (a == "--engines") {
            o.engines.clear();
            std::stringstream ss(v);
            for (std::string e; std::getline(ss, e, ',');) {
                if (e != "native" && e != "jit" && e != "interp" && e != "unicorn" && e != "qemu") {
                    usage_error(fmt::format("no engine '{}'", e));
                }
                o.engines.insert(e);
            }
        } else {
            usage_error(fmt::format("unknown option '{}'", a));
        }
        if (takes_value) ++i;
    }
    return o;
}

bool have(const std::string& program) {
    return run_child({"sh", "-c", "command -v " + program + " >/dev/null && echo yes"}).output ==
           "yes\n";
}

double geomean(const std::vector<double>& v) {
    if (v.empty()) return 0;
    double s = 0;
    for (double x : v)
        s += std::log(x);
    return std::exp(s / static_cast<double>(v.size()));
}

}  // namespace

int main(int argc, char** argv) {
    Options opt = parse(argc, argv);
    const fs::path guests = JITTERBUG_GUEST_DIR;
    const fs::path kernel = guests / "workloads.elf";
    const fs::path flat = guests / "workloads.bin";
#ifndef JITTERBUG_HAVE_UNICORN
    opt.engines.erase("unicorn");
#endif
    if (!jit_available()) opt.engines.erase("jit");
    if (opt.engines.contains("qemu") && !have("qemu-system-i386")) opt.engines.erase("qemu");

    // QEMU's own start-up (and the guest's boot) is measured with "only=none"
    // and subtracted.
    auto qemu = [&](const std::string& cmdline) {
        return run_child({"qemu-system-i386", "-accel", "tcg", "-m", "64", "-display", "none",
                          "-nodefaults", "-no-reboot", "-serial", "stdio", "-device",
                          "isa-debug-exit,iobase=0xf4,iosize=0x01", "-kernel", kernel.string(),
                          "-append", cmdline});
    };
    double qemu_startup = 0;
    if (opt.engines.contains("qemu")) {
        qemu_startup = 1e9;
        for (unsigned k = 0; k < opt.repeat; ++k)
            qemu_startup = std::min(qemu_startup, qemu("only=none").seconds);
    }

    std::map<std::string, std::map<std::string, Run>> results;  // workload -> engine -> best run
    bool all_match = true;
    for (const std::string& w : kWorkloads) {
        if (!opt.only.empty() && w != opt.only) continue;
        const std::string cmdline = fmt::format("scale={} only={}", opt.scale, w);
        // Round by round, every engine once per round: a slow spell of the
        // host then touches all of them alike, not one engine's runs.
        std::map<std::string, Run> best;
        for (unsigned k = 0; k < opt.repeat; ++k) {
            for (const std::string engine : {"native", "jit", "interp", "unicorn", "qemu"}) {
                if (!opt.engines.contains(engine)) continue;
                Run r;
                if (engine == std::string("native")) {
                    r = run_child({JITTERBUG_WORKLOADS_NATIVE, std::to_string(opt.scale), w});
                } else if (engine == std::string("jit")) {
                    r = run_jitterbug(Backend::Jit, kernel, cmdline, opt.optimizations);
                } else if (engine == std::string("interp")) {
                    r = run_jitterbug(Backend::Interpreter, kernel, cmdline, opt.optimizations);
#ifdef JITTERBUG_HAVE_UNICORN
                } else if (engine == std::string("unicorn")) {
                    r = run_unicorn(flat, cmdline);
#endif
                } else {
                    r = qemu(cmdline);
                    r.seconds = std::max(1e-6, r.seconds - qemu_startup);
                }
                auto [it, first] = best.try_emplace(engine, r);
                if (!first && r.seconds < it->second.seconds) it->second = r;
            }
        }
        for (auto& [engine, r] : best)
            results[w][engine] = r;
        const std::string& expected = results[w]["native"].output;
        for (auto& [engine, r] : results[w]) {
            if (r.output != expected) {
                fmt::print(stderr, "{} under {}: output differs from native:\n{}\nvs\n{}\n", w,
                           engine, r.output, expected);
                all_match = false;
            }
        }
    }

    // The table: CPU seconds, then speed as a fraction of native (native time / engine time).
    const std::vector<std::string> engines = {"native", "jit", "interp", "unicorn", "qemu"};
    std::string header = fmt::format("{:16}", "workload");
    for (const auto& e : engines) {
        if (opt.engines.contains(e)) header += fmt::format(" {:>9}", e + " s");
    }
    header += fmt::format(" {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", "jit MIPS", "jit/nat",
                          "int/nat", "uc/nat", "qemu/nat", "jit:qemu", "int:uc");
    fmt::print("{}\n", header);
    std::map<std::string, std::vector<double>> fractions;
    std::vector<double> jit_vs_qemu, interp_vs_unicorn;
    for (const auto& [w, by_engine] : results) {
        std::string line = fmt::format("{:16}", w);
        for (const auto& e : engines) {
            if (opt.engines.contains(e)) line += fmt::format(" {:9.3f}", by_engine.at(e).seconds);
        }
        const double native = by_engine.contains("native") ? by_engine.at("native").seconds : 0;
        auto frac = [&](const std::string& e) -> std::optional<double> {
            if (!by_engine.contains(e) || native <= 0) return std::nullopt;
            return native / by_engine.at(e).seconds;
        };
        auto cell = [](std::optional<double> v) {
            return v ? fmt::format(" {:8.3f}", *v) : fmt::format(" {:>8}", "-");
        };
        const double mips = by_engine.contains("jit") ? by_engine.at("jit").guest_instructions /
                                                            by_engine.at("jit").seconds / 1e6
                                                      : 0;
        line += fmt::format(" {:9.0f}", mips);
        for (const std::string e : {"jit", "interp", "unicorn", "qemu"}) {
            const auto f = frac(e);
            line += cell(f);
            if (f) fractions[e].push_back(*f);
        }
        std::optional<double> jq, iu;
        if (by_engine.contains("jit") && by_engine.contains("qemu")) {
            jq = by_engine.at("qemu").seconds / by_engine.at("jit").seconds;
            jit_vs_qemu.push_back(*jq);
        }
        if (by_engine.contains("interp") && by_engine.contains("unicorn")) {
            iu = by_engine.at("unicorn").seconds / by_engine.at("interp").seconds;
            interp_vs_unicorn.push_back(*iu);
        }
        line += cell(jq) + cell(iu);
        fmt::print("{}\n", line);
    }
    std::string g = fmt::format("{:16}", "geomean");
    for (const auto& e : engines) {
        if (opt.engines.contains(e)) g += fmt::format(" {:>9}", "");
    }
    g += fmt::format(" {:>9}", "");
    for (const std::string e : {"jit", "interp", "unicorn", "qemu"}) {
        g += fractions[e].empty() ? fmt::format(" {:>8}", "-")
                                  : fmt::format(" {:8.3f}", geomean(fractions[e]));
    }
    g += jit_vs_qemu.empty() ? fmt::format(" {:>8}", "-")
                             : fmt::format(" {:8.2f}", geomean(jit_vs_qemu));
    g += interp_vs_unicorn.empty() ? fmt::format(" {:>8}", "-")
                                   : fmt::format(" {:8.2f}", geomean(interp_vs_unicorn));
    fmt::print("{}\n", g);
    fmt::print(
        "scale {}, best of {}; x/nat = fraction of native speed; jit:qemu and int:uc = speed-up. "
        "Outputs {}.\n",
        opt.scale, opt.repeat, all_match ? "match native" : "DIFFER");
    return all_match ? 0 : 1;
}
