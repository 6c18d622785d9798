// Hostile system state: descriptor tables, gates, TSSes, page tables and
// code made of random pieces — most of them wrong in some way — run on both
// backends. A guest can give the CPU any of this; the emulator must answer
// with the guest's faults, never crash, hang or report an internal error,
// and the JIT must do what the interpreter does. Each case is built from a
// fixed seed, so a failure names the case that reproduces it.
#include <doctest/doctest.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "cpu/state_diff.hpp"
#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;
using cpu::SegReg;

namespace {

constexpr std::uint32_t kRam = 1u << 20;
constexpr std::uint32_t kGdt = 0x1000, kIdt = 0x2000, kTss = 0x3000, kTss2 = 0x3200, kLdt = 0x3800,
                        kCode = 0x4000, kHandlers = 0x5000, kPageDir = 0x10000, kScratch = 0x20000;
constexpr unsigned kGdtEntries = 32, kIdtEntries = 64, kLdtEntries = 8;
constexpr std::uint32_t kCodeBytes = 0x800, kHandlerBytes = 0x400;

class Builder {
  public:
    explicit Builder(std::uint32_t seed) : rng_(seed) {}

    std::uint32_t bits() { return static_cast<std::uint32_t>(rng_()); }
    std::uint32_t below(std::uint32_t n) { return bits() % n; }
    bool chance(unsigned percent) { return below(100) < percent; }

    // A selector into the tables, with a random RPL and now and then the LDT.
    std::uint16_t selector() {
        const std::uint32_t index = below(kGdtEntries + 2);  // a few past the GDT limit
        const bool ldt = chance(10);
        return static_cast<std::uint16_t>((ldt ? below(kLdtEntries + 1) : index) << 3 |
                                          (ldt ? 4 : 0) | below(4));
    }
    std::uint32_t code_offset() {
        return chance(70) ? kHandlers + below(kHandlerBytes) : kCode + below(kCodeBytes);
    }
    // An address for data: mostly the tables and scratch, some anywhere.
    std::uint32_t data_address() {
        switch (below(6)) {
            case 0:
                return kGdt + below(kGdtEntries * 8);
            case 1:
                return kIdt + below(kIdtEntries * 8);
            case 2:
                return kTss + below(0x300);
            case 3:
                return kScratch + below(0x1000);
            case 4:
                return kCode + below(kCodeBytes);
            default:
                return bits();
        }
    }

    std::uint64_t segment(std::uint32_t base, std::uint32_t limit, std::uint32_t access,
                          std::uint32_t flags) {
        const std::uint64_t low = (limit & 0xFFFF) | (base << 16);
        const std::uint64_t high = ((base >> 16) & 0xFF) | (access << 8) | (limit & 0xF0000) |
                                   (flags << 20) | (base & 0xFF000000u);
        return low | high << 32;
    }
    std::uint64_t gate(std::uint16_t sel, std::uint32_t offset, std::uint32_t access,
                       unsigned params) {
        const std::uint64_t low = (offset & 0xFFFF) | (std::uint32_t{sel} << 16);
        const std::uint64_t high = (offset & 0xFFFF0000u) | (access << 8) | (params & 0x1F);
        return low | high << 32;
    }

