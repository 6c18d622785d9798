// Translator: guest code -> IR block. Decodes instructions from the block's
// start until one ends the block, the block reaches its size limit, or the
// next instruction would start on another page; each instruction is
// described by its semantic function.
#pragma once

#include <array>
#include <cstdint>

#include "cpu/decoder.hpp"
#include "jit/ir/block.hpp"
#include "jit/location.hpp"
#include "mmu/mmu.hpp"

namespace jitterbug::cpu {

struct TranslatedCode {
    std::uint64_t phys_start = 0;
    std::array<std::uint32_t, 2> pages{};  // physical page numbers of the guest code
    std::uint8_t num_pages = 0;
    std::uint32_t size = 0;  // guest bytes
    // Where they are: [first_lo, first_hi) on the first page (the span of
    // all pieces, when the block followed jumps), second_len bytes at the
    // start of the second (an instruction crossing into it ends the block).
    std::uint64_t first_lo = 0;
    std::uint64_t first_hi = 0;
    std::uint32_t second_len = 0;
};

struct TranslatorLimits {
    std::uint32_t max_instructions = 64;
    // Stop before an instruction once the block has this many IR instructions
    // (the backends' hard limit is well above it).
    std::size_t max_ir_instructions = 2048;
    // A conditional jump does not end the block: the block goes on with its
    // fall-through and leaves through a side exit (ExitIf) when it is taken.
    bool continue_past_branches = true;
    // A direct JMP or CALL does not end the block when its target is on the
    // same page and not yet in the block: translation goes on there.
    bool follow_jumps = true;
};

class Translator {
  public:
    explicit Translator(mmu::Mmu& mmu) : mmu_(mmu) {}

    // Translates the block at `loc`, whose instructions must lie within
    // `cs_limit`. The first instruction's code must be fetchable (the caller
    // raises its fetch fault); `code` receives where the guest code lies.
    ir::Block translate(const LocationDescriptor& loc, std::uint32_t cs_limit,
                        TranslatorLimits limits, TranslatedCode& code);

  private:
    mmu::Mmu& mmu_;
    Decoder decoder_;
};

}  // namespace jitterbug::cpu
