// The x86-64 backend: IR blocks become host code in one executable buffer.
// The buffer starts with the trampoline that enters and leaves translated
// code; when it fills up, everything after the trampoline is discarded.
#include <fmt/format.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <cstring>
#include <stdexcept>

#include "cpu/cpu_context.hpp"
#include "jit/backend/backend.hpp"
#include "jit/backend/x64/block_compiler.hpp"
#include "jit/backend/x64/fault_handler.hpp"
#include "jit/backend/x64/host_disassembler.hpp"
#include "jit/backend/x64/trampoline.hpp"
#include "util/log.hpp"

namespace jitterbug::jit {
namespace {

using namespace Xbyak::util;

constexpr std::size_t kCodeBufferSize = std::size_t{64} << 20;
// A block's code is far smaller than this; compile() asks for a flush below it.
constexpr std::size_t kMaxBlockCode = std::size_t{1} << 20;

class ExecutableMemory {
  public:
    explicit ExecutableMemory(std::size_t size) : size_(size) {
        void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("cannot map memory for the JIT code buffer");
        data_ = static_cast<std::uint8_t*>(p);
    }
    ~ExecutableMemory() { munmap(data_, size_); }
    ExecutableMemory(const ExecutableMemory&) = delete;
    ExecutableMemory& operator=(const ExecutableMemory&) = delete;

    std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }

  private:
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

class X64Backend final : public Backend {
  public:
    X64Backend()
        : memory_(kCodeBufferSize),
          code_(memory_.size(), memory_.data()),
          fault_sites_(memory_.data(), memory_.size()) {
        // (The compiler's CPU-feature data, read once at start-up: CPUID is
        // slow under a hypervisor, too slow for every instance.)
        shared_.bmi2 = __builtin_cpu_supports("bmi2") != 0;
        shared_.direct_memory = fault_sites_.registered() && user_gs_base();
        place_trampoline();
        // JITTERBUG_PERF_MAP=1: name every block for `perf report` (the
        // /tmp/perf-PID.map convention of Linux perf).
        if (const char* e = std::getenv("JITTERBUG_PERF_MAP"); e && std::string_view(e) == "1") {
            perf_map_ = std::fopen(fmt::format("/tmp/perf-{}.map", getpid()).c_str(), "a");
        }
    }
    ~X64Backend() override {
        if (perf_map_) std::fclose(perf_map_);
    }
    X64Backend(const X64Backend&) = delete;
    X64Backend& operator=(const X64Backend&) = delete;

    std::string_view name() const override { return "jit"; }
    void set_options(const BackendOptions& options) override { options_ = options; }
    bool supports_direct_memory() const override { return shared_.direct_memory; }
    std::uint64_t direct_access_faults() const override { return fault_sites_.faults(); }

    bool compile(const ir::Block& block, TranslationBlock& tb) override {
        if (block.insts().size() > x64::kMaxIrInsts) {
            throw std::logic_error("IR block larger than the JIT frame");
        }
        if (code_.getSize() + kMaxBlockCode > memory_.size()) return false;
        code_.align(32);  // (NOP padding: never executed, blocks are entered by jumps)
        const std::size_t start = code_.getSize();
        try {
            x64::BlockCompiler compiler(code_, block, tb, shared_, options_);
            compiler.compile();
            for (const auto& site : compiler.fault_sites())
                fault_sites_.add(site.access, site.resume);
            if (const auto record = compiler.loop_record()) loop_copy(block, tb, *record, compiler);
        } catch (const Xbyak::Error& e) {
            code_.setSize(start);
            if (e == Xbyak::ERR_CODE_IS_TOO_BIG) return false;
            throw std::logic_error(std::string("xbyak: ") + e.what());
        }
        tb.host_code = memory_.data() + start;
        if (perf_map_) {
            fmt::print(perf_map_, "{:x} {:x} guest_{:x}_{:x}\n",
                       reinterpret_cast<std::uintptr_t>(tb.host_code), code_.getSize() - start,
                       block.location().cs_base, block.location().eip);
            std::fflush(perf_map_);
        }
        if (log::jit().should_log(spdlog::level::debug)) {
            log::jit().debug(
                "host code of block {:#x} ({} bytes):\n{}", block.location().eip,
                code_.getSize() - start,
                x64::disassemble_host(memory_.data() + start, code_.getSize() - start));
        }
        return true;
    }