    // A descriptor for the GDT or LDT: usable segments of every kind, gates,
    // TSSes and LDTs, and garbage.
    std::uint64_t descriptor() {
        const std::uint32_t dpl = below(4) << 5;
        const std::uint32_t present = chance(90) ? 0x80 : 0;
        switch (below(10)) {
            case 0:
            case 1:  // code: readable or not, conforming or not, 16 or 32-bit
                return segment(chance(80) ? 0 : bits() & 0xFFFFF000u,
                               chance(80) ? 0xFFFFF : below(0x10000),
                               present | dpl | 0x18 | (below(4) << 1) | below(2),
                               chance(80) ? 0xC : below(16));
            case 2:
            case 3:  // data: writable or not, expand-down or not
                return segment(chance(80) ? 0 : bits() & 0xFFFFF000u,
                               chance(70) ? 0xFFFFF : below(0x10000),
                               present | dpl | 0x10 | (below(4) << 1) | below(2),
                               chance(80) ? 0xC : below(16));
            case 4:  // call gate, 16 or 32-bit
                return gate(selector(), code_offset(), present | dpl | (chance(50) ? 0xC : 0x4),
                            below(4));
            case 5:  // task gate
                return gate(selector(), 0, present | dpl | 0x5, 0);
            case 6:  // TSS, 16 or 32-bit, available or busy, at one of two places
                return segment(chance(80) ? (chance(50) ? kTss : kTss2) : bits(),
                               chance(80) ? 0x67 + below(0x200) : below(0x80),
                               present | dpl | (chance(70) ? 0x9 : 0x1) | (chance(20) ? 2 : 0), 0);
            case 7:  // LDT
                return segment(chance(80) ? kLdt : bits(),
                               chance(80) ? kLdtEntries * 8 - 1 : below(0x100), present | 0x2, 0);
            case 8:  // interrupt or trap gate (out of place in the GDT)
                return gate(selector(), code_offset(), present | dpl | 0xE | below(2), 0);
            default:
                return std::uint64_t{bits()} << 32 | bits();
        }
    }
    std::uint64_t idt_entry() {
        const std::uint32_t dpl = below(4) << 5;
        const std::uint32_t present = chance(92) ? 0x80 : 0;
        switch (below(8)) {
            case 0:
            case 1:
            case 2:
            case 3:  // 32-bit interrupt or trap gate, mostly to ring-0 code
                return gate(chance(70) ? 0x08 : selector(), code_offset(),
                            present | dpl | 0xE | below(2), 0);
            case 4:  // 16-bit gate
                return gate(selector(), code_offset(), present | dpl | 0x6 | below(2), 0);
            case 5:  // task gate
                return gate(selector(), 0, present | dpl | 0x5, 0);
            default:
                return std::uint64_t{bits()} << 32 | bits();
        }
    }

