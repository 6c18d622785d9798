// The x87's control and state instructions: FLDCW, FSTCW, FSTSW (memory
// and AX), FLDENV, FSTENV, FSAVE, FRSTOR in their 16- and 32-bit, real-
// and protected-mode layouts (SDM Vol. 1, 8.1.10 and Figures 8-9 to 8-12),
// and FXSAVE/FXRSTOR's 512 bytes (Vol. 2A, FXSAVE, Table 3-53).
#pragma once

#include "cpu/cpu_context.hpp"
#include "cpu/x87/instruction.hpp"
#include "cpu/x87/memory.hpp"

namespace jitterbug::cpu::x87 {

void control_instruction(CpuContext& ctx, const X87Instruction& x, const MemoryOperand& m);

// The full tag word (two bits a register: valid, zero, special, empty).
std::uint16_t tag_word(const X87State& s);

}  // namespace jitterbug::cpu::x87
