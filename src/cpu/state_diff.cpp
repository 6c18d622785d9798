#include "cpu/state_diff.hpp"

#include <fmt/format.h>

namespace jitterbug::cpu {

namespace {

constexpr const char* kGprNames[] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
constexpr const char* kSegNames[] = {"ES", "CS", "SS", "DS", "FS", "GS"};

void compare(std::string& out, std::string_view name, std::uint64_t a, std::uint64_t b,
             const char* a_name, const char* b_name) {
    if (a != b) out += fmt::format("{}: {} {:#x}, {} {:#x}\n", name, a_name, a, b_name, b);
}

void compare_segment(std::string& out, std::string_view name, const SegmentRegister& a,
                     const SegmentRegister& b, const char* a_name, const char* b_name) {
    compare(out, fmt::format("{}.selector", name), a.selector, b.selector, a_name, b_name);
    compare(out, fmt::format("{}.base", name), a.base, b.base, a_name, b_name);
    compare(out, fmt::format("{}.limit", name), a.limit, b.limit, a_name, b_name);
    compare(out, fmt::format("{}.attributes", name), a.attributes, b.attributes, a_name, b_name);
}

}  // namespace

std::string describe_differences(const CpuState& a, const CpuState& b, const char* a_name,
                                 const char* b_name) {
    std::string out;
    for (unsigned r = 0; r < kNumGprs; ++r)
        compare(out, kGprNames[r], a.gpr[r], b.gpr[r], a_name, b_name);
    compare(out, "EIP", a.eip, b.eip, a_name, b_name);
    compare(out, "EFLAGS", a.eflags(), b.eflags(), a_name, b_name);
    for (unsigned s = 0; s < kNumSegRegs; ++s)
        compare_segment(out, kSegNames[s], a.seg[s], b.seg[s], a_name, b_name);
    compare_segment(out, "LDTR", a.ldtr, b.ldtr, a_name, b_name);
    compare_segment(out, "TR", a.tr, b.tr, a_name, b_name);
    compare(out, "GDTR.base", a.gdtr.base, b.gdtr.base, a_name, b_name);
    compare(out, "GDTR.limit", a.gdtr.limit, b.gdtr.limit, a_name, b_name);
    compare(out, "IDTR.base", a.idtr.base, b.idtr.base, a_name, b_name);
    compare(out, "IDTR.limit", a.idtr.limit, b.idtr.limit, a_name, b_name);
    compare(out, "CR0", a.cr0, b.cr0, a_name, b_name);
    compare(out, "CR2", a.cr2, b.cr2, a_name, b_name);
    compare(out, "CR3", a.cr3, b.cr3, a_name, b_name);
    compare(out, "CR4", a.cr4, b.cr4, a_name, b_name);
    for (unsigned d = 0; d < a.dr.size(); ++d)
        compare(out, fmt::format("DR{}", d), a.dr[d], b.dr[d], a_name, b_name);
    const X87State& x = a.x87;
    const X87State& y = b.x87;
    for (unsigned r = 0; r < 8; ++r) {
        compare(out, fmt::format("R{}.significand", r), x.regs[r].significand,
                y.regs[r].significand, a_name, b_name);
        compare(out, fmt::format("R{}.sign_exponent", r), x.regs[r].sign_exponent,
                y.regs[r].sign_exponent, a_name, b_name);
    }
    compare(out, "FCW", x.control, y.control, a_name, b_name);
    compare(out, "FSW", x.status, y.status, a_name, b_name);
    compare(out, "FTW (valid)", x.valid, y.valid, a_name, b_name);
    compare(out, "FOP", x.opcode, y.opcode, a_name, b_name);
    compare(out, "FIP", x.ip, y.ip, a_name, b_name);
    compare(out, "FCS", x.cs, y.cs, a_name, b_name);
    compare(out, "FDP", x.dp, y.dp, a_name, b_name);
    compare(out, "FDS", x.ds, y.ds, a_name, b_name);
    return out;
}

}  // namespace jitterbug::cpu
