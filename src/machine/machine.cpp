// Machine: the PC — RAM, the firmware ROM, the port bus with its devices,
// and the CPU — behind the public API.
#include "jitterbug/machine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <vector>

#include "cpu/cpu.hpp"
#include "cpu/state_diff.hpp"
#include "devices/cmos.hpp"
#include "devices/debug_exit.hpp"
#include "devices/debug_ports.hpp"
#include "devices/pic8259.hpp"
#include "devices/pit8254.hpp"
#include "devices/port_io_bus.hpp"
#include "devices/uart16550.hpp"
#include "devices/x87_error.hpp"
#include "machine/clock.hpp"
#include "machine/firmware.hpp"
#include "machine/linux_boot.hpp"
#include "machine/multiboot.hpp"
#include "mmu/host_memory.hpp"
#include "mmu/physical_memory.hpp"
#include "util/log.hpp"

namespace jitterbug {

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kMinMemory = kMiB;
constexpr std::uint64_t kMaxMemory = std::uint64_t{3} << 30;
constexpr std::uint64_t kLowMemoryEnd = 0xA0000;
constexpr std::uint64_t kBiosBase = 0xF0000;
constexpr std::uint64_t kBiosAlias = 0xFFFF0000;
constexpr std::uint64_t kBiosSize = 0x10000;
constexpr std::uint16_t kCom1 = 0x3F8;

// Collects serial bytes and hands them on a line at a time.
class SerialSink {
  public:
    explicit SerialSink(std::function<void(std::span<const std::uint8_t>)> out)
        : out_(std::move(out)) {}

    void put(std::uint8_t byte) {
        buffer_.push_back(byte);
        if (byte == '\n' || buffer_.size() >= 4096) flush();
    }
    void flush() {
        if (buffer_.empty()) return;
        if (out_) {
            out_(buffer_);
        } else {
            std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
            std::fflush(stdout);
        }
        buffer_.clear();
    }

  private:
    std::function<void(std::span<const std::uint8_t>)> out_;
    std::vector<std::uint8_t> buffer_;
};

}  // namespace

bool jit_available() {
#ifdef JITTERBUG_HAVE_JIT
    return true;
#else
    return false;
#endif
}

Backend default_backend() { return jit_available() ? Backend::Jit : Backend::Interpreter; }

std::string_view to_string(Backend backend) { return backend == Backend::Jit ? "jit" : "interp"; }

std::string_view to_string(StopReason reason) {
    switch (reason) {
        case StopReason::Halted:
            return "halted";
        case StopReason::GuestExit:
            return "guest exit";
        case StopReason::Shutdown:
            return "shutdown";
        case StopReason::StopRequested:
            return "stop requested";
        case StopReason::Error:
            return "error";
        case StopReason::Diverged:
            return "diverged";
    }
    return "?";
}

namespace {
// Where the RTC starts: the host's time, or in deterministic mode a fixed
// moment (2025-01-01 00:00:00 UTC), so that runs agree.
std::int64_t rtc_start(bool deterministic) {
    if (deterministic) return 1'735'689'600;
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
}  // namespace

struct Machine::Impl {
    MachineConfig config;
    mmu::HostMemory ram;
    mmu::PhysicalMemory memory;
    devices::PortIoBus io;
    // (Before the devices, whose callbacks look at them while they are made.)
    std::unique_ptr<cpu::Cpu> cpu;
    std::unique_ptr<machine::Clock> clock;
    SerialSink serial;
    devices::Uart16550 com1;
    devices::Cmos cmos;
    devices::DualPic pic;
    devices::Pit8254 pit;
    devices::DebugExit debug_exit;
    devices::X87ErrorLatch x87_error;
    devices::DebugConsole debug_console{[this](std::uint8_t b) { debug_console_byte(b); }};
    devices::PostCodePort post{
        [](std::uint8_t code) { log::devices().debug("POST code {:#04x}", code); }};
    std::string debug_line;  // the debug console's line so far, for the log

    void debug_console_byte(std::uint8_t b) {
        if (config.debug_console_output) {
            config.debug_console_output(std::span<const std::uint8_t>(&b, 1));
            return;
        }
        if (b != '\n') {
            if (debug_line.size() < 4096) debug_line.push_back(static_cast<char>(b));
            return;
        }
        log::devices().info("debug console: {}", debug_line);
        debug_line.clear();
    }

