// The machine's clock: nanoseconds since the machine was made, in one of
// two modes. Real time follows the host's steady clock. Deterministic time
// is the guest's instruction count times kNsPerInstruction, plus the time
// skipped while the CPU waited in HLT for the next timer event: the same
// run then gets its timer interrupts at the same instructions, every time,
// on either backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace jitterbug::machine {

class Clock {
  public:
    // Deterministic time runs at 1000 guest MIPS.
    static constexpr std::uint64_t kNsPerInstruction = 1;
    static constexpr std::uint64_t kPitHz = 1'193'182;

    Clock(bool deterministic, std::function<std::uint64_t()> instructions)
        : deterministic_(deterministic),
          instructions_(std::move(instructions)),
          start_(std::chrono::steady_clock::now()) {}

    bool deterministic() const { return deterministic_; }

    std::uint64_t now() const {
        if (deterministic_) return instructions_() * kNsPerInstruction + skipped_;
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::steady_clock::now() - start_)
                                              .count());
    }
    // The host time at which real time reaches `ns`.
    std::chrono::steady_clock::time_point host_time(std::uint64_t ns) const {
        return start_ + std::chrono::nanoseconds(ns);
    }
    // Deterministic: the instructions to run until `ns` (at least one).
    std::uint64_t instructions_until(std::uint64_t ns) const {
        const std::uint64_t t = now();
        if (ns <= t) return 1;
        return (ns - t + kNsPerInstruction - 1) / kNsPerInstruction;
    }
    // Deterministic: the halted CPU lets the time pass to `ns`.
    void skip_to(std::uint64_t ns) {
        const std::uint64_t t = now();
        if (ns > t) skipped_ += ns - t;
    }

    // The 8254's ticks: tick k spans [ns_of_tick(k), ns_of_tick(k + 1)).
    static std::uint64_t pit_tick(std::uint64_t ns) {
        return static_cast<std::uint64_t>(static_cast<unsigned __int128>(ns) * kPitHz /
                                          1'000'000'000u);
    }
    static std::uint64_t ns_of_tick(std::uint64_t tick) {
        return static_cast<std::uint64_t>(
            (static_cast<unsigned __int128>(tick) * 1'000'000'000u + kPitHz - 1) / kPitHz);
    }

  private:
    bool deterministic_;
    std::function<std::uint64_t()> instructions_;
    std::chrono::steady_clock::time_point start_;
    std::uint64_t skipped_ = 0;
};

}  // namespace jitterbug::machine
