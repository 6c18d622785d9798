// Comparing two CPU states field by field (lockstep runs, tests).
#pragma once

#include <string>

#include "cpu/cpu_state.hpp"

namespace jitterbug::cpu {

// The architectural fields in which `a` and `b` differ, one per line as
// "NAME a b" ("" when they agree). EFLAGS is compared as eflags() reads it.
std::string describe_differences(const CpuState& a, const CpuState& b, const char* a_name,
                                 const char* b_name);

}  // namespace jitterbug::cpu
