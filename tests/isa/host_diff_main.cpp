// Differential test against the host CPU: every instruction form of
// isa/host_forms.cpp runs, case by case, natively (in a 32-bit helper
// process, host/host_runner.c) and in jitterbug with one backend, from the
// same registers, flags and memory. Registers, defined flags, the exception
// raised and every byte of the data area must agree; flags the SDM leaves
// undefined are compared too and reported, not failed.
//
//   isa_host_diff --backend interp|jit [--cases N] [--form SUBSTRING] [--show N]
//
// JITTERBUG_LONG_TESTS=1 runs 100 times the cases.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "isa/host_forms.hpp"
#include "support/bare_cpu.hpp"

extern char** environ;

using namespace jitterbug;
using namespace jitterbug::test;
using namespace jitterbug::test::host;
namespace fl = cpu::eflags;

namespace {

// EFLAGS bits compared besides the status flags: RF is left out (the host
// kernel sets it when it reports a fault), and VM/VIF/VIP cannot change here.
constexpr std::uint32_t kOtherFlags =
    fl::TF | fl::IF | fl::DF | fl::IOPL | fl::NT | fl::AC | fl::ID;

// The 32-bit helper process, talked to through two pipes.
class NativeRunner {
  public:
    explicit NativeRunner(const char* path) {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_addclose(&actions, in[1]);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        char* argv[] = {const_cast<char*>(path), nullptr};
        if (posix_spawn(&pid_, path, &actions, nullptr, argv, environ) != 0) {
            throw std::runtime_error(std::string("cannot start ") + path);
        }
        posix_spawn_file_actions_destroy(&actions);
        close(in[0]);
        close(out[1]);
        to_ = in[1];
        from_ = out[0];
    }
    ~NativeRunner() {
        close(to_);
        close(from_);
        int status;
        waitpid(pid_, &status, 0);
    }

    // Runs a batch; results in the same order.
    std::vector<hd_result> run(const std::vector<Case>& cases) {
        std::vector<hd_result> results(cases.size());
        // Small groups keep both pipes from filling up.
        constexpr std::size_t kGroup = 8;
        for (std::size_t i = 0; i < cases.size(); i += kGroup) {
            const std::size_t n = std::min(kGroup, cases.size() - i);
            for (std::size_t k = 0; k < n; ++k)
                write_all(&cases[i + k].native, sizeof(hd_case));
            for (std::size_t k = 0; k < n; ++k)
                read_all(&results[i + k], sizeof(hd_result));
        }
        return results;
    }

  private:
    void write_all(const void* p, std::size_t n) {
        for (std::size_t done = 0; done < n;) {
            const ssize_t w = write(to_, static_cast<const char*>(p) + done, n - done);
            if (w <= 0) throw std::runtime_error("the native helper stopped reading");
            done += static_cast<std::size_t>(w);
        }
    }
    void read_all(void* p, std::size_t n) {
        for (std::size_t done = 0; done < n;) {
            const ssize_t r = read(from_, static_cast<char*>(p) + done, n - done);
            if (r <= 0) throw std::runtime_error("the native helper died");
            done += static_cast<std::size_t>(r);
        }
    }

    pid_t pid_ = 0;
    int to_ = -1;
    int from_ = -1;
};

// The same case in jitterbug: flat 32-bit protected mode at CPL 3 with
// IOPL 0 and Linux's selectors, exceptions stopped instead of delivered.
// UD2 marks the two landings.
class Emulator {
  public:
    // A GDT like Linux's for user code: 0x23 code and 0x2B data, DPL 3, flat.
    static constexpr std::uint32_t kGdt = HD_CODE_BASE + HD_CODE_SIZE;

    explicit Emulator(cpu::BackendKind backend) : cpu_(backend, kGdt + 0x1000) {
        cpu_.cpu().set_stop_on_events(true);
    }

