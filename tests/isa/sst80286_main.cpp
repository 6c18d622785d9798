// Runs the hardware-captured SingleStepTests 80286 real-mode suite
// (shared/testdata/sst-80286-real, format and rules in its README) through
// jitterbug's real-mode CPU and reports the pass rate. A mismatch is either
// one of the documented ways a 386-class CPU legitimately differs from the
// 286 (counted per kind) or a failure; any failure fails the run.
//
//   isa_sst80286 --backend interp|jit [--data DIR] [--only XX,YY.R] [--show N]
//
// Exit status 0: no failures; 1: failures; 77: the test data is absent (ctest
// reports the test as skipped).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cpu/decoder.hpp"
#include "isa/moo.hpp"
#include "support/bare_cpu.hpp"

namespace fs = std::filesystem;
using namespace jitterbug;
using namespace jitterbug::test;

namespace {

constexpr std::uint64_t kRamBytes = 0x1100000;  // real mode reaches FFFF:FFFF = 0x10FFEF
constexpr std::uint64_t kBudget = 1000;         // instructions per test

struct Options {
    cpu::BackendKind backend = cpu::BackendKind::Interpreter;
    fs::path data;
    std::set<std::string> only;
    int show = 10;
};

// Why a mismatching test is not a failure (README: "Where a 386 or later CPU
// legitimately differs"), or Failure.
enum class Verdict {
    Pass,
    Lock,         // LOCK on an instruction that cannot be locked: #UD on a 386
    SegmentFsGs,  // MOV to/from sreg 4/5 (FS/GS): valid on a 386
    Length,       // longer than 10 bytes: #GP on a 286, runs on a 386
    StackFault,   // a stack-segment overrun is #SS (12) on a 386, #GP (13) on a 286
    PopFault,     // POP r/m16 faulting on its write: SP restored on a 386
    NoFpu,        // x87 escape: #NM until the x87 unit exists (issue 6)
    StringFault,  // string op faulting at offset FFFF: the 286 has advanced SI/DI/CX already
    AamFlags,     // AAM 0: the 286 changes the flags before #DE
    IdivQuirk,    // IDIV quotient overflow the 286 misses (result 80h/8000h, no #DE)
    Failure,
};

const char* verdict_name(Verdict v) {
    switch (v) {
        case Verdict::Pass:
            return "pass";
        case Verdict::Lock:
            return "LOCK on a non-lockable instruction (#UD on 386+)";
        case Verdict::SegmentFsGs:
            return "MOV sreg 4/5 is FS/GS on 386+";
        case Verdict::Length:
            return "instruction over 10 bytes (runs on 386+)";
        case Verdict::StackFault:
            return "stack-segment overrun is #SS on 386+";
        case Verdict::PopFault:
            return "POP r/m16 fault restores SP on 386+";
        case Verdict::NoFpu:
            return "x87 escape raises #NM (no x87 unit yet)";
        case Verdict::StringFault:
            return "string op #GP: 286 advanced SI/DI/CX first";
        case Verdict::AamFlags:
            return "AAM 0 #DE: 286 changed the flags first";
        case Verdict::IdivQuirk:
            return "IDIV overflow the 286 misses (386+: #DE)";
        case Verdict::Failure:
            return "FAILURE";
    }
    return "?";
}

struct Outcome {
    std::vector<std::string> differences;
    std::uint16_t actual_cs = 0, actual_ip = 0;
    int first_vector = -1;  // the first exception or interrupt we delivered
};

class Runner {
  public:
    explicit Runner(cpu::BackendKind backend) : cpu_(backend, kRamBytes) {}

