#include "jit/backend/x64/fault_handler.hpp"

#include <signal.h>
#include <ucontext.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>

namespace jitterbug::jit::x64 {
namespace {

// The registered code buffers. A handler on another thread reads a slot's
// bounds only, so a buffer going away under it is harmless: its faults are
// never in a buffer it does not execute.
struct Slot {
    std::atomic<std::uintptr_t> begin{0};
    std::atomic<std::uintptr_t> end{0};
    std::atomic<const FaultSites*> sites{nullptr};
};
constexpr std::size_t kSlots = 256;

struct Registry {
    std::array<Slot, kSlots> slots;
    std::mutex mutex;  // registration only, never in the handler
    struct sigaction previous_segv {};
    struct sigaction previous_bus {};
};

Registry& registry() {
    static Registry r;
    return r;
}

void forward(int sig, siginfo_t* info, void* context) {
    const struct sigaction& prev =
        sig == SIGSEGV ? registry().previous_segv : registry().previous_bus;
    if (prev.sa_flags & SA_SIGINFO) {
        prev.sa_sigaction(sig, info, context);
        return;
    }
    if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
        prev.sa_handler(sig);
        return;
    }
    // The default action, when the faulting instruction runs again.
    signal(sig, SIG_DFL);
}

void on_fault(int sig, siginfo_t* info, void* context) {
    auto* uc = static_cast<ucontext_t*>(context);
    const auto pc = static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
    for (const Slot& s : registry().slots) {
        if (pc < s.begin.load(std::memory_order_acquire) ||
            pc >= s.end.load(std::memory_order_acquire)) {
            continue;
        }
        const FaultSites* sites = s.sites.load(std::memory_order_acquire);
        if (const std::uint8_t* resume = sites ? sites->resume_of(pc) : nullptr) {
            sites->count_fault();
            uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(resume);
            return;
        }
    }
    forward(sig, info, context);
}

// Installs the handler for `sig` unless it is there: a program (or a test
// framework) may have put its own in its place since, and restores it later.
void install(int sig, struct sigaction& previous) {
    struct sigaction current {};
    if (sigaction(sig, nullptr, &current) != 0) return;
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_fault) return;
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    previous = current;
    sigaction(sig, &sa, nullptr);
}

}  // namespace

FaultSites::FaultSites(const std::uint8_t* begin, std::size_t size) : begin_(begin) {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    install(SIGSEGV, r.previous_segv);
    install(SIGBUS, r.previous_bus);
    for (std::size_t k = 0; k < kSlots; ++k) {
        Slot& s = r.slots[k];
        if (s.sites.load(std::memory_order_relaxed)) continue;
        s.sites.store(this, std::memory_order_release);
        s.begin.store(reinterpret_cast<std::uintptr_t>(begin), std::memory_order_release);
        s.end.store(reinterpret_cast<std::uintptr_t>(begin) + size, std::memory_order_release);
        slot_ = static_cast<int>(k);
        return;
    }
}

FaultSites::~FaultSites() {
    if (slot_ < 0) return;
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    Slot& s = r.slots[static_cast<std::size_t>(slot_)];
    s.begin.store(0, std::memory_order_release);
    s.end.store(0, std::memory_order_release);
    s.sites.store(nullptr, std::memory_order_release);
}

void FaultSites::add(const std::uint8_t* access, const std::uint8_t* resume) {
    sites_.push_back(Site{static_cast<std::uint32_t>(access - begin_),
                          static_cast<std::uint32_t>(resume - begin_)});
}

void FaultSites::truncate(const std::uint8_t* end) {
    const auto at = static_cast<std::uint32_t>(end - begin_);
    while (!sites_.empty() && sites_.back().access >= at)
        sites_.pop_back();
}

const std::uint8_t* FaultSites::resume_of(std::uintptr_t pc) const {
    const auto at = static_cast<std::uint32_t>(pc - reinterpret_cast<std::uintptr_t>(begin_));
    const auto it = std::lower_bound(sites_.begin(), sites_.end(), at,
                                     [](const Site& s, std::uint32_t a) { return s.access < a; });
    if (it == sites_.end() || it->access != at) return nullptr;
    return begin_ + it->resume;
}

}  // namespace jitterbug::jit::x64
