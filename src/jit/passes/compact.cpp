#include "jit/passes/compact.hpp"

namespace jitterbug::jit {

void compact(ir::Block& block, const std::vector<bool>& keep) {
    auto& insts = block.insts();
    std::vector<ir::InstRef> renumber(insts.size(), ir::kNoInst);
    std::size_t next = 0;
    for (std::size_t i = 0; i < insts.size(); ++i) {
        if (keep[i]) renumber[i] = static_cast<ir::InstRef>(next++);
    }
    auto remap = [&](ir::Value& v) {
        if (!v.empty() && !v.is_immediate()) v = ir::Value::result_of(v.type(), renumber[v.inst()]);
    };
    std::size_t out = 0;
    for (std::size_t i = 0; i < insts.size(); ++i) {
        if (!keep[i]) continue;
        ir::Inst inst = insts[i];
        for (unsigned a = 0; a < inst.num_args(); ++a)
            remap(inst.args[a]);
        insts[out++] = inst;
    }
    insts.resize(out);
    remap(block.terminal().cond);
    block.recount_uses();
}

}  // namespace jitterbug::jit
