#include <fmt/format.h>

#include "jit/ir/block.hpp"

namespace jitterbug::ir {
namespace {

bool is_immediate_only(Type t) {
    return t == Type::GprRef || t == Type::SegRef || t == Type::CondRef || t == Type::HelperRef;
}

}  // namespace

std::string verify(const Block& block) {
    const auto& insts = block.insts();
    for (std::size_t i = 0; i < insts.size(); ++i) {
        const Inst& inst = insts[i];
        const OpcodeInfo& oi = info(inst.op);
        for (unsigned a = 0; a < kMaxArgs; ++a) {
            const Value& v = inst.args[a];
            if (a >= oi.num_args) {
                if (!v.empty()) return fmt::format("%{} {}: extra argument {}", i, oi.name, a);
                continue;
            }
            const Type want = oi.args[a];
            if (v.empty()) return fmt::format("%{} {}: argument {} missing", i, oi.name, a);
            if (want == Type::Opaque) {
                if (v.is_immediate() || v.inst() >= i) {
                    return fmt::format("%{} {}: opaque argument must name an earlier instruction",
                                       i, oi.name);
                }
                continue;
            }
            if (v.type() != want) {
                return fmt::format("%{} {}: argument {} is {}, expected {}", i, oi.name, a,
                                   to_string(v.type()), to_string(want));
            }
            if (is_immediate_only(want) && !v.is_immediate()) {
                return fmt::format("%{} {}: argument {} must be an immediate", i, oi.name, a);
            }
            if (!v.is_immediate()) {
                if (v.inst() >= i) {
                    return fmt::format("%{} {}: argument {} uses %{} before it is defined", i,
                                       oi.name, a, v.inst());
                }
                if (result_type(insts[v.inst()].op) != v.type()) {
                    return fmt::format("%{} {}: argument {} has the wrong type for %{}", i, oi.name,
                                       a, v.inst());
                }
            }
        }
    }
    const Terminal& t = block.terminal();
    if (t.kind == Terminal::Kind::None) return "block has no terminal";
    if (t.kind == Terminal::Kind::Branch) {
        if (t.cond.type() != Type::U1) return "branch condition is not u1";
        if (!t.cond.is_immediate() && t.cond.inst() >= insts.size()) {
            return "branch condition names a missing instruction";
        }
    }
    return {};
}

}  // namespace jitterbug::ir
