// Dead-store elimination, backwards: a write of a full register or of status
// flags is dropped when a later write covers it and nothing between can
// read it — no read of that state, no helper (helpers read all state), and
// no instruction that may fault (a fault must find every earlier write).
#include <array>

#include "cpu/cpu_state.hpp"
#include "jit/passes/compact.hpp"
#include "jit/passes/passes.hpp"

namespace jitterbug::jit {

void eliminate_dead_stores(ir::Block& block) {
    auto& insts = block.insts();
    const std::size_t n = insts.size();
    std::vector<bool> keep(n, true);
    std::array<bool, 8> overwritten{};    // a later SetGpr32 covers the register
    std::uint32_t flags_overwritten = 0;  // status bits a later write covers
    for (std::size_t k = n; k-- > 0;) {
        const ir::Inst& inst = insts[k];
        const auto ref = static_cast<unsigned>(inst.args[0].imm());
        if (ir::may_fault(inst.op)) {  // includes every helper call
            overwritten.fill(false);
            flags_overwritten = 0;
            continue;
        }
        switch (inst.op) {
            case ir::Opcode::SetGpr32:
                if (overwritten[ref]) keep[k] = false;
                overwritten[ref] = true;
                break;
            case ir::Opcode::SetGpr16:
            case ir::Opcode::GetGpr16:
            case ir::Opcode::GetGpr32:
                overwritten[ref] = false;
                break;
            case ir::Opcode::SetGpr8:
            case ir::Opcode::GetGpr8:
                overwritten[ref & 3] = false;
                break;
            case ir::Opcode::SetArithFlags: {
                const auto mask = static_cast<std::uint32_t>(inst.args[1].imm());
                if ((mask & ~flags_overwritten) == 0) keep[k] = false;
                flags_overwritten |= mask;
                break;
            }
            case ir::Opcode::SetEflags:
                flags_overwritten = cpu::eflags::kArithmetic;
                break;
            case ir::Opcode::GetArithFlags:
            case ir::Opcode::GetEflags:
                flags_overwritten = 0;
                break;
            default:
                break;
        }
    }
    compact(block, keep);
}

}  // namespace jitterbug::jit
