// Small helpers shared by the semantic families.
#pragma once

#include <Zydis/Mnemonic.h>

#include "cpu/semantics/emitter.hpp"
#include "cpu/semantics/table.hpp"

namespace jitterbug::cpu::semantics {

using ir::Opcode;
using ir::Value;

// The x86 condition code (0-15) of a Jcc/SETcc/CMOVcc mnemonic, or -1.
int condition_of(ZydisMnemonic m);

// The count register of string and loop instructions: CX or ECX by address size.
inline Value count_register(Emitter& e) {
    return e.address_size() == 16 ? e.ir.zero_extend_32(e.ir.get_gpr(16, 1)) : e.ir.get_gpr(32, 1);
}
inline void set_count_register(Emitter& e, Value v) {
    if (e.address_size() == 16) {
        e.ir.set_gpr(16, 1, e.ir.truncate(v, 16));
    } else {
        e.ir.set_gpr(32, 1, v);
    }
}

}  // namespace jitterbug::cpu::semantics