    Outcome run(const moo::Test& t, std::uint16_t flags_mask) {
        clear_previous();
        std::uint8_t* ram = cpu_.ram();
        for (const auto& [addr, value] : t.initial.ram) {
            if (addr >= kRamBytes) continue;
            cpu_.poke(addr, value);
            touched_.push_back(addr);
        }
        for (const auto& [addr, value] : t.final.ram)
            touched_.push_back(addr);

        cpu::CpuState s = cpu::reset_state();
        const auto& r = t.initial.regs;
        s.reg(cpu::Gpr::Eax) = r[moo::AX];
        s.reg(cpu::Gpr::Ebx) = r[moo::BX];
        s.reg(cpu::Gpr::Ecx) = r[moo::CX];
        s.reg(cpu::Gpr::Edx) = r[moo::DX];
        s.reg(cpu::Gpr::Esp) = r[moo::SP];
        s.reg(cpu::Gpr::Ebp) = r[moo::BP];
        s.reg(cpu::Gpr::Esi) = r[moo::SI];
        s.reg(cpu::Gpr::Edi) = r[moo::DI];
        s.segment(cpu::SegReg::Cs) = real_mode_segment(r[moo::CS], true);
        s.segment(cpu::SegReg::Ss) = real_mode_segment(r[moo::SS]);
        s.segment(cpu::SegReg::Ds) = real_mode_segment(r[moo::DS]);
        s.segment(cpu::SegReg::Es) = real_mode_segment(r[moo::ES]);
        s.segment(cpu::SegReg::Fs) = real_mode_segment(0);
        s.segment(cpu::SegReg::Gs) = real_mode_segment(0);
        s.eip = r[moo::IP];
        // The initial FLAGS come from LOADALL with random bits 12-15 (README).
        s.set_eflags((r[moo::FLAGS] & 0x0FFF) | cpu::eflags::Fixed1);
        s.cr0 = cpu::cr0::ET;
        s.idtr = {0, 0x3FF};
        cpu_.cpu().set_state(s);
        // Step to the first event, note its vector, then run on to the HLT.
        Outcome out;
        const std::uint64_t events = cpu_.cpu().statistics().events_delivered;
        cpu::CpuExit exit = cpu_.cpu().run(1);
        if (cpu_.cpu().statistics().events_delivered != events)
            out.first_vector = cpu_.cpu().last_event().vector;
        if (exit == cpu::CpuExit::InstructionLimit) exit = cpu_.cpu().run(kBudget);
        const cpu::CpuState& f = cpu_.state();
        out.actual_cs = f.segment(cpu::SegReg::Cs).selector;
        out.actual_ip = static_cast<std::uint16_t>(f.eip);
        // HLT with IF = 1 (after STI, POPF, IRET) waits for an interrupt: also the end.
        if (exit != cpu::CpuExit::Halted && exit != cpu::CpuExit::WaitingForInterrupt) {
            out.differences.push_back(
                fmt::format("did not reach HLT (exit {})", static_cast<int>(exit)));
        }
        const std::uint16_t actual[moo::kNumRegs] = {
            static_cast<std::uint16_t>(f.reg(cpu::Gpr::Eax)),
            static_cast<std::uint16_t>(f.reg(cpu::Gpr::Ebx)),
            static_cast<std::uint16_t>(f.reg(cpu::Gpr::Ecx)),
            static_cast<std::uint16_t>(f.reg(cpu::Gpr::Edx)),
            f.segment(cpu::SegReg::Cs).selector,
            f.segment(cpu::SegReg::Ss).selector,
            f.segment(cpu::SegReg::Ds).selector,
            f.segment(cpu::SegReg::Es).selector,
            static_cast<std::uint16_t>(f.reg(cpu::Gpr::Esp)),
            static_cast<std::uint16_t>(f.reg(cpu::Gpr::Ebp)),
            static_cast<std::uint16_t>(f.reg(cpu::Gpr::Esi)),
            static_cast<std::uint16_t>(f.reg(cpu::Gpr::Edi)),
            static_cast<std::uint16_t>(f.eip),
            static_cast<std::uint16_t>(f.eflags())};
        static const char* names[] = {"ax", "bx", "cx", "dx", "cs", "ss", "ds",
                                      "es", "sp", "bp", "si", "di", "ip", "flags"};
        for (unsigned i = 0; i < moo::kNumRegs; ++i) {
            const std::uint16_t want = t.final_reg(static_cast<moo::Reg>(i));
            const std::uint16_t mask = i == moo::FLAGS ? (flags_mask & 0x0FFF) : 0xFFFF;
            if ((actual[i] ^ want) & mask) {
                out.differences.push_back(
                    fmt::format("{} {:04x} != {:04x}", names[i], actual[i], want));
            }
        }
        // The FLAGS image an exception pushed may hold undefined flags: mask it
        // like FLAGS. It sits at SS:(SP + 4) of the final state (README).
        std::uint32_t flags_image = ~0u;
        if (t.has_exception) {
            const std::uint32_t ss = t.final_reg(moo::SS), sp = t.final_reg(moo::SP);
            flags_image = ss * 16 + ((sp + 4) & 0xFFFF);
        }
        for (const auto& [addr, want] : t.final.ram) {
            if (addr >= kRamBytes) continue;
            std::uint8_t mask = 0xFF;
            const std::uint32_t ss = t.final_reg(moo::SS), sp = t.final_reg(moo::SP);
            if (addr == flags_image) mask = flags_mask & 0xFF;
            if (t.has_exception && addr == ss * 16 + ((sp + 5) & 0xFFFF))
                mask = (flags_mask & 0x0FFF) >> 8;
            if ((ram[addr] ^ want) & mask) {
                out.differences.push_back(
                    fmt::format("[{:05x}] {:02x} != {:02x}", addr, ram[addr], want));
            }
        }
        return out;
    }

