// The x87's memory operands: up to 512 bytes at a segment and offset, read
// whole before anything changes, and written only after every byte of the
// destination is known to be writable (segment limits, then paging), so
// that a fault leaves no partial store and no state changed.
#pragma once

#include <cstdint>

#include "cpu/cpu_context.hpp"

namespace jitterbug::cpu::x87 {

struct MemoryOperand {
    SegReg segment = SegReg::Ds;
    std::uint32_t offset = 0;
};

// Each raises the fault (#GP/#SS for the segment, #PF) and returns false
// when the access cannot be made.
bool read_memory(CpuContext& ctx, const MemoryOperand& m, unsigned size, std::uint8_t* out);
bool check_writable(CpuContext& ctx, const MemoryOperand& m, unsigned size);
// After check_writable: false when the store hit the running block's own
// code (the instruction is then run again, CpuContext::retry_current_instruction).
bool write_memory(CpuContext& ctx, const MemoryOperand& m, unsigned size, const std::uint8_t* in);

std::uint32_t linear_address(const CpuContext& ctx, const MemoryOperand& m);

}  // namespace jitterbug::cpu::x87
