// SemanticsTable: mnemonic -> semantic function. Built once; immutable.
#pragma once

#include <Zydis/Mnemonic.h>

#include <array>

#include "cpu/semantics/emitter.hpp"

namespace jitterbug::cpu::semantics {

class SemanticsTable {
  public:
    void add(ZydisMnemonic m, SemanticFn fn) { fns_[m] = fn; }
    SemanticFn find(Mnemonic m) const { return m < fns_.size() ? fns_[m] : nullptr; }

  private:
    std::array<SemanticFn, ZYDIS_MNEMONIC_MAX_VALUE + 1> fns_{};
};

// The table of every implemented instruction.
const SemanticsTable& semantics_table();

}  // namespace jitterbug::cpu::semantics