    hd_result run(const hd_case& c) {
        std::uint8_t* ram = cpu_.ram();
        std::uint8_t code[HD_CODE_SIZE];
        std::memset(code, 0xCC, sizeof code);
        std::memcpy(code, c.code, c.code_len);
        code[c.code_len] = 0x0F;
        code[c.code_len + 1] = 0x0B;
        code[HD_LANDING1 - HD_CODE_BASE] = 0x0F;
        code[HD_LANDING1 - HD_CODE_BASE + 1] = 0x0B;
        if (std::memcmp(code, ram + HD_CODE_BASE, sizeof code) != 0) {
            std::memcpy(ram + HD_CODE_BASE, code, sizeof code);
            cpu_.cpu().invalidate_code(PhysicalAddress{HD_CODE_BASE}, HD_CODE_SIZE);
        }
        std::memcpy(ram + HD_DATA_BASE, c.data, HD_DATA_SIZE);
        const std::uint64_t gdt[] = {0, 0, 0, 0, 0x00CFFA000000FFFFull, 0x00CFF2000000FFFFull};
        std::memcpy(ram + kGdt, gdt, sizeof gdt);

        cpu::CpuState s = cpu::reset_state();
        for (unsigned r = 0; r < 8; ++r)
            s.gpr[r] = c.regs[r];
        s.set_eflags(c.eflags);
        s.eip = HD_CODE_BASE;
        s.cr0 = cpu::cr0::PE | cpu::cr0::ET;
        using namespace cpu::seg_attr;
        const std::uint16_t dpl3 = 3 << kDplShift;
        s.segment(cpu::SegReg::Cs) = {0, 0xFFFFFFFF, 0x23,
                                      P | S | kCode | kReadable | kAccessed | DB | G | dpl3};
        for (cpu::SegReg r : {cpu::SegReg::Ss, cpu::SegReg::Ds, cpu::SegReg::Es}) {
            s.segment(r) = {0, 0xFFFFFFFF, 0x2B, P | S | kWritable | kAccessed | DB | G | dpl3};
        }
        s.segment(cpu::SegReg::Fs) = {0, 0, 0, 0};
        s.segment(cpu::SegReg::Gs) = {0, 0, 0, 0};
        // A TSS without an I/O permission bitmap, as Linux gives user code:
        // IN/OUT with CPL > IOPL raise #GP.
        s.tr = {0, 0x67, 0x80, cpu::seg_attr::P | 0xB};
        std::memset(ram + 0x66, 0xFF, 2);  // the bitmap would start past the limit
        s.gdtr = {kGdt, sizeof(std::uint64_t) * 6 - 1};
        cpu_.cpu().set_state(s);
        const cpu::CpuExit exit = cpu_.cpu().run(100000);

        hd_result out{};
        const cpu::CpuState& f = cpu_.state();
        for (unsigned r = 0; r < 8; ++r)
            out.regs[r] = f.gpr[r];
        out.eflags = f.eflags();
        for (unsigned r = 0; r < 6; ++r)
            out.sregs[r] = f.seg[r].selector;
        out.vector = -1;
        out.eip = f.eip;
        if (exit == cpu::CpuExit::Event) {
            const cpu::Event& e = cpu_.cpu().last_event();
            const bool landing = e.vector == cpu::vector::UD &&
                                 (f.eip == HD_CODE_BASE + c.code_len || f.eip == HD_LANDING1);
            if (!landing) {
                out.vector = e.vector;
                out.error_code = e.has_error_code ? e.error_code : 0;
                if (e.kind == cpu::EventKind::Trap || e.kind == cpu::EventKind::SoftwareInterrupt) {
                    out.eip = e.next_eip;
                }
            }
        } else {
            out.vector = 1000 + static_cast<int>(exit);  // never matches the host
        }
        std::memcpy(out.data, ram + HD_DATA_BASE, HD_DATA_SIZE);
        return out;
    }

