// FaultSites: what makes translated code's direct guest memory accesses
// (mode::kFastmem, mmu::GuestWindow) safe. An access that faults — MMIO,
// ROM, a hole, a write to a page holding translated code, a wrap past 4 GiB
// into the guard — resumes at that access's slow path: the SIGSEGV/SIGBUS
// handler looks the faulting host instruction up among the access sites of
// the registered code buffers and moves the thread there. The faulting
// instruction did nothing, so the slow path starts from the state the fast
// one had.
//
// A process has one handler per signal, so this is process-wide state: the
// handler is installed by each code buffer registered (unless it is in
// place already) and passes every fault that is not at a known access site
// on to the handler it replaced, or to the default action. A program
// embedding jitterbug that installs its own SIGSEGV handler after creating
// a machine must pass faults it does not recognise on to the previous
// handler likewise (or create its machines after installing it).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace jitterbug::jit::x64 {

class FaultSites {
  public:
    // Registers the code buffer [begin, begin + size). !registered() when the
    // process has too many already: its blocks must not access directly.
    FaultSites(const std::uint8_t* begin, std::size_t size);
    ~FaultSites();
    FaultSites(const FaultSites&) = delete;
    FaultSites& operator=(const FaultSites&) = delete;

    bool registered() const { return slot_ >= 0; }
    // Sites are added in increasing order of address (as code is emitted).
    void add(const std::uint8_t* access, const std::uint8_t* resume);
    // Forgets the sites at or past `end` (the code there was discarded).
    void truncate(const std::uint8_t* end);
    // Where a fault at host instruction `pc` resumes, or nullptr
    // (async-signal-safe: no allocation, no locks).
    const std::uint8_t* resume_of(std::uintptr_t pc) const;
    // Faults sent to a slow path so far (one per access that took it).
    std::uint64_t faults() const { return faults_.load(std::memory_order_relaxed); }
    void count_fault() const { faults_.fetch_add(1, std::memory_order_relaxed); }

  private:
    struct Site {
        std::uint32_t access;  // offsets from the buffer's start
        std::uint32_t resume;
    };
    const std::uint8_t* begin_;
    std::vector<Site> sites_;
    int slot_ = -1;
    mutable std::atomic<std::uint64_t> faults_{0};  // (lock-free: the handler counts)
};

}  // namespace jitterbug::jit::x64
