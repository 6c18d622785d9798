// Optimisation passes over an IR block. Each can be switched off on its
// own, which turns a miscompilation hunt into a bisection.
#pragma once

#include "jit/ir/block.hpp"

namespace jitterbug::jit {

struct PassOptions {
    // Reads of guest registers and status flags the block has just written
    // or read use the value directly; pure operations on constants are
    // computed now.
    bool forward_and_fold = true;
    // Writes of registers and flags that a later write overwrites before
    // anything can read them — with no instruction that may fault between,
    // since a fault must see every earlier write.
    bool eliminate_dead_stores = true;
    // Pure operations whose results nobody uses are dropped.
    bool eliminate_dead_code = true;
};

void optimize(ir::Block& block, const PassOptions& options);

// The passes one by one (optimize() runs them in a useful order).
void forward_and_fold(ir::Block& block);
void eliminate_dead_stores(ir::Block& block);
void eliminate_dead_code(ir::Block& block);

}  // namespace jitterbug::jit
