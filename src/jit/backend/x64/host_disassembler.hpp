// A listing of generated host code (Capstone), for the JIT's debug log:
// JITTERBUG_LOG=jit=debug prints every block's IR and its host code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace jitterbug::jit::x64 {

std::string disassemble_host(const std::uint8_t* code, std::size_t size);

}  // namespace jitterbug::jit::x64