    // A piece of code: mostly instructions of the system architecture with
    // operands from the tables, some ordinary ones, some random bytes.
    void instruction(std::vector<std::uint8_t>& out) {
        auto put = [&](std::initializer_list<std::uint8_t> b) { out.insert(out.end(), b); };
        auto put16 = [&](std::uint32_t v) { put({std::uint8_t(v), std::uint8_t(v >> 8)}); };
        auto put32 = [&](std::uint32_t v) {
            put16(v);
            put16(v >> 16);
        };
        auto mov_eax = [&](std::uint32_t v) {
            put({0xB8});
            put32(v);
        };
        switch (below(24)) {
            case 0:  // MOV Sreg, AX
                put({0x66, 0xB8});
                put16(selector());
                put({0x8E, static_cast<std::uint8_t>(0xC0 | below(6) << 3)});
                break;
            case 1:  // far JMP
                put({0xEA});
                put32(code_offset());
                put16(selector());
                break;
            case 2:  // far CALL
                put({0x9A});
                put32(code_offset());
                put16(selector());
                break;
            case 3:  // RETF, RETF n, IRET, IRETW
                switch (below(4)) {
                    case 0:
                        put({0xCB});
                        break;
                    case 1:
                        put({0xCA});
                        put16(below(16) * 2);
                        break;
                    case 2:
                        put({0xCF});
                        break;
                    default:
                        put({0x66, 0xCF});
                        break;
                }
                break;
            case 4:  // a frame for the RETF or IRET: selectors, offsets, EFLAGS
                for (unsigned i = below(6); i > 0; --i) {
                    put({0x68});
                    switch (below(3)) {
                        case 0:
                            put32(selector());
                            break;
                        case 1:
                            put32(code_offset());
                            break;
                        default:
                            put32(chance(30) ? bits() : (bits() & 0x3FFFD7) | 2);
                            break;
                    }
                }
                break;
            case 5:  // INT n, INT3, INTO, INT1
                switch (below(4)) {
                    case 0:
                        put({0xCD, static_cast<std::uint8_t>(below(kIdtEntries + 8))});
                        break;
                    case 1:
                        put({0xCC});
                        break;
                    case 2:
                        put({0xCE});
                        break;
                    default:
                        put({0xF1});
                        break;
                }
                break;
            case 6:  // LAR, LSL, VERR, VERW, LTR, LLDT, STR, SLDT, ARPL with AX a selector
                put({0x66, 0xB8});
                put16(selector());
                switch (below(8)) {
                    case 0:
                        put({0x0F, 0x02, 0xC8});  // lar ecx, eax
                        break;
                    case 1:
                        put({0x0F, 0x03, 0xC8});  // lsl ecx, eax
                        break;
                    case 2:
                        put({0x0F, 0x00, 0xE0});  // verr ax
                        break;
                    case 3:
                        put({0x0F, 0x00, 0xE8});  // verw ax
                        break;
                    case 4:
                        put({0x0F, 0x00, 0xD8});  // ltr ax
                        break;
                    case 5:
                        put({0x0F, 0x00, 0xD0});  // lldt ax
                        break;
                    case 6:
                        put({0x0F, 0x00, 0xC9});  // str cx
                        break;
                    default:
                        put({0x63, 0xC1});  // arpl cx, ax
                        break;
                }
                break;
            case 7: {  // MOV CR0/CR3/CR4 with plausible or random values
                static constexpr std::uint32_t kCr0[] = {0x11,       0x80000011, 0x80010011, 0x1,
                                                         0x80000001, 0x8000003B, 0x10};
                static constexpr std::uint32_t kCr4[] = {0,    0x10, 0x20, 0x30,
                                                         0x80, 0x90, 0x08, 0x04};
                const unsigned which = below(3);
                std::uint32_t v = bits();
                if (chance(80)) {
                    v = which == 0   ? kCr0[below(7)]
                        : which == 1 ? (chance(80) ? kPageDir : bits() & 0xFFFFF000u)
                                     : kCr4[below(8)];
                }
                mov_eax(v);
                put({0x0F, 0x22,
                     static_cast<std::uint8_t>(0xC0 | (which == 0 ? 0 : which + 2) << 3)});
                break;
            }
            case 8:  // MOV DRn, EAX and back
                mov_eax(chance(50) ? data_address() : bits());
                put({0x0F, static_cast<std::uint8_t>(chance(70) ? 0x23 : 0x21),
                     static_cast<std::uint8_t>(0xC0 | below(8) << 3)});
                break;
            case 9:  // PUSHF, POPF with a pushed value, CLI, STI
                switch (below(4)) {
                    case 0:
                        put({0x9C});
                        break;
                    case 1:
                        put({0x68});
                        put32(chance(50) ? bits() : (bits() & 0x7FD7) | 2);
                        put({0x9D});
                        break;
                    case 2:
                        put({0xFA});
                        break;
                    default:
                        put({0xFB});
                        break;
                }
                break;
            case 10:  // a store into the tables, the code or anywhere
                put({0xC7, 0x05});
                put32(data_address());
                put32(bits());
                break;
            case 11:  // ESP somewhere
                put({0xBC});
                put32(chance(70) ? 0x8000 - below(0x100) * 4 : data_address());
                break;
            case 12:  // IN, OUT, INS, OUTS (I/O permission checks)
                put({static_cast<std::uint8_t>(0xE4 + below(4)),
                     static_cast<std::uint8_t>(bits())});
                if (chance(30)) put({static_cast<std::uint8_t>(0x6C + below(4))});
                break;
            case 13:  // RDMSR, WRMSR of known and unknown MSRs; SYSENTER, SYSEXIT
                put({0xB9});
                put32(chance(70) ? std::uint32_t{0x174 + below(3)} : bits() & 0x3FF);
                switch (below(4)) {
                    case 0:
                        put({0x0F, 0x32});
                        break;
                    case 1:
                        put({0x0F, 0x30});
                        break;
                    case 2:
                        put({0x0F, 0x34});
                        break;
                    default:
                        put({0x0F, 0x35});
                        break;
                }
                break;
            case 14:  // LGDT, LIDT, SGDT, SIDT, LMSW, SMSW, CLTS, INVLPG
                switch (below(5)) {
                    case 0:
                        put({0x0F, 0x01, static_cast<std::uint8_t>(0x05 | below(4) << 3)});
                        put32(data_address());
                        break;
                    case 1:
                        put({0x0F, 0x01, 0xF0});  // lmsw ax
                        break;
                    case 2:
                        put({0x0F, 0x01, 0xE0});  // smsw eax
                        break;
                    case 3:
                        put({0x0F, 0x06});  // clts
                        break;
                    default:
                        put({0x0F, 0x01, 0x3D});  // invlpg [mem]
                        put32(data_address());
                        break;
                }
                break;
            case 15:  // REP string over the tables or elsewhere
                put({0xBF});
                put32(data_address());
                put({0xBE});
                put32(data_address());
                put({0xB9});
                put32(below(64));
                put({0xF3, static_cast<std::uint8_t>(0xA4 + below(2) + (chance(50) ? 0 : 6))});
                break;
            case 16:  // a load and an ALU operation through a segment register
                put({static_cast<std::uint8_t>(
                         std::array{0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65}[below(6)]),
                     0x8B, 0x05});
                put32(chance(80) ? data_address() : bits());
                break;
            case 17:  // PUSH/POP of segment registers
                put({std::array<std::uint8_t, 8>{0x06, 0x07, 0x1E, 0x1F, 0x16, 0x17, 0x0F,
                                                 0x0F}[below(8)]});
                if (out.back() == 0x0F)
                    put({static_cast<std::uint8_t>(0xA0 + below(2) * 8 + below(2))});
                break;
            case 18:  // HLT (rarely: it ends the run when IF is clear)
                if (chance(20)) put({0xF4});
                break;
            default:  // ordinary code, or a few random bytes
                if (chance(50)) {
                    put({0x01, static_cast<std::uint8_t>(0xC0 | below(64))});  // add r, r
                } else {
                    for (unsigned i = 1 + below(5); i > 0; --i)
                        put({static_cast<std::uint8_t>(bits())});
                }
                break;
        }
    }

