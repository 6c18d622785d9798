// The x87 unit: one call runs one x87 instruction on CpuState::x87 (SDM
// Vol. 1, chapter 8): #NM under CR0.EM/TS, a pending unmasked exception
// first (#MF with CR0.NE), the stack and its faults (IE with SF), the
// last-instruction pointers, the operation (Float80), the flags it raised
// and whether its result is stored (unmasked IE, DE and ZE store nothing).
#pragma once

#include <cstdint>

#include "cpu/cpu_context.hpp"
#include "cpu/x87/instruction.hpp"

namespace jitterbug::cpu::x87 {

// Status word bits (SDM Vol. 1, 8.1.3).
namespace sw {
constexpr std::uint16_t SF = 1u << 6;  // stack fault
constexpr std::uint16_t ES = 1u << 7;  // exception summary
constexpr std::uint16_t C0 = 1u << 8;
constexpr std::uint16_t C1 = 1u << 9;
constexpr std::uint16_t C2 = 1u << 10;
constexpr std::uint16_t C3 = 1u << 14;
constexpr std::uint16_t B = 1u << 15;
constexpr std::uint16_t kConditions = C0 | C1 | C2 | C3;
}  // namespace sw

// Runs `x`, the instruction at `eip`; a memory operand is at `offset` in
// x.segment.
void execute(CpuContext& ctx, const X87Instruction& x, std::uint32_t offset, std::uint32_t eip);

// WAIT/FWAIT: #NM with CR0.MP and CR0.TS; then a pending unmasked
// exception (#MF with CR0.NE).
void wait(CpuContext& ctx);

// FNINIT's state (also what the CPU's INIT leaves).
void initialize(X87State& s);

}  // namespace jitterbug::cpu::x87