    // The timer's ports: a write may move its next event, so the CPU comes
    // back to the run loop to plan again (`replan`).
    struct TimerPorts final : devices::PortIoHandler {
        Impl& m;
        explicit TimerPorts(Impl& impl) : m(impl) {}
        std::uint32_t io_read(std::uint16_t port, unsigned size) override {
            return m.pit.io_read(port, size);
        }
        void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override {
            m.pit.io_write(port, size, value);
            m.replan = true;
            m.cpu->request_stop();
        }
    } timer_ports{*this};
    bool replan = false;

    std::mutex mutex;
    std::condition_variable wake;
    bool stop_requested = false;  // guarded by mutex
    std::optional<int> guest_exit;
    double wall_seconds = 0;
    // Lockstep: the interpreter machine beside this one, and the physical
    // pages each machine wrote since the last comparison.
    std::unique_ptr<Impl> shadow;
    std::vector<std::uint32_t> written_pages;

    explicit Impl(MachineConfig c)
        : config(std::move(c)),
          serial(config.serial_output),
          com1(
              kCom1, [this](std::uint8_t b) { serial.put(b); },
              [this](bool level) { pic.set_irq(4, level); }),
          cmos([this] { return clock ? clock->now() : 0; },
               [this](bool level) { pic.set_irq(8, level); },
               rtc_start(config.deterministic || config.lockstep)),
          pic([this](bool level) {
              if (cpu) cpu->set_intr(level);
          }),
          pit([this] { return clock ? machine::Clock::pit_tick(clock->now()) : 0; },
              [this](bool level) { pic.set_irq(0, level); }),
          debug_exit([this](int status) {
              guest_exit = status;
              cpu->request_stop();
          }),
          x87_error([this](bool level) { pic.set_irq(13, level); },
                    [this](bool level) { cpu->set_ignne(level); }) {}

    Result<void> build() {
        ram = mmu::HostMemory(config.memory_bytes);
        if (!ram.valid()) {
            return Error{fmt::format("cannot reserve {} MiB of host memory for the guest",
                                     config.memory_bytes >> 20)};
        }
        // The ROM is the embedded image itself: no copy (16 page faults of a
        // fresh mapping were a third of the time to create a machine).
        const std::span<const std::uint8_t> bios = firmware::bios_image();
        static_assert(kBiosSize == 0x10000);
        if (bios.size() != kBiosSize) return Error{"the embedded BIOS image is not 64 KiB"};

        auto low = ram.bytes().first(std::min<std::uint64_t>(config.memory_bytes, kLowMemoryEnd));
        if (auto r = memory.map_ram(PhysicalAddress{0}, low, "low RAM", ram.backing(low)); !r)
            return r;
        if (config.memory_bytes > kMiB) {
            auto high = ram.bytes().subspan(kMiB);
            if (auto r = memory.map_ram(PhysicalAddress{kMiB}, high, "RAM", ram.backing(high)); !r)
                return r;
        }
        if (auto r = memory.map_rom(PhysicalAddress{kBiosBase}, bios, "BIOS"); !r) return r;
        if (auto r = memory.map_rom(PhysicalAddress{kBiosAlias}, bios, "BIOS (reset alias)"); !r) {
            return r;
        }

        cmos.set_memory_size(config.memory_bytes);
        for (auto r :
             {io.map(kCom1, 8, com1, "COM1"), io.map(devices::Cmos::kIndexPort, 2, cmos, "CMOS"),
              io.map(devices::DebugExit::kPort, 1, debug_exit, "debug exit"),
              io.map(devices::X87ErrorLatch::kPort, 1, x87_error, "x87 error latch"),
              io.map(devices::DualPic::kMasterPort, 2, pic, "PIC (master)"),
              io.map(devices::DualPic::kSlavePort, 2, pic, "PIC (slave)"),
              io.map(devices::DualPic::kElcrPort, 2, pic, "ELCR"),
              io.map(devices::Pit8254::kPort, 4, timer_ports, "PIT"),
              io.map(devices::Pit8254::kPortB, 1, timer_ports, "port B"),
              io.map(devices::DebugConsole::kPort, 1, debug_console, "debug console"),
              io.map(devices::PostCodePort::kPort, 1, post, "POST codes")}) {
            if (!r) return r;
        }
        try {
            cpu = std::make_unique<cpu::Cpu>(memory, io,
                                             config.backend == Backend::Jit
                                                 ? cpu::BackendKind::Jit
                                                 : cpu::BackendKind::Interpreter);
        } catch (const std::exception& e) {
            return Error{e.what()};
        }
        cpu->set_ferr_listener([this](bool level) { x87_error.ferr_changed(level); });
        cpu->set_interrupt_acknowledge([this] { return pic.acknowledge(); });
        clock = std::make_unique<machine::Clock>(config.deterministic || config.lockstep,
                                                 [this] { return cpu->context().instructions; });
        pit.reset();
        // The TSC runs at 1 GHz of the machine's time.
        cpu->set_tsc_source([this] { return clock->now(); });
        cpu::CpuOptions options = cpu_options(config.optimizations);
        // Lockstep logs every write through the slow path, where a page
        // group's check of a page it writes fails; and the block left there
        // to be made again without groups would end its step early.
        if (config.lockstep) options.backend.page_groups = false;
        cpu->set_options(options);
        return {};
    }

