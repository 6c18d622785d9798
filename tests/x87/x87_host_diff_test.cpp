// x87 instructions in jitterbug against the host's x87: every form, from
// the same state (eight registers of every class, some empty, TOP
// anywhere, a random control word) and the same memory operand, natively
// (FRSTOR; the instruction; FNSAVE) and on each backend (the same bytes in
// 32-bit protected mode). The saved images must agree — registers, tags,
// status, control — and so must the memory operand, EAX and ZF/PF/CF. The
// instruction and data pointers are left out (their addresses differ).
// Skipped on hosts without an x87.
#include <doctest/doctest.h>

#include <sys/mman.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "cpu/x87/float80.hpp"
#include "support/bare_cpu.hpp"

using namespace jitterbug;
using namespace jitterbug::test;
using cpu::Gpr;
namespace x87 = jitterbug::cpu::x87;

namespace {

// An instruction form: its bytes, with a ModR/M of [esi] (rm = 6, mod = 0)
// where it takes memory.
struct Form {
    std::vector<std::uint8_t> bytes;
    const char* what;
};

std::vector<Form> all_forms() {
    std::vector<Form> forms;
    const auto reg_forms = [&](std::uint8_t op, std::uint8_t first, unsigned count,
                               const char* what) {
        for (unsigned i = 0; i < count; ++i)
            forms.push_back({{op, static_cast<std::uint8_t>(first + i)}, what});
    };
    const auto mem_form = [&](std::uint8_t op, unsigned reg, const char* what) {
        forms.push_back({{op, static_cast<std::uint8_t>(reg << 3 | 6)}, what});
    };
    for (unsigned r = 0; r < 8; ++r) {
        mem_form(0xD8, r, "arith m32");
        mem_form(0xDC, r, "arith m64");
        mem_form(0xDA, r, "arith m32int");
        mem_form(0xDE, r, "arith m16int");
    }
    reg_forms(0xD8, 0xC0, 64, "arith st(0), st(i)");
    reg_forms(0xDC, 0xC0, 8, "fadd st(i), st(0)");
    reg_forms(0xDC, 0xC8, 8, "fmul st(i), st(0)");
    reg_forms(0xDC, 0xE0, 32, "fsub(r)/fdiv(r) st(i), st(0)");
    reg_forms(0xDE, 0xC0, 16, "faddp/fmulp");
    reg_forms(0xDE, 0xE0, 32, "fsub(r)p/fdiv(r)p");
    forms.push_back({{0xDE, 0xD9}, "fcompp"});
    for (unsigned r : {0u, 2u, 3u})
        mem_form(0xD9, r, "fld/fst/fstp m32");
    for (unsigned r : {0u, 1u, 2u, 3u})
        mem_form(0xDD, r, "fld/fisttp/fst/fstp m64");
    for (unsigned r : {0u, 1u, 2u, 3u, 5u, 7u})
        mem_form(0xDB, r, "fild/fisttp/fist/fistp m32, fld/fstp m80");
    for (unsigned r = 0; r < 8; ++r)
        mem_form(0xDF, r, "m16int, fbld/fbstp, m64int");
    mem_form(0xD9, 5, "fldcw");
    mem_form(0xD9, 7, "fnstcw");
    mem_form(0xDD, 7, "fnstsw m16");
    reg_forms(0xD9, 0xC0, 16, "fld st(i), fxch");
    forms.push_back({{0xD9, 0xD0}, "fnop"});
    for (std::uint8_t b : {0xE0, 0xE1, 0xE4, 0xE5, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE, 0xF4,
                           0xF5, 0xF6, 0xF7, 0xF8, 0xFA, 0xFC, 0xFD}) {
        forms.push_back({{0xD9, b}, "d9 group"});
    }
    reg_forms(0xDA, 0xC0, 32, "fcmovb/e/be/u");
    forms.push_back({{0xDA, 0xE9}, "fucompp"});
    reg_forms(0xDB, 0xC0, 32, "fcmovnb/ne/nbe/nu");
    forms.push_back({{0xDB, 0xE2}, "fnclex"});
    forms.push_back({{0xDB, 0xE3}, "fninit"});
    reg_forms(0xDB, 0xE8, 16, "fucomi/fcomi");
    reg_forms(0xDD, 0xC0, 8, "ffree");
    reg_forms(0xDD, 0xD0, 32, "fst/fstp st(i), fucom(p)");
    forms.push_back({{0xDF, 0xE0}, "fnstsw ax"});
    reg_forms(0xDF, 0xE8, 16, "fucomip/fcomip");
    return forms;
}

// Values of every class the x87 knows, biased towards the edges.
x87::Float80 random_value(std::mt19937_64& rng) {
    const auto bits = [&] { return rng(); };
    const bool sign = bits() & 1;
    switch (bits() % 12) {
        case 0:
            return x87::zero(sign);
        case 1:
            return x87::make(sign, 0, bits() >> (bits() % 64) & ~x87::kIntegerBit);
        case 2:
            return x87::infinity(sign);
        case 3:
            return x87::make(sign, x87::kMaxExponent, bits() | x87::kIntegerBit | x87::kQuietBit);
        case 4: {
            std::uint64_t m = (bits() | x87::kIntegerBit) & ~x87::kQuietBit;
            if (m == x87::kIntegerBit) m |= 1;
            return x87::make(sign, x87::kMaxExponent, m);
        }
        case 5:
            return x87::make(sign, 1 + bits() % 0x7FFE, bits() & ~x87::kIntegerBit);  // unnormal
        case 6:
            return x87::make(sign, 1 + bits() % 80, bits() | x87::kIntegerBit);
        case 7:
            return x87::make(sign, x87::kMaxExponent - 1 - bits() % 80, bits() | x87::kIntegerBit);
        case 8: {
            const std::int64_t v = static_cast<std::int64_t>(bits() % 200000) - 100000;
            return x87::from_int64(v);
        }
        default:
            return x87::make(sign, x87::kBias - 100 + bits() % 200, bits() | x87::kIntegerBit);
    }
}

// FNSAVE's 32-bit protected-mode image.
struct Image {
    std::array<std::uint8_t, 108> bytes{};
    void set16(unsigned at, std::uint16_t v) { std::memcpy(&bytes[at], &v, 2); }
    std::uint16_t get16(unsigned at) const {
        std::uint16_t v;
        std::memcpy(&v, &bytes[at], 2);
        return v;
    }
};

struct Case {
    Image state;                          // loaded by FRSTOR
    std::array<std::uint8_t, 16> data{};  // the memory operand
    std::uint32_t eflags = 0x202;
};

Case random_case(std::mt19937_64& rng) {
    Case c;
    static constexpr std::uint16_t kPc[] = {0x000, 0x200, 0x300};
    std::uint16_t cw = static_cast<std::uint16_t>(0x0040 | kPc[rng() % 3] | (rng() % 4) << 10);
    cw |= rng() % 3 == 0 ? static_cast<std::uint16_t>(rng() & 0x3F) : 0x3F;
    // Exception flags only where masked: nothing pending at the start.
    const std::uint16_t flags = static_cast<std::uint16_t>(rng() & 0x3F & cw);
    const unsigned top = rng() % 8;
    const std::uint16_t sw = static_cast<std::uint16_t>(flags | (rng() & 0x4700) | top << 11);
    std::uint16_t tags = 0;
    for (unsigned r = 0; r < 8; ++r) {
        if (rng() % 5 == 0) tags |= static_cast<std::uint16_t>(3u << (2 * r));  // empty
    }
    c.state.set16(0, cw);
    c.state.set16(4, sw);
    c.state.set16(8, tags);
    for (unsigned i = 0; i < 8; ++i) {
        const x87::Float80 v = random_value(rng);
        std::memcpy(&c.state.bytes[28 + 10 * i], &v.significand, 8);
        std::memcpy(&c.state.bytes[28 + 10 * i + 8], &v.sign_exponent, 2);
    }
    for (auto& b : c.data)
        b = static_cast<std::uint8_t>(rng());
    switch (rng() % 4) {  // a memory value of some class
        case 0: {
            const x87::Float80 v = random_value(rng);
            std::memcpy(&c.data[0], &v.significand, 8);
            std::memcpy(&c.data[8], &v.sign_exponent, 2);
            break;
        }
        case 1: {  // small integers
            const std::int32_t v = static_cast<std::int32_t>(rng() % 2000) - 1000;
            std::memcpy(&c.data[0], &v, 4);
            break;
        }
        case 2: {  // a valid BCD number
            for (unsigned i = 0; i < 9; ++i)
                c.data[i] = static_cast<std::uint8_t>((rng() % 10) << 4 | (rng() % 10));
            c.data[9] = rng() & 0x80;
            break;
        }
        default:
            break;
    }
    c.eflags = 0x202 | (rng() & (0x1 | 0x4 | 0x40));  // CF PF ZF for FCMOV
    return c;
}

struct Outcome {
    Image state;
    std::array<std::uint8_t, 16> data{};
    std::uint32_t eax = 0;
    std::uint32_t eflags = 0;
};

#if defined(__x86_64__)
// mov eax, 11112222h; frstor [rdi]; push rdx; popfq; <insn with [rsi]>;
// fnsave [rdi]; pushfq; pop rdx; mov [rcx], edx; mov [r8], eax; ret
class HostRunner {
  public:
    HostRunner() {
        page_ = static_cast<std::uint8_t*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    }
    ~HostRunner() { munmap(page_, 4096); }
    bool ok() const { return page_ != MAP_FAILED; }