  private:
    BareCpu cpu_;
};

struct FormStats {
    std::uint64_t cases = 0;
    std::uint64_t failures = 0;
    std::uint64_t undefined_differences = 0;  // undefined flags where we differ from the host
    std::uint64_t divergences = 0;            // the JIT differs from the interpreter
};

std::string describe(const Form& form, const Case& c, const hd_result& host,
                     const hd_result& ours) {
    std::string s = form.name + " [";
    for (std::uint32_t i = 0; i < c.native.code_len; ++i)
        s += fmt::format("{:02x}", c.native.code[i]);
    s += "] in:";
    static const char* names[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (unsigned r = 0; r < 8; ++r)
        s += fmt::format(" {}={:08x}", names[r], c.native.regs[r]);
    s += fmt::format(" fl={:08x}\n    host:", c.native.eflags);
    for (unsigned r = 0; r < 8; ++r)
        s += fmt::format(" {}={:08x}", names[r], host.regs[r]);
    s += fmt::format(" fl={:08x} vec={} err={:x} eip={:08x}\n    ours:", host.eflags, host.vector,
                     host.error_code, host.eip);
    for (unsigned r = 0; r < 8; ++r)
        s += fmt::format(" {}={:08x}", names[r], ours.regs[r]);
    s += fmt::format(" fl={:08x} vec={} err={:x} eip={:08x}", ours.eflags, ours.vector,
                     ours.error_code, ours.eip);
    s += fmt::format(
        "\n    sregs host es={:04x} ss={:04x} ds={:04x} fs={:04x}, ours es={:04x} ss={:04x} "
        "ds={:04x} fs={:04x}",
        host.sregs[0], host.sregs[2], host.sregs[3], host.sregs[4], ours.sregs[0], ours.sregs[2],
        ours.sregs[3], ours.sregs[4]);
    for (std::uint32_t i = 0; i < HD_DATA_SIZE; ++i) {
        if (host.data[i] != ours.data[i]) {
            s += fmt::format("\n    first memory difference at {:#x}: host {:02x} ours {:02x}",
                             HD_DATA_BASE + i, host.data[i], ours.data[i]);
            break;
        }
    }
    return s;
}

// PUSH sreg with a 32-bit operand size: the upper half of the pushed slot
// is implementation-specific. jitterbug writes the zero-extended selector
// (docs/undefined-flags.md); a host that writes 16 bits keeps the old bytes.
// Returns `ours` with those two bytes taken from the host when they are the
// zeros jitterbug writes.
hd_result allow_segment_push(const Form& form, const hd_result& host, hd_result ours) {
    if (!(form.setup & setup::kSegmentPush) || form.operand_size != 32 || host.vector >= 0)
        return ours;
    const std::uint32_t at = host.regs[4] + 2 - HD_DATA_BASE;
    if (at + 2 > HD_DATA_SIZE || ours.data[at] != 0 || ours.data[at + 1] != 0) return ours;
    ours.data[at] = host.data[at];
    ours.data[at + 1] = host.data[at + 1];
    return ours;
}

// Whether the JIT and the interpreter ended in exactly the same state,
// undefined flags and results included: both follow one model on every host.
bool same_state(const hd_result& a, const hd_result& b) {
    return std::memcmp(a.regs, b.regs, sizeof a.regs) == 0 && a.eflags == b.eflags &&
           std::memcmp(a.sregs, b.sregs, sizeof a.sregs) == 0 && a.vector == b.vector &&
           a.error_code == b.error_code && a.eip == b.eip &&
           std::memcmp(a.data, b.data, HD_DATA_SIZE) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    cpu::BackendKind backend = cpu::BackendKind::Interpreter;
    std::uint32_t cases_per_form = 1000;
    std::string only;
    int show = 5;
    int show_undefined = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--backend")
            backend = v == "jit" ? cpu::BackendKind::Jit : cpu::BackendKind::Interpreter;
        if (a == "--cases") cases_per_form = static_cast<std::uint32_t>(std::stoul(v));
        if (a == "--form") only = v;
        if (a == "--show") show = std::stoi(v);
        if (a == "--show-undefined") show_undefined = std::stoi(v);
    }
    if (const char* long_tests = std::getenv("JITTERBUG_LONG_TESTS");
        long_tests && std::string(long_tests) == "1") {
        cases_per_form *= 100;
    }

    NativeRunner native(JITTERBUG_HOST_RUNNER);
    Emulator emulator(backend);
    // With the JIT, the interpreter runs each case too and must agree with
    // it exactly (the host may differ from both in undefined flags).
    std::optional<Emulator> reference;
    if (backend == cpu::BackendKind::Jit) reference.emplace(cpu::BackendKind::Interpreter);
    std::uint64_t divergences = 0;
    const std::vector<Form> forms = all_forms();
    std::map<std::string, FormStats> stats;
    std::uint64_t total = 0, failures = 0, undefined_differences = 0;
    std::size_t forms_run = 0;
    int shown = 0;
    const auto start = std::chrono::steady_clock::now();
    std::uint32_t form_index = 0;
    for (const Form& form : forms) {
        ++form_index;
        if (!only.empty() && form.name.find(only) == std::string::npos) continue;
        ++forms_run;
        std::mt19937 rng(0x5EED0000u + form_index);
        FormStats& fs = stats[form.name];
        constexpr std::uint32_t kBatch = 1000;
        for (std::uint32_t first = 0; first < cases_per_form; first += kBatch) {
            std::vector<Case> cases;
            for (std::uint32_t i = first; i < std::min(cases_per_form, first + kBatch); ++i) {
                cases.push_back(make_case(form, i, rng));
            }
            const std::vector<hd_result> host = native.run(cases);
            for (std::size_t k = 0; k < cases.size(); ++k) {
                const Case& c = cases[k];
                const hd_result& h = host[k];
                const hd_result ours = allow_segment_push(form, h, emulator.run(c.native));
                if (reference) {
                    const hd_result interp = allow_segment_push(form, h, reference->run(c.native));
                    if (!same_state(ours, interp)) {
                        ++fs.divergences;
                        ++divergences;
                        if (shown < show) {
                            ++shown;
                            fmt::print(
                                "JIT/INTERPRETER DIVERGENCE {}\n    interpreter: fl={:08x}\n",
                                describe(form, c, interp, ours), interp.eflags);
                        }
                    }
                }
                const std::uint32_t undefined = undefined_flags(form, c);
                const bool any_result = undefined_result(form, c);
                bool ok = h.vector == ours.vector && (h.vector >= 0 || h.eip == ours.eip);
                for (unsigned r = 0; r < 8 && ok && !any_result; ++r)
                    ok = h.regs[r] == ours.regs[r];
                // GS is the host's thread pointer: only the others are compared.
                for (unsigned r = 0; r < 5; ++r) {
                    if (h.sregs[r] != ours.sregs[r]) ok = false;
                }
                const bool pushes_error = h.vector == 10 || h.vector == 11 || h.vector == 12 ||
                                          h.vector == 13 || h.vector == 14 || h.vector == 17;
                if (pushes_error && h.error_code != ours.error_code) ok = false;
                const std::uint32_t defined = (fl::kArithmetic & ~undefined) | kOtherFlags;
                if (((h.eflags ^ ours.eflags) & defined) != 0) ok = false;
                if (!any_result && std::memcmp(h.data, ours.data, HD_DATA_SIZE) != 0) ok = false;
                ++fs.cases;
                ++total;
                if (!ok) {
                    ++fs.failures;
                    ++failures;
                    if (shown < show) {
                        ++shown;
                        fmt::print("MISMATCH {}\n", describe(form, c, h, ours));
                    }
                } else if ((h.eflags ^ ours.eflags) & undefined & fl::kArithmetic) {
                    ++fs.undefined_differences;
                    ++undefined_differences;
                    if (show_undefined > 0) {
                        --show_undefined;
                        fmt::print("UNDEFINED-FLAG DIFFERENCE {}\n", describe(form, c, h, ours));
                    }
                }
            }
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const auto& [name, fs] : stats) {
        if (fs.failures || fs.undefined_differences || fs.divergences) {
            fmt::print(
                "  {:40} {:7} cases {:6} mismatches {:6} undefined-flag differences {:6} "
                "JIT/interpreter divergences\n",
                name, fs.cases, fs.failures, fs.undefined_differences, fs.divergences);
        }
    }
    fmt::print(
        "host differential, backend {}: {} forms, {} cases in {:.1f} s: {} mismatches, "
        "{} cases where an undefined flag differs from the host\n",
        backend == cpu::BackendKind::Jit ? "jit" : "interp", forms_run, total, seconds, failures,
        undefined_differences);
    if (reference) {
        fmt::print("JIT against the interpreter (every flag and byte): {} divergences\n",
                   divergences);
    }
    return failures == 0 && divergences == 0 ? 0 : 1;
}
