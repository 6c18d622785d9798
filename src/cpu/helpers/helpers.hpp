// Shared declarations for the helper implementations.
#pragma once

#include <cstdint>

#include "cpu/cpu.hpp"
#include "cpu/runtime.hpp"
#include "cpu/segmentation.hpp"

namespace jitterbug::cpu {

#define HELPER(name, props) \
    std::uint64_t helper_##name(CpuContext&, std::uint32_t, std::uint32_t, std::uint32_t);
#include "cpu/helpers.inc"
#undef HELPER

// True when the current privilege may access ports [port, port + size):
// CPL <= IOPL outside virtual-8086 mode, else the TSS I/O permission bitmap
// (SDM Vol. 1, 18.5). Raises #GP(0) and returns false otherwise. An
// allowed access notes the I/O breakpoints it meets (CR4.DE, SDM Vol. 3A,
// 17.2.4).
bool check_io_permission(CpuContext& ctx, std::uint16_t port, unsigned size);

// Hands the paging settings of `st` (CR0, CR3, CR4, EFER) to the MMU, with
// `cr3_load` for a load of CR3 (mmu::Mmu::configure); false when PAE's
// PDPTEs have reserved bits set (nothing changed then).
bool configure_paging(CpuContext& ctx, const CpuState& st, bool cr3_load);

// Stack helpers for far transfers: push/pop through SS with the current
// stack width; they raise on a fault and return false.
bool stack_push(CpuContext& ctx, std::uint32_t value, unsigned bytes);
bool stack_read(CpuContext& ctx, std::uint32_t depth, unsigned bytes, std::uint32_t& value);
void stack_release(CpuContext& ctx, std::uint32_t bytes);

}  // namespace jitterbug::cpu