    Outcome run(const Form& form, const Case& c) {
        // mov eax, 11112222h; frstor [rdi]; push rdx; popfq
        std::vector<std::uint8_t> code = {0xB8, 0x22, 0x22, 0x11, 0x11, 0xDD, 0x27, 0x52, 0x9D};
        code.insert(code.end(), form.bytes.begin(), form.bytes.end());
        const std::uint8_t tail[] = {0xDD, 0x37,        // fnsave [rdi]
                                     0x9C, 0x5A,        // pushfq; pop rdx
                                     0x89, 0x11,        // mov [rcx], edx
                                     0x41, 0x89, 0x00,  // mov [r8], eax
                                     0xC3};
        code.insert(code.end(), std::begin(tail), std::end(tail));
        std::memcpy(page_, code.data(), code.size());
        Outcome o;
        o.state = c.state;
        o.data = c.data;
        std::uint64_t eflags_in = c.eflags;
        std::uint32_t eflags_out = 0, eax = 0;
        using Fn = void (*)(void* image, void* data, std::uint64_t eflags,
                            std::uint32_t* eflags_out, std::uint32_t* eax_out);
        // (rdi, rsi, rdx, rcx, r8)
        __asm__ volatile("" ::: "memory");
        reinterpret_cast<Fn>(page_)(o.state.bytes.data(), o.data.data(), eflags_in, &eflags_out,
                                    &eax);
        o.eflags = eflags_out;
        o.eax = eax;
        return o;
    }