    static cpu::CpuOptions cpu_options(const Optimizations& o) {
        cpu::CpuOptions c;
        c.chain_blocks = o.chain_blocks;
        c.backend.jump_cache = o.jump_cache;
        c.flat_segments = o.flat_segments;
        c.bulk_strings = o.bulk_strings;
        c.superblocks = o.superblocks;
        c.follow_jumps = o.follow_jumps;
        c.passes.forward_and_fold = o.forward_and_fold;
        c.passes.eliminate_dead_stores = o.dead_stores;
        c.passes.eliminate_dead_code = o.dead_code;
        c.backend.host_flags = o.host_flags;
        c.backend.in_place_alu = o.in_place_alu;
        c.backend.inline_tlb = o.inline_tlb;
        c.backend.inline_divide = o.inline_divide;
        c.backend.lazy_flags = o.lazy_flags;
        c.backend.sink_records = o.sink_records;
        c.backend.page_groups = o.page_groups;
        c.backend.store_forwarding = o.store_forwarding;
        c.backend.fastmem = o.fastmem;
        c.backend.address_modes = o.address_modes;
        // (Its back edge is a jump of its own: chains off, no loops either.)
        c.backend.loop_copies = o.loop_copies && o.chain_blocks;
        return c;
    }

    // How a run ends after cpu->run() returned `exit`; false when it goes on.
    bool finish(cpu::CpuExit exit, RunResult& result);
    // The next timer event, in the clock's nanoseconds.
    std::optional<std::uint64_t> next_deadline() const {
        std::optional<std::uint64_t> next = cmos.next_event();
        if (const auto tick = pit.next_event()) {
            const std::uint64_t ns = machine::Clock::ns_of_tick(*tick);
            next = next ? std::min(*next, ns) : ns;
        }
        return next;
    }
    // The devices whose time has come raise their interrupts.
    void service_timers() {
        pit.update();
        cmos.update();
    }
    // Until `ns` with the CPU halted: a deterministic clock skips there, a
    // real one sleeps (false: a stop request came first).
    bool wait_until(std::uint64_t ns);
    RunResult run_timed();
    RunResult run_lockstep();
    // The differences between this machine and the shadow, or "".
    std::string compare_with_shadow();
};

namespace {
// The optimisations by the names --disable knows them by.
struct NamedSwitch {
    std::string_view name;
    bool Optimizations::*flag;
};
constexpr NamedSwitch kOptimizations[] = {
    {"chain", &Optimizations::chain_blocks},
    {"jump-cache", &Optimizations::jump_cache},
    {"flat-segments", &Optimizations::flat_segments},
    {"bulk-strings", &Optimizations::bulk_strings},
    {"fold", &Optimizations::forward_and_fold},
    {"dead-stores", &Optimizations::dead_stores},
    {"dead-code", &Optimizations::dead_code},
    {"host-flags", &Optimizations::host_flags},
    {"in-place", &Optimizations::in_place_alu},
    {"inline-tlb", &Optimizations::inline_tlb},
    {"inline-divide", &Optimizations::inline_divide},
    {"lazy-flags", &Optimizations::lazy_flags},
    {"sink-records", &Optimizations::sink_records},
    {"page-groups", &Optimizations::page_groups},
    {"store-forwarding", &Optimizations::store_forwarding},
    {"fastmem", &Optimizations::fastmem},
    {"address-modes", &Optimizations::address_modes},
    {"loop-copies", &Optimizations::loop_copies},
    {"superblocks", &Optimizations::superblocks},
    {"follow-jumps", &Optimizations::follow_jumps},
};
}  // namespace

bool disable_optimization(Optimizations& optimizations, std::string_view name) {
    bool found = false;
    for (const NamedSwitch& n : kOptimizations) {
        if (name == n.name || name == "all") {
            optimizations.*n.flag = false;
            found = true;
        }
    }
    return found;
}

std::string optimization_names() {
    std::string out;
    for (const NamedSwitch& n : kOptimizations)
        out += (out.empty() ? "" : ", ") + std::string(n.name);
    return out;
}

Result<Machine> Machine::create(MachineConfig config) {
    if (config.memory_bytes < kMinMemory || config.memory_bytes > kMaxMemory ||
        config.memory_bytes % 4096 != 0) {
        return Error{
            fmt::format("guest memory must be a multiple of 4 KiB between 1 MiB and 3 GiB, "
                        "not {} bytes",
                        config.memory_bytes)};
    }
    if (config.backend == Backend::Jit && !jit_available()) {
        return Error{"this build of jitterbug has no JIT backend (built with JITTERBUG_JIT=OFF)"};
    }
    if (config.lockstep && config.backend != Backend::Jit) {
        return Error{"lockstep compares the JIT against the interpreter: it needs the JIT backend"};
    }
    std::unique_ptr<Impl> shadow;
    if (config.lockstep) {
        MachineConfig sc = config;
        sc.backend = Backend::Interpreter;
        sc.lockstep = false;
        sc.deterministic = true;  // (its clock must keep step with the JIT machine's)
        sc.serial_output = [](std::span<const std::uint8_t>) {};
        shadow = std::make_unique<Impl>(std::move(sc));
        if (auto r = shadow->build(); !r) return r.error();
    }
    auto impl = std::make_unique<Impl>(std::move(config));
    if (auto r = impl->build(); !r) return r.error();
    impl->shadow = std::move(shadow);
    return Machine(std::move(impl));
}

Machine::Machine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Machine::Machine(Machine&&) noexcept = default;
Machine& Machine::operator=(Machine&&) noexcept = default;
Machine::~Machine() = default;

Result<void> Machine::load_multiboot(const std::filesystem::path& kernel,
                                     std::string_view cmdline) {
    std::ifstream in(kernel, std::ios::binary);
    if (!in) return Error{fmt::format("cannot open kernel '{}'", kernel.string())};
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (in.bad()) return Error{fmt::format("cannot read kernel '{}'", kernel.string())};
    if (bytes.empty()) return Error{fmt::format("kernel '{}' is empty", kernel.string())};
    auto r = load_multiboot(bytes, cmdline);
    if (!r) return Error{fmt::format("{}: {}", kernel.string(), r.error().message)};
    return {};
}

namespace {
// A whole file, or a clear error naming it and `what` it is.
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path,
                                            std::string_view what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{fmt::format("cannot open {} '{}'", what, path.string())};
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (in.bad()) return Error{fmt::format("cannot read {} '{}'", what, path.string())};
    if (bytes.empty()) return Error{fmt::format("{} '{}' is empty", what, path.string())};
    return bytes;
}
}  // namespace

