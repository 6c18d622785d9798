// What the task-state segment does (SDM Vol. 3A, chapter 7): the inner
// stacks of a privilege change, and hardware task switches.
#pragma once

#include <cstdint>

#include "cpu/cpu_context.hpp"
#include "cpu/segmentation.hpp"

namespace jitterbug::cpu {

// How a task switch was asked for; they differ in the busy bits, NT and the
// back link (SDM Vol. 3A, Table 7-2). Call covers CALL and interrupts or
// exceptions through a task gate.
enum class TaskSwitch : std::uint8_t { Jump, Call, Iret };

// SS:ESP for privilege level `dpl` (0-2) from the current TSS, 16- or
// 32-bit. Raises #TS(TR selector | ext) when they lie beyond its limit.
bool tss_stack(CpuContext& ctx, unsigned dpl, std::uint32_t ext, std::uint16_t& ss,
               std::uint32_t& esp);

// The TSS a JMP, CALL or interrupt switches to through `selector`, a TSS
// descriptor or a task gate `d` (already checked for privilege): an
// available TSS in the GDT, present. Raises #GP or #NP (error | ext) and
// returns false otherwise; gives the TSS's selector and descriptor.
bool task_target(CpuContext& ctx, std::uint16_t selector, const Descriptor& d, std::uint32_t ext,
                 std::uint16_t& tss_selector, Descriptor& tss);

// Switches to the task of TSS `selector` (descriptor `tss`, checked by
// task_target, or the busy back-link task of an IRET): saves the current
// task with EIP `return_eip`, loads the new one. Returns false when it
// raised a fault before the commit point, with nothing changed; a fault
// after it (a bad segment of the new task) is raised with the new task
// loaded, and the switch returns true (SDM Vol. 3A, 7.3).
bool switch_task(CpuContext& ctx, std::uint16_t selector, Descriptor tss, TaskSwitch how,
                 std::uint32_t return_eip, std::uint32_t ext);

// For a switch made by an instruction: a fault raised after the commit
// point is delivered before the new task's first instruction instead of
// aborting the switching one (CpuContext::pending_event).
void defer_fault(CpuContext& ctx);

}  // namespace jitterbug::cpu