  private:
    std::uint8_t* page_;
};
#endif

constexpr std::uint32_t kImage = 0x3000, kData = 0x4000, kCode = 0x1000, kResult = 0x5000;

Outcome emulate(BareCpu& m, const Form& form, const Case& c) {
    // frstor [edi]; push edx; popfd; <insn>; fnsave [edi]; pushfd; pop edx;
    // mov [ecx], edx; hlt — EAX, EDX, ECX set as the host runner's.
    std::vector<std::uint8_t> code = {0xDD, 0x27, 0x52, 0x9D};
    code.insert(code.end(), form.bytes.begin(), form.bytes.end());
    for (std::uint8_t b : {0xDD, 0x37, 0x9C, 0x5A, 0x89, 0x11, 0xF4})
        code.push_back(b);
    for (unsigned i = 0; i < code.size(); ++i)
        m.poke(kCode + i, code[i]);
    std::memcpy(m.ram() + kImage, c.state.bytes.data(), c.state.bytes.size());
    std::memcpy(m.ram() + kData, c.data.data(), c.data.size());
    cpu::CpuState s = flat32_state(kCode);
    s.cr0 |= cpu::cr0::NE;
    s.reg(Gpr::Edi) = kImage;
    s.reg(Gpr::Esi) = kData;
    s.reg(Gpr::Edx) = c.eflags;
    s.reg(Gpr::Ecx) = kResult;
    s.reg(Gpr::Eax) = 0x11112222;
    s.reg(Gpr::Esp) = 0x8000;
    m.cpu().set_state(s);
    m.cpu().run(100);
    Outcome o;
    std::memcpy(o.state.bytes.data(), m.ram() + kImage, o.state.bytes.size());
    std::memcpy(o.data.data(), m.ram() + kData, o.data.size());
    std::memcpy(&o.eflags, m.ram() + kResult, 4);
    o.eax = m.state().reg(Gpr::Eax);
    return o;
}

std::string describe(const Outcome& o) {
    std::string s;
    char buf[64];
    std::snprintf(buf, sizeof buf, "cw %04x sw %04x tw %04x", o.state.get16(0), o.state.get16(4),
                  o.state.get16(8));
    s += buf;
    for (unsigned i = 0; i < 8; ++i) {
        std::uint64_t m;
        std::uint16_t e;
        std::memcpy(&m, &o.state.bytes[28 + 10 * i], 8);
        std::memcpy(&e, &o.state.bytes[28 + 10 * i + 8], 2);
        std::snprintf(buf, sizeof buf, " st%u=%04x:%016llx", i, e,
                      static_cast<unsigned long long>(m));
        s += buf;
    }
    std::snprintf(buf, sizeof buf,
                  " data=%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x eax=%08x fl=%03x", o.data[9],
                  o.data[8], o.data[7], o.data[6], o.data[5], o.data[4], o.data[3], o.data[2],
                  o.data[1], o.data[0], o.eax, o.eflags & 0x45);
    s += buf;
    return s;
}

std::string form_name(const Form& form) {
    char bytes[16];
    std::snprintf(bytes, sizeof bytes, "%02x %02x", form.bytes[0], form.bytes[1]);
    return bytes;
}

bool same(const Outcome& a, const Outcome& b) {
    // (Bytes 12-27 hold the instruction and data pointers and FOP.)
    return std::memcmp(a.state.bytes.data(), b.state.bytes.data(), 12) == 0 &&
           std::memcmp(a.state.bytes.data() + 28, b.state.bytes.data() + 28, 80) == 0 &&
           a.data == b.data && a.eax == b.eax && (a.eflags & 0x45) == (b.eflags & 0x45);
}

// ---- the transcendental instructions ----

std::vector<Form> transcendental_forms() {
    std::vector<Form> forms;
    for (std::uint8_t b : {0xF0, 0xF1, 0xF2, 0xF3, 0xF9, 0xFB, 0xFE, 0xFF})
        forms.push_back({{0xD9, b}, "transcendental"});
    return forms;
}

x87::Float80 scaled_value(std::mt19937_64& rng, int min_exp, int max_exp) {
    const int e = min_exp + static_cast<int>(rng() % static_cast<unsigned>(max_exp - min_exp + 1));
    return x87::make(rng() & 1, static_cast<unsigned>(x87::kBias + e), rng() | x87::kIntegerBit);
}

// Operands in the instruction's domain (half the cases): what programs
// compute with, where the SDM defines the result.
void domain_operands(std::mt19937_64& rng, std::uint8_t op, Case& c) {
    const unsigned top = (c.state.get16(4) >> 11) & 7;
    x87::Float80 st0 = scaled_value(rng, -80, 80), st1 = scaled_value(rng, -80, 80);
    switch (op) {
        case 0xF0:  // F2XM1: [-1, 1]
            st0 = scaled_value(rng, rng() % 4 == 0 ? -70 : -8, -1);
            break;
        case 0xF1:  // FYL2X: x > 0
            st0 = x87::absolute(st0);
            if (rng() % 4 == 0)
                st0 = x87::make(false, x87::kBias - (rng() & 1),
                                rng() | x87::kIntegerBit | 0x7FFF000000000000ull);  // near 1
            break;
        case 0xF9:  // FYL2XP1: |x| < 1 - sqrt(2)/2
            st0 = scaled_value(rng, rng() % 4 == 0 ? -70 : -10, -3);
            break;
        case 0xF3:  // FPATAN: any
            break;
        default:  // FPTAN, FSINCOS, FSIN, FCOS: |x| < 2^63, some near multiples of pi/2
            st0 = scaled_value(rng, rng() % 4 == 0 ? -70 : -4, rng() % 4 == 0 ? 62 : 8);
            if (rng() % 4 == 0) {
                x87::Env env;
                const x87::Float80 half_pi = x87::make(false, x87::kBias, 0xc90fdaa22168c235ull);
                st0 = x87::mul(half_pi, x87::from_int64(static_cast<std::int64_t>(rng() % 64) + 1),
                               env);
                st0.significand += (rng() % 5) - 2;
            }
            break;
    }
    std::uint16_t tags = c.state.get16(8);
    for (unsigned i = 0; i < 2; ++i) {
        const unsigned phys = (top + i) & 7;
        const x87::Float80 v = i == 0 ? st0 : st1;
        tags = static_cast<std::uint16_t>(tags & ~(3u << (2 * phys)));
        std::memcpy(&c.state.bytes[28 + 10 * i], &v.significand, 8);
        std::memcpy(&c.state.bytes[28 + 10 * i + 8], &v.sign_exponent, 2);
    }
    c.state.set16(8, tags);
}

// The position of a finite value among all values: adjacent values are 1 apart.
// A register's place in the order of the extended values: adjacent values
// (across binades and through the denormals to zero) differ by one.
__int128 ordinal(const std::uint8_t* reg) {
    std::uint64_t m;
    std::uint16_t e;
    std::memcpy(&m, reg, 8);
    std::memcpy(&e, reg + 8, 2);
    const __int128 magnitude = (static_cast<__int128>(e & 0x7FFFu) << 63) + (m & ~x87::kIntegerBit);
    return (e & 0x8000) ? -magnitude : magnitude;
}

// One line per case one ulp apart, for scripts/x87-ulp-check: the form,
// the control word, ST0 and ST1 before, then the host's and ours after.
std::string ulp_record(const std::string& form, const Case& c, const Outcome& host,
                       const Outcome& ours) {
    const auto reg = [](const Image& image, unsigned i) {
        const std::uint8_t* r = &image.bytes[28 + 10 * i];
        std::uint64_t m;
        std::uint16_t e;
        std::memcpy(&m, r, 8);
        std::memcpy(&e, r + 8, 2);
        char text[24];
        std::snprintf(text, sizeof text, "%04x:%016llx", e, static_cast<unsigned long long>(m));
        return std::string(text);
    };
    char cw[8];
    std::snprintf(cw, sizeof cw, "%04x", c.state.get16(0));
    return form + " " + cw + " " + reg(c.state, 0) + " " + reg(c.state, 1) + " " +
           reg(host.state, 0) + " " + reg(host.state, 1) + " " + reg(ours.state, 0) + " " +
           reg(ours.state, 1) + "\n";
}

// Equal but for results one unit in the last place apart (and C1, which
// says which way a result was rounded, and PE).
bool within_an_ulp(const Outcome& a, const Outcome& b) {
    if (a.data != b.data || a.eax != b.eax || (a.eflags & 0x45) != (b.eflags & 0x45)) return false;
    constexpr std::uint16_t kLoose = 0x0200 | 0x0020;
    if (a.state.get16(0) != b.state.get16(0) ||
        (a.state.get16(4) & ~kLoose) != (b.state.get16(4) & ~kLoose))
        return false;
    // A register's tag follows its value (a denormal one ulp from zero is
    // tagged special, zero zero): only the tags of equal registers compare.
    const unsigned top = (a.state.get16(4) >> 11) & 7;
    std::uint16_t tag_mask = 0xffff;
    for (unsigned i = 0; i < 8; ++i) {
        const std::uint8_t* x = &a.state.bytes[28 + 10 * i];
        const std::uint8_t* y = &b.state.bytes[28 + 10 * i];
        if (std::memcmp(x, y, 10) == 0) continue;
        const __int128 d = ordinal(x) - ordinal(y);
        if (d != 1 && d != -1) return false;
        tag_mask &= static_cast<std::uint16_t>(~(3u << (2 * ((top + i) & 7))));
    }
    return (a.state.get16(8) & tag_mask) == (b.state.get16(8) & tag_mask);
}

}  // namespace

