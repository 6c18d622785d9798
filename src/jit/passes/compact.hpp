// Removing instructions from a block: the survivors are renumbered and every
// reference to them rewritten.
#pragma once

#include <vector>

#include "jit/ir/block.hpp"

namespace jitterbug::jit {

// Keeps instruction i when keep[i]; references to removed instructions must
// not remain. Recounts uses.
void compact(ir::Block& block, const std::vector<bool>& keep);

}  // namespace jitterbug::jit