  private:
    void clear_previous() {
        for (std::uint32_t addr : touched_) {
            if (addr < kRamBytes) cpu_.poke(addr, 0);
        }
        touched_.clear();
    }

    BareCpu cpu_;
    std::vector<std::uint32_t> touched_;
};

Verdict classify(const moo::Test& t, const Outcome& out, const cpu::Decoder& decoder) {
    if (out.differences.empty()) return Verdict::Pass;
    const std::vector<std::uint8_t> insn(t.bytes.begin(), t.bytes.end() - 1);  // without the HLT
    std::size_t k = 0;
    bool lock = false;
    while (k < insn.size()) {
        const std::uint8_t p = insn[k];
        if (p == 0xF0) lock = true;
        if (p == 0xF0 || p == 0xF2 || p == 0xF3 || p == 0x26 || p == 0x2E || p == 0x36 ||
            p == 0x3E) {
            ++k;
        } else {
            break;
        }
    }
    const std::uint8_t opcode = k < insn.size() ? insn[k] : 0;
    const std::uint8_t modrm_reg = k + 1 < insn.size() ? (insn[k + 1] >> 3) & 7 : 0;
    const bool we_raised_ud = out.first_vector == 6;
    cpu::Instruction decoded;
    const cpu::DecodeStatus status = decoder.decode(insn, false, 0, decoded);

    if (lock && we_raised_ud && status == cpu::DecodeStatus::Invalid) return Verdict::Lock;
    if ((opcode == 0x8C || opcode == 0x8E) && (modrm_reg == 4 || modrm_reg == 5))
        return Verdict::SegmentFsGs;
    if (insn.size() > 10 && t.has_exception && t.exception_vector == 13) return Verdict::Length;
    if (opcode == 0xD8 && out.first_vector == 7) return Verdict::NoFpu;
    if (t.has_exception && t.exception_vector == 13 && out.first_vector == 12)
        return Verdict::StackFault;
    const auto only = [&](std::initializer_list<const char*> prefixes) {
        return std::all_of(
            out.differences.begin(), out.differences.end(), [&](const std::string& d) {
                return std::any_of(prefixes.begin(), prefixes.end(),
                                   [&](const char* p) { return d.rfind(p, 0) == 0; });
            });
    };
    const bool string_op = (opcode >= 0xA4 && opcode <= 0xA7) ||
                           (opcode >= 0xAA && opcode <= 0xAF) || (opcode >= 0x6C && opcode <= 0x6F);
    if (string_op && t.has_exception && t.exception_vector == 13 && out.first_vector == 13 &&
        only({"si ", "di ", "cx "})) {
        return Verdict::StringFault;
    }
    if (opcode == 0xD4 && t.has_exception && t.exception_vector == 0 && out.first_vector == 0 &&
        only({"flags ", "["})) {
        return Verdict::AamFlags;
    }
    if ((opcode == 0xF6 || opcode == 0xF7) && modrm_reg == 7 && !t.has_exception &&
        out.first_vector == 0) {
        const std::uint16_t ax = t.final_reg(moo::AX);
        if ((opcode == 0xF6 && (ax & 0xFF) == 0x80) || (opcode == 0xF7 && ax == 0x8000))
            return Verdict::IdivQuirk;
    }
    if (opcode == 0x8F && t.has_exception && t.exception_vector == 13) {
        // Only SP and the frame pushed at it may differ.
        const bool only_stack = std::all_of(
            out.differences.begin(), out.differences.end(),
            [](const std::string& d) { return d.rfind("sp ", 0) == 0 || d.rfind("[", 0) == 0; });
        if (only_stack) return Verdict::PopFault;
    }
    return Verdict::Failure;
}

std::uint16_t flags_mask_of(const nlohmann::json& metadata, const std::string& file_key) {
    // "XX" or "XX.R" (group opcodes): opcodes[XX] or opcodes[XX].reg[R].
    const std::string op = file_key.substr(0, 2);
    const auto& opcodes = metadata.at("opcodes");
    if (!opcodes.contains(op)) return 0xFFFF;
    const nlohmann::json* entry = &opcodes.at(op);
    if (file_key.size() > 3 && entry->contains("reg"))
        entry = &entry->at("reg").at(file_key.substr(3, 1));
    return entry->contains("flags-mask") ? entry->at("flags-mask").get<std::uint16_t>() : 0xFFFF;
}

Options parse(int argc, char** argv) {
    Options o;
    const char* env = std::getenv("JITTERBUG_TESTDATA");
    o.data = fs::path(env ? env : JITTERBUG_DEFAULT_TESTDATA) / "sst-80286-real";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const std::string v = i + 1 < argc ? argv[i + 1] : "";
        if (a == "--backend") {
            o.backend = v == "jit" ? cpu::BackendKind::Jit : cpu::BackendKind::Interpreter;
            ++i;
        } else if (a == "--data") {
            o.data = v;
            ++i;
        } else if (a == "--only") {
            for (std::size_t p = 0; p <= v.size();) {
                const std::size_t q = std::min(v.find(',', p), v.size());
                o.only.insert(v.substr(p, q - p));
                p = q + 1;
            }
            ++i;
        } else if (a == "--show") {
            o.show = std::atoi(v.c_str());
            ++i;
        }
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    if (!fs::exists(opt.data / "metadata.json")) {
        fmt::print("SKIPPED: the 80286 test data is not at {} (set JITTERBUG_TESTDATA)\n",
                   opt.data.string());
        return 77;
    }
    std::ifstream meta_in(opt.data / "metadata.json");
    const nlohmann::json metadata = nlohmann::json::parse(meta_in);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(opt.data)) {
        const std::string name = e.path().filename().string();
        if (name.size() > 7 && name.ends_with(".MOO.gz")) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());

