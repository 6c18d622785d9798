// The trampoline: the code at the start of every instance's code buffer that
// enters translated code (enter), leaves it (epilogue), calls the runtime
// from it (runtime_call) and computes deferred flags (materialize_flags).
// It is the same in every instance but for where it lies, and writing it
// with xbyak costs more than the rest of creating an instance; so it is
// written once per process, position-independent, into an image that each
// instance copies to the start of its buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace jitterbug::jit::x64 {

struct TrampolineImage {
    std::vector<std::uint8_t> bytes;
    // Offsets into `bytes` of the entry points (see SharedCode).
    std::size_t enter = 0;
    std::size_t epilogue = 0;
    std::size_t runtime_call = 0;
    std::size_t materialize_flags = 0;
};

// The image, written on first use (thread-safe) and immutable after.
// `direct_memory`: enter and epilogue also switch GS's base between the
// host's and the CPU's guest window (see SharedCode::direct_memory).
const TrampolineImage& trampoline_image(bool direct_memory);

}  // namespace jitterbug::jit::x64
