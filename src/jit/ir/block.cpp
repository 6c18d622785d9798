#include "jit/ir/block.hpp"

namespace jitterbug::ir {

Value Block::append(Opcode op, std::initializer_list<Value> args) {
    Inst inst;
    inst.op = op;
    unsigned i = 0;
    for (const Value& v : args) {
        inst.args[i++] = v;
        if (!v.is_immediate() && !v.empty() && v.inst() < insts_.size())
            ++insts_[v.inst()].use_count;
    }
    insts_.push_back(inst);
    const Type t = result_type(op);
    if (t == Type::Void) return {};
    return Value::result_of(t, static_cast<InstRef>(insts_.size() - 1));
}

void Block::recount_uses() {
    for (Inst& inst : insts_)
        inst.use_count = 0;
    for (Inst& inst : insts_) {
        for (unsigned i = 0; i < inst.num_args(); ++i) {
            const Value& v = inst.args[i];
            if (!v.is_immediate() && !v.empty() && v.inst() < insts_.size()) {
                ++insts_[v.inst()].use_count;
            }
        }
    }
    if (terminal_.kind == Terminal::Kind::Branch && !terminal_.cond.is_immediate() &&
        terminal_.cond.inst() < insts_.size()) {
        ++insts_[terminal_.cond.inst()].use_count;
    }
}

}  // namespace jitterbug::ir