Result<void> Machine::load_linux(const std::filesystem::path& kernel,
                                 const std::filesystem::path& initrd, std::string_view cmdline) {
    Result<std::vector<std::uint8_t>> image = read_file(kernel, "kernel");
    if (!image) return image.error();
    std::vector<std::uint8_t> initrd_bytes;
    if (!initrd.empty()) {
        Result<std::vector<std::uint8_t>> r = read_file(initrd, "initrd");
        if (!r) return r.error();
        initrd_bytes = std::move(*r);
    }
    auto r = load_linux(*image, initrd_bytes, cmdline);
    if (!r) return Error{fmt::format("{}: {}", kernel.string(), r.error().message)};
    return {};
}

Result<void> Machine::load_linux(std::span<const std::uint8_t> image,
                                 std::span<const std::uint8_t> initrd, std::string_view cmdline) {
    for (Impl* m : {impl_.get(), impl_->shadow.get()}) {
        if (!m) continue;
        Result<machine::LinuxLoad> load =
            machine::load_linux(m->memory, m->config.memory_bytes, image, initrd, cmdline);
        if (!load) return load.error();
        m->cpu->invalidate_code(PhysicalAddress{0}, m->config.memory_bytes);
        m->cpu->set_state(load->entry_state);
    }
    return {};
}

