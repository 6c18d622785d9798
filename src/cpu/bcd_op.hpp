// The decimal-adjust instructions, passed to the bcd_adjust helper.
#pragma once

#include <cstdint>

namespace jitterbug::cpu {

enum class BcdOp : std::uint8_t { Daa, Das, Aaa, Aas, Aam, Aad };

}  // namespace jitterbug::cpu