    std::vector<std::uint8_t> code(std::uint32_t bytes) {
        std::vector<std::uint8_t> out;
        while (out.size() < bytes)
            instruction(out);
        out.resize(bytes);
        return out;
    }

  private:
    std::mt19937 rng_;
};

void put64(BareCpu& m, std::uint32_t at, std::uint64_t v) { std::memcpy(m.ram() + at, &v, 8); }
void put32(BareCpu& m, std::uint32_t at, std::uint32_t v) { std::memcpy(m.ram() + at, &v, 4); }

// Sets up one case in `m`; the same seed gives the same case.
cpu::CpuState build_case(BareCpu& m, std::uint32_t seed) {
    Builder b(seed);
    std::memset(m.ram(), 0, kRam);
    put64(m, kGdt + 0x08, b.segment(0, 0xFFFFF, 0x9B, 0xC));  // ring 0 code and data
    put64(m, kGdt + 0x10, b.segment(0, 0xFFFFF, 0x93, 0xC));
    put64(m, kGdt + 0x18, b.segment(0, 0xFFFFF, 0xFB, 0xC));  // ring 3 code and data
    put64(m, kGdt + 0x20, b.segment(0, 0xFFFFF, 0xF3, 0xC));
    put64(m, kGdt + 0x28, b.segment(kTss, 0x67 + b.below(0x100), 0x89, 0));
    for (unsigned i = 6; i < kGdtEntries; ++i)
        put64(m, kGdt + 8 * i, b.descriptor());
    for (unsigned i = 0; i < kLdtEntries; ++i)
        put64(m, kLdt + 8 * i, b.descriptor());
    for (unsigned i = 0; i < kIdtEntries; ++i)
        put64(m, kIdt + 8 * i, b.idt_entry());
    // TSSes: plausible inner stacks, random everything else.
    for (std::uint32_t at = kTss; at < kTss2 + 0x200; at += 4)
        put32(m, at, b.bits());
    for (std::uint32_t tss : {kTss, kTss2}) {
        if (b.chance(80)) {
            put32(m, tss + 4, 0x9000 + b.below(0x100) * 4);  // ESP0, SS0
            put32(m, tss + 8, b.chance(80) ? 0x10 : b.selector());
        }
    }
    // An identity map of the first 4 MiB with a 4 MiB page (CR4.PSE) or a
    // table, some entries broken.
    put32(m, kPageDir, 0x87);
    for (unsigned i = 1; i < 8; ++i)
        put32(m, kPageDir + 4 * i, b.chance(50) ? b.bits() : (i << 22) | 0x87);
    const std::vector<std::uint8_t> code = b.code(kCodeBytes);
    std::memcpy(m.ram() + kCode, code.data(), code.size());
    const std::vector<std::uint8_t> handlers = b.code(kHandlerBytes);
    std::memcpy(m.ram() + kHandlers, handlers.data(), handlers.size());
    m.cpu().invalidate_code(PhysicalAddress{0}, kRam);

    cpu::CpuState s = cpu::reset_state();
    s.cr0 |= cpu::cr0::PE;
    s.gdtr = {kGdt,
              static_cast<std::uint16_t>(b.chance(90) ? kGdtEntries * 8 - 1 : b.below(0x100))};
    s.idtr = {kIdt,
              static_cast<std::uint16_t>(b.chance(90) ? kIdtEntries * 8 - 1 : b.below(0x200))};
    s.ldtr = cpu::SegmentRegister{kLdt, kLdtEntries * 8 - 1, 0x30, 0x82};
    s.tr = cpu::SegmentRegister{kTss, 0x67, 0x28, 0x8B};
    const bool ring3 = b.chance(25);
    s.segment(SegReg::Cs) =
        cpu::SegmentRegister{0, 0xFFFFFFFF, ring3 ? std::uint16_t{0x1B} : std::uint16_t{0x08},
                             static_cast<std::uint16_t>(ring3 ? 0xC0FB : 0xC09B)};
    for (SegReg r : {SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs}) {
        s.segment(r) =
            cpu::SegmentRegister{0, 0xFFFFFFFF, ring3 ? std::uint16_t{0x23} : std::uint16_t{0x10},
                                 static_cast<std::uint16_t>(ring3 ? 0xC0F3 : 0xC093)};
    }
    s.eip = kCode;
    s.reg(Gpr::Esp) = 0x8000;
    s.set_eflags(2 | (b.below(4) << 12) | (b.chance(10) ? cpu::eflags::TF : 0));
    for (unsigned r = 0; r < 8; ++r) {
        if (r != static_cast<unsigned>(Gpr::Esp)) s.gpr[r] = b.bits();
    }
    // (A REP over 4 G elements is a valid guest, but a long case.)
    s.reg(Gpr::Ecx) &= 0xFFFF;
    return s;
}

struct Outcome {
    cpu::CpuExit exit;
    cpu::CpuState state;
    std::uint64_t instructions;
};

Outcome run_case(BareCpu& m, std::uint32_t seed, std::uint64_t budget) {
    m.cpu().set_state(build_case(m, seed));
    const std::uint64_t before = m.cpu().statistics().instructions;
    const cpu::CpuExit exit = m.cpu().run(budget);
    return {exit, m.state(), m.cpu().statistics().instructions - before};
}

}  // namespace