    const auto start = std::chrono::steady_clock::now();
    Runner runner(opt.backend);
    cpu::Decoder decoder;
    std::map<Verdict, std::uint64_t> counts;
    std::uint64_t total = 0;
    int shown = 0;
    for (const fs::path& path : files) {
        const std::string key =
            path.filename().string().substr(0, path.filename().string().size() - 7);
        if (!opt.only.empty() && !opt.only.contains(key)) continue;
        Result<std::vector<moo::Test>> tests = moo::read_file(path);
        if (!tests) {
            fmt::print("error: {}\n", tests.error().message);
            return 1;
        }
        const std::uint16_t mask = flags_mask_of(metadata, key);
        for (const moo::Test& t : *tests) {
            const Outcome out = runner.run(t, mask);
            const Verdict v = classify(t, out, decoder);
            ++counts[v];
            ++total;
            if (v == Verdict::Failure && shown < opt.show) {
                ++shown;
                std::string hex;
                for (std::uint8_t b : t.bytes)
                    hex += fmt::format("{:02x} ", b);
                fmt::print("FAIL {} #{} '{}' [{}]:", key, t.index, t.name, hex);
                for (const std::string& d : out.differences)
                    fmt::print(" {};", d);
                fmt::print("\n");
            }
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::uint64_t failures = counts[Verdict::Failure];
    fmt::print("80286 real-mode tests, backend {}: {} run in {:.1f} s\n",
               opt.backend == cpu::BackendKind::Jit ? "jit" : "interp", total, seconds);
    fmt::print("  passed exactly:                                 {:7} ({:.3f} %)\n",
               counts[Verdict::Pass], total ? 100.0 * counts[Verdict::Pass] / total : 0.0);
    for (Verdict v : {Verdict::Lock, Verdict::SegmentFsGs, Verdict::Length, Verdict::StackFault,
                      Verdict::PopFault, Verdict::NoFpu, Verdict::StringFault, Verdict::AamFlags,
                      Verdict::IdivQuirk}) {
        fmt::print("  documented difference: {:48} {:7}\n", verdict_name(v), counts[v]);
    }
    fmt::print("  failures:                                       {:7}\n", failures);
    return failures == 0 ? 0 : 1;
}
