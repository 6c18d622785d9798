// Dead-code elimination: pure instructions nobody uses, last first, so
// that whole chains go.
#include "jit/passes/compact.hpp"
#include "jit/passes/passes.hpp"

namespace jitterbug::jit {

void eliminate_dead_code(ir::Block& block) {
    auto& insts = block.insts();
    block.recount_uses();
    std::vector<bool> keep(insts.size(), true);
    for (std::size_t k = insts.size(); k-- > 0;) {
        const ir::Inst& inst = insts[k];
        if (inst.use_count != 0 || ir::has_side_effects(inst.op)) continue;
        keep[k] = false;
        for (unsigned a = 0; a < inst.num_args(); ++a) {
            const ir::Value& v = inst.args[a];
            if (!v.empty() && !v.is_immediate()) --insts[v.inst()].use_count;
        }
    }
    compact(block, keep);
}

void optimize(ir::Block& block, const PassOptions& options) {
    if (options.forward_and_fold) forward_and_fold(block);
    if (options.eliminate_dead_code) eliminate_dead_code(block);
    if (options.eliminate_dead_stores) {
        eliminate_dead_stores(block);
        if (options.eliminate_dead_code) eliminate_dead_code(block);
    }
}

}  // namespace jitterbug::jit