    BlockExit execute(cpu::CpuContext& ctx, const TranslationBlock& tb) override {
        return BlockExit{static_cast<ExitReason>(enter_(&ctx, tb.host_code) & 0xFF)};
    }

    std::uintptr_t link(std::uintptr_t slot, const TranslationBlock& target) override {
        const std::uintptr_t original = jump_target(slot);
        set_jump_target(slot, reinterpret_cast<std::uintptr_t>(target.host_code));
        return original;
    }

    void unlink(std::uintptr_t slot, std::uintptr_t original) override {
        set_jump_target(slot, original);
    }

    void flush() override {
        code_.reset();
        code_.setSize(trampoline_size_);
        fault_sites_.truncate(memory_.data() + trampoline_size_);
    }

  private:
    // Whether translated code may set GS's base itself (RDGSBASE/WRGSBASE:
    // the CPU has them and the kernel lets user mode use them). Not under
    // Valgrind, which reports the feature but cannot run the instructions.
    static bool user_gs_base() {
#ifndef HWCAP2_FSGSBASE
        constexpr unsigned long HWCAP2_FSGSBASE = 1ul << 1;
#endif
        if ((getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) == 0) return false;
        const char* preload = std::getenv("LD_PRELOAD");
        return !(preload && std::string_view(preload).find("vgpreload") != std::string_view::npos);
    }

    // Link slots are JMP/Jcc rel32 instructions inside the code buffer.
    static std::uintptr_t jump_target(std::uintptr_t slot) {
        const std::size_t at =
            x64::link_displacement_offset(reinterpret_cast<const std::uint8_t*>(slot));
        std::int32_t rel;
        std::memcpy(&rel, reinterpret_cast<const void*>(slot + at), 4);
        return slot + at + 4 + static_cast<std::intptr_t>(rel);
    }
    static void set_jump_target(std::uintptr_t slot, std::uintptr_t target) {
        const std::size_t at =
            x64::link_displacement_offset(reinterpret_cast<const std::uint8_t*>(slot));
        const auto rel =
            static_cast<std::int32_t>(static_cast<std::intptr_t>(target - slot - at - 4));
        std::memcpy(reinterpret_cast<void*>(slot + at), &rel, 4);
    }

    // A self-loop's steady-state copy after its first one, its back edge
    // then pointed there (without room for it, the back edge stays as it
    // is: it stores the record and links as usual).
    void loop_copy(const ir::Block& block, const TranslationBlock& tb,
                   const x64::LoopRecord& record, const x64::BlockCompiler& first) {
        if (code_.getSize() + kMaxBlockCode > memory_.size() || !first.loop_slot()) return;
        code_.align(32);
        const std::uint8_t* start = code_.getCurr();
        x64::BlockCompiler steady(code_, block, tb, shared_, options_, &record);
        steady.compile();
        for (const auto& site : steady.fault_sites())
            fault_sites_.add(site.access, site.resume);
        set_jump_target(reinterpret_cast<std::uintptr_t>(first.loop_slot()),
                        reinterpret_cast<std::uintptr_t>(start));
    }

    // The process's trampoline image at the start of the buffer.
    void place_trampoline() {
        const x64::TrampolineImage& image = x64::trampoline_image(shared_.direct_memory);
        std::memcpy(memory_.data(), image.bytes.data(), image.bytes.size());
        code_.setSize(image.bytes.size());
        const std::uint8_t* base = memory_.data();
        enter_ =
            reinterpret_cast<std::uint64_t (*)(cpu::CpuContext*, const void*)>(base + image.enter);
        shared_.epilogue = base + image.epilogue;
        shared_.runtime_call = base + image.runtime_call;
        shared_.materialize_flags = base + image.materialize_flags;
        trampoline_size_ = image.bytes.size();
    }

    ExecutableMemory memory_;
    Xbyak::CodeGenerator code_;
    x64::FaultSites fault_sites_;
    std::uint64_t (*enter_)(cpu::CpuContext*, const void*) = nullptr;
    x64::SharedCode shared_;
    std::size_t trampoline_size_ = 0;
    std::FILE* perf_map_ = nullptr;
    BackendOptions options_;
};

}  // namespace

std::unique_ptr<Backend> make_x64_backend() { return std::make_unique<X64Backend>(); }

}  // namespace jitterbug::jit