TEST_SUITE("system") {
    TEST_CASE(
        "hostile tables and gates and TSSes and code give guest faults and agree on both "
        "backends") {
        const unsigned cases = std::getenv("JITTERBUG_LONG_TESTS") ? 20000 : 600;
        // JITTERBUG_HOSTILE_SEED=n runs case n alone.
        const char* only = std::getenv("JITTERBUG_HOSTILE_SEED");
        const std::uint32_t first = only ? static_cast<std::uint32_t>(std::atoi(only)) : 1;
        const std::uint32_t last = only ? first : cases;
        constexpr std::uint64_t kBudget = 4000;
        BareCpu interp(cpu::BackendKind::Interpreter, kRam);
#ifdef JITTERBUG_HAVE_JIT
        BareCpu jit(cpu::BackendKind::Jit, kRam);
#endif
        unsigned shutdowns = 0, halts = 0, budgets = 0;
        for (std::uint32_t seed = first; seed <= last; ++seed) {
            CAPTURE(seed);
            const Outcome a = run_case(interp, seed, kBudget);
            REQUIRE_MESSAGE(a.exit != cpu::CpuExit::InternalError, interp.cpu().error());
            shutdowns += a.exit == cpu::CpuExit::Shutdown;
            halts += a.exit == cpu::CpuExit::Halted || a.exit == cpu::CpuExit::WaitingForInterrupt;
            budgets += a.exit == cpu::CpuExit::InstructionLimit;
#ifdef JITTERBUG_HAVE_JIT
            const Outcome b = run_case(jit, seed, kBudget);
            REQUIRE_MESSAGE(b.exit != cpu::CpuExit::InternalError, jit.cpu().error());
            CHECK(static_cast<int>(a.exit) == static_cast<int>(b.exit));
            CHECK(a.instructions == b.instructions);
            const std::string d = cpu::describe_differences(b.state, a.state, "jit", "interpreter");
            CHECK_MESSAGE(d.empty(), d);
            CHECK(std::memcmp(interp.ram(), jit.ram(), kRam) == 0);
#endif
        }
        MESSAGE(cases << " cases: " << shutdowns << " triple faults, " << halts << " halts, "
                      << budgets << " ran out of budget");
        // (The cases must reach the machinery: not all die at once.)
        if (!only) CHECK(budgets + halts > cases / 10);
    }
}