Result<void> Machine::load_kernel(const std::filesystem::path& kernel,
                                  const std::filesystem::path& initrd, std::string_view cmdline) {
    Result<std::vector<std::uint8_t>> image = read_file(kernel, "kernel");
    if (!image) return image.error();
    if (machine::is_bzimage(*image)) return load_linux(kernel, initrd, cmdline);
    if (!initrd.empty())
        return Error{fmt::format("{}: an initrd needs a Linux kernel (bzImage)", kernel.string())};
    return load_multiboot(kernel, cmdline);
}

Result<void> Machine::load_multiboot(std::span<const std::uint8_t> image,
                                     std::string_view cmdline) {
    Result<machine::MultibootLoad> load =
        machine::load_multiboot(impl_->memory, impl_->config.memory_bytes, image, cmdline);
    if (!load) return load.error();
    // Anything translated before (the firmware's code) may have been overwritten.
    impl_->cpu->invalidate_code(PhysicalAddress{0}, impl_->config.memory_bytes);
    impl_->cpu->set_state(load->entry_state);
    if (Impl* shadow = impl_->shadow.get()) {
        Result<machine::MultibootLoad> again =
            machine::load_multiboot(shadow->memory, shadow->config.memory_bytes, image, cmdline);
        if (!again) return again.error();
        shadow->cpu->invalidate_code(PhysicalAddress{0}, shadow->config.memory_bytes);
        shadow->cpu->set_state(again->entry_state);
    }
    return {};
}

bool Machine::Impl::finish(cpu::CpuExit exit, RunResult& result) {
    switch (exit) {
        case cpu::CpuExit::Stopped:
            if (guest_exit) {
                result.reason = StopReason::GuestExit;
                result.exit_status = *guest_exit;
                result.detail =
                    fmt::format("the guest wrote {:#x} to the exit port", (*guest_exit - 1) >> 1);
                return true;
            }
            {
                std::lock_guard lock(mutex);
                if (!stop_requested && replan) {
                    replan = false;  // (a device only wanted the timers planned again)
                    return false;
                }
            }
            result.reason = StopReason::StopRequested;
            return true;
        case cpu::CpuExit::Halted:
            result.reason = StopReason::Halted;
            return true;
        case cpu::CpuExit::WaitingForInterrupt: {
            // Nothing raises interrupts yet: sleep until a stop request.
            std::unique_lock lock(mutex);
            wake.wait(lock, [&] { return stop_requested; });
            return false;
        }
        case cpu::CpuExit::Shutdown:
            result.reason = StopReason::Shutdown;
            result.exit_status = 3;
            result.detail = "triple fault";
            return true;
        case cpu::CpuExit::InstructionLimit:  // run() sets no budget
        case cpu::CpuExit::Event:             // nor stops on events
        case cpu::CpuExit::InternalError:
            result.reason = StopReason::Error;
            result.exit_status = 125;
            result.detail = cpu->error();
            return true;
    }
    return true;
}

std::string Machine::Impl::compare_with_shadow() {
    std::string d =
        cpu::describe_differences(cpu->state(), shadow->cpu->state(), "jit", "interpreter");
    const std::uint64_t a = cpu->statistics().instructions;
    const std::uint64_t b = shadow->cpu->statistics().instructions;
    if (a != b) d += fmt::format("instructions retired: jit {}, interpreter {}\n", a, b);
    // The pages either machine wrote (RAM is mapped from physical address
    // 0, with the hole below 1 MiB left unwritten).
    const std::span<const std::uint8_t> x = ram.bytes();
    const std::span<const std::uint8_t> y = shadow->ram.bytes();
    std::vector<std::uint32_t>& pages = written_pages;
    pages.insert(pages.end(), shadow->written_pages.begin(), shadow->written_pages.end());
    std::sort(pages.begin(), pages.end());
    pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
    for (std::uint32_t page : pages) {
        const std::size_t at = std::size_t{page} << 12;
        if (at + 4096 > x.size() || std::memcmp(x.data() + at, y.data() + at, 4096) == 0) continue;
        std::size_t k = at;
        while (x[k] == y[k])
            ++k;
        d += fmt::format("RAM at {:#x}: jit {:#04x}, interpreter {:#04x}\n", k, x[k], y[k]);
        break;
    }
    written_pages.clear();
    shadow->written_pages.clear();
    return d;
}

