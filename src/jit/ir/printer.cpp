#include <fmt/format.h>

#include <array>
#include <string>

#include "cpu/helper_id.hpp"
#include "jit/ir/block.hpp"

namespace jitterbug::ir {
namespace {

constexpr std::array<std::string_view, 8> kGpr32 = {"eax", "ecx", "edx", "ebx",
                                                    "esp", "ebp", "esi", "edi"};
constexpr std::array<std::string_view, 8> kGpr8 = {"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"};
constexpr std::array<std::string_view, 6> kSeg = {"es", "cs", "ss", "ds", "fs", "gs"};
constexpr std::array<std::string_view, 16> kCond = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                                    "s", "ns", "p", "np", "l", "ge", "le", "g"};

std::string value_text(const Value& v, Opcode op) {
    if (v.empty()) return "<none>";
    if (!v.is_immediate()) return fmt::format("%{}", v.inst());
    const std::uint64_t x = v.imm();
    switch (v.type()) {
        case Type::GprRef:
            return std::string(op == Opcode::GetGpr8 || op == Opcode::SetGpr8 ? kGpr8[x & 7]
                                                                              : kGpr32[x & 7]);
        case Type::SegRef:
            return std::string(kSeg[x % kSeg.size()]);
        case Type::CondRef:
            return std::string(kCond[x & 15]);
        case Type::HelperRef:
            return x < cpu::kNumHelpers ? std::string(cpu::kHelperInfo[x].name)
                                        : fmt::format("helper{}", x);
        default:
            return fmt::format("#{:#x}", x);
    }
}

std::string terminal_text(const Terminal& t) {
    switch (t.kind) {
        case Terminal::Kind::None:
            return "<unterminated>";
        case Terminal::Kind::Link:
            return fmt::format("link {:#x}", t.target);
        case Terminal::Kind::Branch:
            return fmt::format("branch {} ? {:#x} : {:#x}", value_text(t.cond, Opcode{}), t.target,
                               t.fallthrough);
        case Terminal::Kind::Dispatch:
            return "dispatch";
        case Terminal::Kind::Halt:
            return fmt::format("halt, resume at {:#x}", t.target);
        case Terminal::Kind::Raise:
            return fmt::format("raise vector {} at {:#x}", t.event.vector, t.target);
    }
    return "?";
}

}  // namespace

std::string_view to_string(Type t) {
    switch (t) {
        case Type::Void:
            return "void";
        case Type::U1:
            return "u1";
        case Type::U8:
            return "u8";
        case Type::U16:
            return "u16";
        case Type::U32:
            return "u32";
        case Type::U64:
            return "u64";
        case Type::Flags:
            return "flags";
        case Type::GprRef:
            return "gpr";
        case Type::SegRef:
            return "seg";
        case Type::CondRef:
            return "cond";
        case Type::HelperRef:
            return "helper";
        case Type::Opaque:
            return "opaque";
    }
    return "?";
}

std::string to_string(const Block& block) {
    const auto& loc = block.location();
    std::string out = fmt::format("block eip={:#x} cs_base={:#x} mode={:#x}: {} guest insns\n",
                                  loc.eip, loc.cs_base, loc.mode, block.guest_instructions);
    for (std::size_t i = 0; i < block.insts().size(); ++i) {
        const Inst& inst = block.insts()[i];
        std::string line;
        if (result_type(inst.op) != Type::Void) {
            line = fmt::format("  %{:<4} = ", i);
        } else {
            line = "          ";
        }
        line += name(inst.op);
        for (unsigned a = 0; a < inst.num_args(); ++a) {
            line += a == 0 ? " " : ", ";
            line += value_text(inst.args[a], inst.op);
        }
        if (result_type(inst.op) != Type::Void) line += fmt::format("   ; uses {}", inst.use_count);
        out += line + "\n";
    }
    out += "  " + terminal_text(block.terminal()) + "\n";
    return out;
}

}  // namespace jitterbug::ir