TEST_SUITE("x87") {
    TEST_CASE("x87 instructions on both backends end in the host x87's state") {
#if !defined(__x86_64__)
        MESSAGE("skipped: this host has no x87 to compare with");
#else
        HostRunner host;
        REQUIRE(host.ok());
        const std::vector<Form> forms = all_forms();
        const unsigned per_form = std::getenv("JITTERBUG_LONG_TESTS") ? 2000 : 40;
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            std::mt19937_64 rng(12345);
            unsigned cases = 0, mismatches = 0;
            std::string failing;  // each form that mismatched, with its count
            for (const Form& form : forms) {
                unsigned form_mismatches = 0;
                for (unsigned k = 0; k < per_form; ++k) {
                    const Case c = random_case(rng);
                    const Outcome want = host.run(form, c);
                    const Outcome got = emulate(m, form, c);
                    ++cases;
                    if (!same(want, got)) {
                        ++mismatches;
                        if (++form_mismatches <= 1 && mismatches <= 200) {
                            MESSAGE(std::string(form.what)
                                    << " (" << form_name(form) << ")\n  from "
                                    << describe(Outcome{c.state, c.data, 0, c.eflags})
                                    << "\n  host " << describe(want) << "\n  ours "
                                    << describe(got));
                        }
                    }
                }
                if (form_mismatches != 0)
                    failing += " " + form_name(form) + ":" + std::to_string(form_mismatches);
            }
            MESSAGE(cases << " cases, " << mismatches << " mismatches"
                          << std::string(failing.empty() ? "" : " in") << failing);
            CHECK(mismatches == 0);
        }
#endif
    }

    TEST_CASE(
        "x87 transcendental instructions on both backends agree with the host x87 to the last bit "
        "or one ulp") {
#if !defined(__x86_64__)
        MESSAGE("skipped: this host has no x87 to compare with");
#else
        HostRunner host;
        REQUIRE(host.ok());
        const std::vector<Form> forms = transcendental_forms();
        const unsigned per_form = std::getenv("JITTERBUG_LONG_TESTS") ? 100000 : 2000;
        // JITTERBUG_X87_ULP_LOG=FILE: the cases one ulp apart go there (the
        // interpreter's; the backends agree), for scripts/x87-ulp-check.
        std::ofstream ulp_log;
        if (const char* path = std::getenv("JITTERBUG_X87_ULP_LOG")) ulp_log.open(path);
        for (auto backend : cpu_backends()) {
            CAPTURE(static_cast<int>(backend));
            BareCpu m(backend, 1 << 20);
            std::mt19937_64 rng(777);
            unsigned cases = 0, ulps = 0, mismatches = 0;
            std::string report;  // each form's cases one ulp apart and mismatches
            for (const Form& form : forms) {
                unsigned form_ulps = 0, form_mismatches = 0;
                for (unsigned k = 0; k < per_form; ++k) {
                    Case c = random_case(rng);
                    if (k % 2 == 0) domain_operands(rng, form.bytes[1], c);
                    const Outcome want = host.run(form, c);
                    const Outcome got = emulate(m, form, c);
                    ++cases;
                    if (same(want, got)) continue;
                    if (within_an_ulp(want, got)) {
                        if (ulp_log.is_open() && backend == cpu::BackendKind::Interpreter)
                            ulp_log << ulp_record(form_name(form), c, want, got);
                        ++ulps;
                        ++form_ulps;
                        continue;
                    }
                    ++mismatches;
                    if (++form_mismatches <= 3) {
                        MESSAGE(form_name(form)
                                << "\n  from " << describe(Outcome{c.state, c.data, 0, c.eflags})
                                << "\n  host " << describe(want) << "\n  ours " << describe(got));
                    }
                }
                report += " " + form_name(form) + ":" + std::to_string(form_ulps) + "/" +
                          std::to_string(form_mismatches);
            }
            MESSAGE(cases << " cases: " << ulps << " one ulp apart, " << mismatches
                          << " mismatches (per form, ulps/mismatches:" << report << ")");
            CHECK(mismatches == 0);
        }
#endif
    }
}