// One block at a time on each machine (a budget of one instruction ends a
// run at the next block boundary, chained or not), comparing the CPU state
// and the RAM pages written after each.
RunResult Machine::Impl::run_lockstep() {
    RunResult result;
    std::uint64_t blocks = 0;
    cpu->set_write_log(&written_pages);
    shadow->cpu->set_write_log(&shadow->written_pages);
    for (;;) {
        // (Both clocks count instructions: the timers agree.)
        service_timers();
        shadow->service_timers();
        const cpu::CpuState before = cpu->state();
        const cpu::CpuExit a = cpu->run(1);
        const cpu::CpuExit b = shadow->cpu->run(1);
        ++blocks;
        std::string d = compare_with_shadow();
        if (a != b && !(a == cpu::CpuExit::Stopped && !guest_exit)) {
            d += fmt::format("the run ends differently: jit {}, interpreter {}\n",
                             static_cast<int>(a), static_cast<int>(b));
        }
        if (!d.empty()) {
            result.reason = StopReason::Diverged;
            result.exit_status = 4;
            result.detail = fmt::format(
                "lockstep: after the block at {:04x}:{:08x} (guest instruction {}, block {}):\n{}",
                before.segment(cpu::SegReg::Cs).selector, before.eip,
                shadow->cpu->statistics().instructions, blocks, d);
            result.detail.pop_back();  // the last line's newline
            break;
        }
        if (a == cpu::CpuExit::InstructionLimit) continue;
        if (a == cpu::CpuExit::WaitingForInterrupt) {
            if (const std::optional<std::uint64_t> deadline = next_deadline()) {
                clock->skip_to(*deadline);
                shadow->clock->skip_to(*deadline);
                continue;
            }
        }
        shadow->replan = false;
        if (finish(a, result)) break;
    }
    cpu->set_write_log(nullptr);
    shadow->cpu->set_write_log(nullptr);
    return result;
}

bool Machine::Impl::wait_until(std::uint64_t ns) {
    if (clock->deterministic()) {
        clock->skip_to(ns);
        return true;
    }
    std::unique_lock lock(mutex);
    return !wake.wait_until(lock, clock->host_time(ns), [&] { return stop_requested; });
}

RunResult Machine::Impl::run_timed() {
    // Real time: the CPU comes back this often to let the timers catch up
    // (tens of microseconds with the JIT, a few hundred with the interpreter).
    constexpr std::uint64_t kRealTimeSlice = 50'000;
    RunResult result;
    for (;;) {
        service_timers();
        const std::optional<std::uint64_t> deadline = next_deadline();
        std::uint64_t budget = ~std::uint64_t{0};
        if (deadline)
            budget = clock->deterministic() ? clock->instructions_until(*deadline) : kRealTimeSlice;
        const cpu::CpuExit exit = cpu->run(budget);
        if (exit == cpu::CpuExit::InstructionLimit) continue;
        if (exit == cpu::CpuExit::WaitingForInterrupt && deadline) {
            if (wait_until(*deadline)) continue;
            result.reason = StopReason::StopRequested;
            return result;
        }
        if (finish(exit, result)) return result;
    }
}

RunResult Machine::run() {
    Impl& m = *impl_;
    const auto start = std::chrono::steady_clock::now();
    RunResult result;
    if (m.shadow) {
        result = m.run_lockstep();
        m.shadow->guest_exit.reset();
    } else {
        result = m.run_timed();
    }
    {
        std::lock_guard lock(m.mutex);
        m.stop_requested = false;
    }
    m.guest_exit.reset();
    m.serial.flush();
    m.wall_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

void Machine::request_stop() {
    impl_->cpu->request_stop();
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stop_requested = true;
    }
    impl_->wake.notify_all();
}

RunStatistics Machine::statistics() const {
    const cpu::CpuStatistics& s = impl_->cpu->statistics();
    return RunStatistics{s.instructions, s.blocks_translated, s.page_group_deopts,
                         s.direct_access_faults, impl_->wall_seconds};
}

}  // namespace jitterbug
