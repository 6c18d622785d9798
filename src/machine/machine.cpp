// Machine: the PC — RAM, the firmware ROM, the port bus with its devices,
// and the CPU — behind the public API.
#include "jitterbug/machine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cpu/cpu.hpp"
#include "cpu/state_diff.hpp"
#include "devices/ata.hpp"
#include "devices/cmos.hpp"
#include "devices/debug_exit.hpp"
#include "devices/debug_ports.hpp"
#include "devices/disk_image.hpp"
#include "devices/firmware_disk.hpp"
#include "devices/i8042.hpp"
#include "devices/pci.hpp"
#include "devices/pic8259.hpp"
#include "devices/pit8254.hpp"
#include "devices/port_io_bus.hpp"
#include "devices/uart16550.hpp"
#include "devices/vga.hpp"
#include "devices/x87_error.hpp"
#include "machine/clock.hpp"
#include "machine/firmware.hpp"
#include "machine/flat_loader.hpp"
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
// The VGA's memory window, plain RAM here: 0xA0000-0xBFFFF, the text
// buffer at 0xB8000.
constexpr std::uint64_t kVgaWindowSize = 0x20000;
constexpr std::uint64_t kBiosBase = 0xF0000;
constexpr std::uint64_t kBiosAlias = 0xFFFF0000;
constexpr std::uint64_t kBiosSize = 0x10000;
// The serial ports: COM1 and COM3 share IRQ 4, COM2 and COM4 IRQ 3.
constexpr std::uint16_t kCom1 = 0x3F8;
constexpr std::uint16_t kCom2 = 0x2F8, kCom3 = 0x3E8, kCom4 = 0x2E8;
// Optimizations::tiering: runs of a block in the interpreter before the JIT
// compiles it.
constexpr unsigned kJitThreshold = 8;

// Collects serial bytes and hands them on a line at a time, or whatever
// there is each time the CPU comes back to the run loop.
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
        case StopReason::Reset:
            return "reset";
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
    mmu::HostMemory vga_ram;
    mmu::PhysicalMemory memory;
    devices::PortIoBus io;
    // (Before the devices, whose callbacks look at them while they are made.)
    std::unique_ptr<cpu::Cpu> cpu;
    std::unique_ptr<machine::Clock> clock;
    SerialSink serial;
    // Sources driving each ISA interrupt line (a bit each): shared lines
    // are high while any source is.
    std::array<std::uint8_t, 16> isa_sources{};
    void set_isa_irq(unsigned irq, unsigned source, bool level) {
        const auto before = isa_sources[irq];
        isa_sources[irq] =
            static_cast<std::uint8_t>(level ? before | (1u << source) : before & ~(1u << source));
        if ((before != 0) != (isa_sources[irq] != 0)) pic.set_irq(irq, isa_sources[irq] != 0);
    }
    devices::Uart16550 com1;
    // COM2-COM4: ports for the guest to find, their lines going nowhere.
    devices::Uart16550 com2{
        kCom2, {}, [this](bool l) { set_isa_irq(3, 0, l); }, [this] { return now_ns(); }};
    devices::Uart16550 com3{
        kCom3, {}, [this](bool l) { set_isa_irq(4, 1, l); }, [this] { return now_ns(); }};
    devices::Uart16550 com4{
        kCom4, {}, [this](bool l) { set_isa_irq(3, 1, l); }, [this] { return now_ns(); }};
    devices::Cmos cmos;
    devices::DualPic pic;
    devices::Pit8254 pit;
    devices::DebugExit debug_exit;
    devices::X87ErrorLatch x87_error;
    // A20 is on when either the keyboard controller or port 0x92 turns it on.
    devices::I8042 kbc{[this](bool level) { pic.set_irq(1, level); },
                       [this](bool level) { pic.set_irq(12, level); },
                       [this](bool) { update_a20(); }, [this] { request_reset(); }};
    devices::SystemControlPortA port92{[this](bool) { update_a20(); }, [this] { request_reset(); }};
    devices::Vga vga;
    // The primary ATA channel and its disks (made in build(): they need files).
    std::vector<std::unique_ptr<devices::DiskImage>> disks;
    std::unique_ptr<devices::Ata> ata;
    // The floppy images, served to the BIOS through the firmware disk port.
    std::vector<std::unique_ptr<devices::DiskImage>> floppies;
    std::unique_ptr<devices::FirmwareDisk> firmware_disk;
    // MachineConfig::screen_changed: the screen last reported, and when to
    // look again (the machine's clock).
    std::string last_screen;
    std::uint64_t next_screen_check = 0;
    devices::PciBus pci_bus;
    devices::I440fxHostBridge host_bridge;
    devices::Piix3IsaBridge isa_bridge;
    devices::PciHost pci_host{pci_bus, [this](devices::PciHost::ResetKind) { request_reset(); }};
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
    bool stop_requested = false;          // guarded by mutex
    std::vector<std::uint8_t> serial_in;  // from the host, guarded by mutex
    std::string keys_in;                  // typed on the host, guarded by mutex
    bool reset_requested = false;
    std::uint64_t reboots = 0;
    // Loads the kernel again after a reset (empty: none was loaded).
    std::function<Result<void>()> reload;

    // Real time: a thread that brings the CPU back to the run loop when the
    // next timer event is due (chained code otherwise runs on until it
    // leaves its chains). Started at the first real-time run.
    struct Alarm {
        std::thread thread;
        std::mutex mutex;
        std::condition_variable changed;
        std::optional<std::chrono::steady_clock::time_point> at;  // guarded by mutex
        bool quit = false;                                        // guarded by mutex
    } alarm;
    void set_alarm(std::optional<std::chrono::steady_clock::time_point> at) {
        if (!alarm.thread.joinable()) {
            if (!at) return;
            alarm.thread = std::thread([this] { run_alarm(); });
        }
        {
            std::lock_guard lock(alarm.mutex);
            alarm.at = at;
        }
        alarm.changed.notify_one();
    }
    void run_alarm() {
        std::unique_lock lock(alarm.mutex);
        while (!alarm.quit) {
            if (!alarm.at) {
                alarm.changed.wait(lock);
                continue;
            }
            const auto at = *alarm.at;
            if (alarm.changed.wait_until(lock, at) == std::cv_status::timeout && alarm.at == at) {
                alarm.at.reset();
                cpu->request_stop();  // (finish() goes on: no stop was asked for)
            }
        }
    }
    ~Impl() {
        if (alarm.thread.joinable()) {
            {
                std::lock_guard lock(alarm.mutex);
                alarm.quit = true;
            }
            alarm.changed.notify_one();
            alarm.thread.join();
        }
    }
    std::optional<int> guest_exit;
    double wall_seconds = 0;
    // Lockstep: the interpreter machine beside this one, and the physical
    // pages each machine wrote since the last comparison.
    std::unique_ptr<Impl> shadow;
    std::vector<std::uint32_t> written_pages;

    // The machine's clock (0 until it is made).
    std::uint64_t now_ns() const { return clock ? clock->now() : 0; }
    // What wakes a halted CPU besides a timer event: a stop request or host
    // input (the caller holds `mutex`).
    bool woken() const { return stop_requested || !serial_in.empty() || !keys_in.empty(); }

    explicit Impl(MachineConfig c)
        : config(std::move(c)),
          serial(config.serial_output),
          com1(
              kCom1, [this](std::uint8_t b) { serial.put(b); },
              [this](bool level) { set_isa_irq(4, 0, level); }, [this] { return now_ns(); }),
          cmos([this] { return now_ns(); }, [this](bool level) { pic.set_irq(8, level); },
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
        vga_ram = mmu::HostMemory(kVgaWindowSize);
        if (!vga_ram.valid()) return Error{"cannot reserve host memory for the VGA"};
        if (auto r = memory.map_ram(PhysicalAddress{kLowMemoryEnd}, vga_ram.bytes(), "VGA memory",
                                    vga_ram.backing(vga_ram.bytes()));
            !r) {
            return r;
        }
        vga.set_text_buffer(vga_ram.bytes().subspan(
            devices::Vga::kTextBufferAddress - kLowMemoryEnd, devices::Vga::kTextBufferSize));
        if (config.memory_bytes > kMiB) {
            auto high = ram.bytes().subspan(kMiB);
            if (auto r = memory.map_ram(PhysicalAddress{kMiB}, high, "RAM", ram.backing(high)); !r)
                return r;
        }
        if (auto r = memory.map_rom(PhysicalAddress{kBiosBase}, bios, "BIOS"); !r) return r;
        if (auto r = memory.map_rom(PhysicalAddress{kBiosAlias}, bios, "BIOS (reset alias)"); !r) {
            return r;
        }

        if (config.disks.size() > 2) {
            return Error{fmt::format(
                "at most two disks (the primary ATA channel's master and slave), not {}",
                config.disks.size())};
        }
        for (const DiskConfig& d : config.disks) {
            Result<devices::DiskImage> image = devices::DiskImage::open(d.path, d.writable);
            if (!image) return image.error();
            disks.push_back(std::make_unique<devices::DiskImage>(std::move(*image)));
        }
        ata = std::make_unique<devices::Ata>(disks.empty() ? nullptr : disks[0].get(),
                                             disks.size() < 2 ? nullptr : disks[1].get(),
                                             [this](bool level) { pic.set_irq(14, level); });
        if (auto r = io.map(devices::Ata::kPrimaryCommandBase, 8, *ata, "ATA (primary)"); !r)
            return r;
        if (auto r = io.map(devices::Ata::kPrimaryControlPort, 1, *ata, "ATA (primary control)");
            !r)
            return r;
        if (auto r = attach_floppies(); !r) return r;
        cmos.set_memory_size(config.memory_bytes);
        for (auto r :
             {io.map(kCom1, 8, com1, "COM1"),
              io.map(kCom2, 8, com2, "COM2"),
              io.map(kCom3, 8, com3, "COM3"),
              io.map(kCom4, 8, com4, "COM4"),
              io.map(devices::Cmos::kIndexPort, 2, cmos, "CMOS"),
              io.map(devices::DebugExit::kPort, 1, debug_exit, "debug exit"),
              io.map(devices::X87ErrorLatch::kPort, 1, x87_error, "x87 error latch"),
              io.map(devices::DualPic::kMasterPort, 2, pic, "PIC (master)"),
              io.map(devices::DualPic::kSlavePort, 2, pic, "PIC (slave)"),
              io.map(devices::DualPic::kElcrPort, 2, pic, "ELCR"),
              io.map(devices::Pit8254::kPort, 4, timer_ports, "PIT"),
              io.map(devices::Pit8254::kPortB, 1, timer_ports, "port B"),
              io.map(devices::DebugConsole::kPort, 1, debug_console, "debug console"),
              io.map(devices::PostCodePort::kPort, 1, post, "POST codes"),
              io.map(devices::I8042::kDataPort, 1, kbc, "keyboard controller (data)"),
              io.map(devices::I8042::kCommandPort, 1, kbc, "keyboard controller (command)"),
              io.map(devices::SystemControlPortA::kPort, 1, port92, "port 0x92"),
              io.map(devices::Vga::kFirstPort, devices::Vga::kPortCount, vga, "VGA"),
              io.map(devices::PciHost::kConfigAddressPort, devices::PciHost::kPortCount, pci_host,
                     "PCI configuration"),
              pci_bus.add(0, 0, host_bridge),
              pci_bus.add(1, 0, isa_bridge)}) {
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
        // (Lockstep compares the JIT's code with the interpreter, block by block.)
        if (config.lockstep) options.jit_threshold = 0;
        cpu->set_options(options);
        return {};
    }

    // The floppy images behind the firmware disk port, and what the CMOS
    // says about them and about the boot order.
    Result<void> attach_floppies() {
        if (config.floppies.size() > 2) {
            return Error{fmt::format("at most two floppy drives (A: and B:), not {}",
                                     config.floppies.size())};
        }
        std::array<devices::DiskImage*, 2> drives{};
        std::uint8_t types = 0;  // CMOS 0x10: A: in the high nibble, B: in the low
        for (std::size_t i = 0; i < config.floppies.size(); ++i) {
            const DiskConfig& d = config.floppies[i];
            Result<devices::DiskImage> image = devices::DiskImage::open(d.path, d.writable);
            if (!image) return image.error();
            const std::optional<std::uint8_t> type = floppy_type(image->size_bytes());
            if (!type) {
                return Error{fmt::format(
                    "{}: {} bytes is no floppy's size (160, 180, 320, 360, 720, 1200, 1440, "
                    "1680 or 2880 KiB)",
                    d.path.string(), image->size_bytes())};
            }
            types = static_cast<std::uint8_t>(types | (*type << (i == 0 ? 4 : 0)));
            floppies.push_back(std::make_unique<devices::DiskImage>(std::move(*image)));
            drives[i] = floppies.back().get();
        }
        firmware_disk = std::make_unique<devices::FirmwareDisk>(
            drives, [this](std::uint64_t address, std::span<std::uint8_t> bytes, bool to_guest) {
                return dma(address, bytes, to_guest);
            });
        if (auto r = io.map(devices::FirmwareDisk::kFirstPort, devices::FirmwareDisk::kPortCount,
                            *firmware_disk, "firmware disk");
            !r) {
            return r;
        }
        cmos.set(0x10, types);
        // The equipment byte: floppies (bit 0, count - 1 in bits 6-7), 80x25
        // colour, an x87.
        const auto count = static_cast<unsigned>(floppies.size());
        cmos.set(0x14, static_cast<std::uint8_t>((count != 0 ? 1u | ((count - 1) << 6) : 0u) |
                                                 0x20u | 0x02u));
        // The boot order as Bochs and QEMU keep it: 1 = floppy, 2 = hard disk.
        cmos.set(0x3D, config.boot == BootOrder::HardDiskFirst ? 0x12 : 0x21);
        return {};
    }
    // The CMOS drive type of a floppy image of `bytes`, if it has a floppy's size.
    static std::optional<std::uint8_t> floppy_type(std::uint64_t bytes) {
        constexpr std::pair<std::uint64_t, std::uint8_t> kFormats[] = {
            {160, 1},  {180, 1},  {320, 1},  {360, 1}, {720, 3},
            {1200, 2}, {1440, 4}, {1680, 4}, {2880, 5}};
        for (const auto& [kib, type] : kFormats) {
            if (bytes == kib * 1024) return type;
        }
        return std::nullopt;
    }
    // A device's copy to or from guest RAM (false: some byte is not RAM —
    // the ROM is the embedded image itself, never written; a copy into the
    // guest then stops there). Translations of what it overwrites are
    // dropped.
    bool dma(std::uint64_t address, std::span<std::uint8_t> bytes, bool to_guest) {
        for (std::size_t done = 0; done < bytes.size();) {
            const std::uint64_t at = address + done;
            const std::size_t chunk =
                std::min<std::size_t>(bytes.size() - done, 4096 - (at & 4095));
            std::uint8_t* p = memory.ram_pointer(PhysicalAddress{at}, chunk);
            if (p == nullptr) return false;
            if (to_guest) {
                std::memcpy(p, bytes.data() + done, chunk);
                cpu->invalidate_code(PhysicalAddress{at}, chunk);
            } else {
                std::memcpy(bytes.data() + done, p, chunk);
            }
            done += chunk;
        }
        return true;
    }
    // MachineConfig::screen_changed: every 100 ms of the machine's time.
    static constexpr std::uint64_t kScreenPeriod = 100'000'000;
    void watch_screen() {
        if (!config.screen_changed || clock->now() < next_screen_check) return;
        next_screen_check = clock->now() + kScreenPeriod;
        std::string text = vga.screen_text();
        if (text == last_screen) return;
        last_screen = std::move(text);
        config.screen_changed(last_screen);
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
        c.jit_threshold = o.tiering ? kJitThreshold : 0;
        return c;
    }

    // How a run ends after cpu->run() returned `exit`; false when it goes on.
    bool finish(cpu::CpuExit exit, RunResult& result);
    // A device asks for a reset: the CPU comes back at the end of its block.
    void request_reset() {
        reset_requested = true;
        if (cpu) cpu->request_stop();
    }
    void update_a20() {
        if (cpu) cpu->mmu().set_a20(kbc.a20() || port92.a20());
    }
    // The reset of the whole machine (MachineConfig::reboot): the CPU and the
    // devices as at power-on, RAM kept, the kernel loaded again; false with
    // `result` filled when that fails.
    bool reboot(RunResult& result);
    // Runs `loader` on this machine and its shadow and starts their CPUs at
    // the state it returns; keeps it to load again after a reboot.
    Result<void> load(const std::function<Result<cpu::CpuState>(Impl&)>& loader);
    void start_loaded(const cpu::CpuState& state);
    // Hands the host's serial bytes to COM1.
    void take_serial_input() {
        std::vector<std::uint8_t> bytes;
        {
            std::lock_guard lock(mutex);
            if (serial_in.empty()) return;
            bytes.swap(serial_in);
        }
        for (std::uint8_t b : bytes)
            com1.receive(b);
    }
    // Hands the host's typing to the keyboard.
    void take_keys() {
        std::string text;
        {
            std::lock_guard lock(mutex);
            if (keys_in.empty()) return;
            text.swap(keys_in);
        }
        kbc.type_text(text);
    }
    // The next timer event, in the clock's nanoseconds.
    std::optional<std::uint64_t> next_deadline() const {
        std::optional<std::uint64_t> next = cmos.next_event();
        for (const devices::Uart16550* uart : {&com1, &com2, &com3, &com4}) {
            if (const auto t = uart->next_event()) next = next ? std::min(*next, *t) : *t;
        }
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
        for (devices::Uart16550* uart : {&com1, &com2, &com3, &com4})
            uart->update();
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
    {"tiering", &Optimizations::tiering},
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
        sc.reboot = false;
        for (DiskConfig& d : sc.disks)
            d.writable = false;   // (the JIT machine writes the files)
        sc.deterministic = true;  // (its clock must keep step with the JIT machine's)
        sc.serial_output = [](std::span<const std::uint8_t>) {};
        shadow = std::make_unique<Impl>(std::move(sc));
        if (auto r = shadow->build(); !r) return r.error();
    }
    // (A reboot in lockstep would need both machines reset in step.)
    if (config.lockstep) config.reboot = false;
    auto impl = std::make_unique<Impl>(std::move(config));
    if (auto r = impl->build(); !r) return r.error();
    impl->shadow = std::move(shadow);
    return Machine(std::move(impl));
}

Machine::Machine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Machine::Machine(Machine&&) noexcept = default;
Machine& Machine::operator=(Machine&&) noexcept = default;
Machine::~Machine() = default;

namespace {
// A whole file, or a clear error naming it and `what` it is.
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path,
                                            std::string_view what) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return Error{fmt::format("cannot open {} '{}'", what, path.string())};
    const std::streamoff size = in.tellg();
    // (Guest RAM is at most 3 GiB: nothing bigger can be loaded.)
    if (size < 0 || static_cast<std::uint64_t>(size) > kMaxMemory)
        return Error{
            fmt::format("cannot read {} '{}': too big or not a file", what, path.string())};
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(bytes.data()), size);
    if (!in) return Error{fmt::format("cannot read {} '{}'", what, path.string())};
    if (bytes.empty()) return Error{fmt::format("{} '{}' is empty", what, path.string())};
    return bytes;
}
}  // namespace

Result<void> Machine::load_multiboot(const std::filesystem::path& kernel, std::string_view cmdline,
                                     std::span<const std::filesystem::path> modules) {
    Result<std::vector<std::uint8_t>> image = read_file(kernel, "kernel");
    if (!image) return image.error();
    std::vector<std::vector<std::uint8_t>> contents;
    std::vector<std::string> names;
    for (const std::filesystem::path& m : modules) {
        Result<std::vector<std::uint8_t>> bytes = read_file(m, "module");
        if (!bytes) return bytes.error();
        contents.push_back(std::move(*bytes));
        names.push_back(m.string());
    }
    std::vector<MultibootModule> list;
    for (std::size_t i = 0; i < contents.size(); ++i)
        list.push_back({contents[i], names[i]});
    auto r = load_multiboot(*image, cmdline, list);
    if (!r) return Error{fmt::format("{}: {}", kernel.string(), r.error().message)};
    return {};
}

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
    return impl_->load([image = std::vector(image.begin(), image.end()),
                        initrd = std::vector(initrd.begin(), initrd.end()),
                        cmdline = std::string(cmdline)](Impl& m) -> Result<cpu::CpuState> {
        Result<machine::LinuxLoad> load =
            machine::load_linux(m.memory, m.config.memory_bytes, image, initrd, cmdline);
        if (!load) return load.error();
        return load->entry_state;
    });
}

Result<void> Machine::load_kernel(const std::filesystem::path& kernel,
                                  const std::filesystem::path& initrd, std::string_view cmdline) {
    Result<std::vector<std::uint8_t>> image = read_file(kernel, "kernel");
    if (!image) return image.error();
    if (machine::is_bzimage(*image)) return load_linux(kernel, initrd, cmdline);
    if (initrd.empty()) return load_multiboot(kernel, cmdline);
    return load_multiboot(kernel, cmdline, std::span(&initrd, 1));
}

// The CPU starts at `state`, over memory a loader has just written (where
// anything translated before, the firmware's code, may have been).
void Machine::Impl::start_loaded(const cpu::CpuState& state) {
    cpu->invalidate_code(PhysicalAddress{0}, config.memory_bytes);
    cpu->set_state(state);
}

Result<void> Machine::Impl::load(const std::function<Result<cpu::CpuState>(Impl&)>& loader) {
    for (Impl* m : {this, shadow.get()}) {
        if (!m) continue;
        Result<cpu::CpuState> state = loader(*m);
        if (!state) return state.error();
        m->start_loaded(*state);
    }
    reload = [this, loader]() -> Result<void> {
        Result<cpu::CpuState> state = loader(*this);
        if (!state) return state.error();
        start_loaded(*state);
        return {};
    };
    return {};
}

Result<void> Machine::load_multiboot(std::span<const std::uint8_t> image, std::string_view cmdline,
                                     std::span<const MultibootModule> modules) {
    // (Copies: the loader runs again at each reboot.)
    struct Copy {
        std::vector<std::uint8_t> bytes;
        std::string cmdline;
    };
    auto copies = std::make_shared<std::vector<Copy>>();
    for (const MultibootModule& m : modules)
        copies->push_back({std::vector(m.bytes.begin(), m.bytes.end()), std::string(m.cmdline)});
    return impl_->load([image = std::vector(image.begin(), image.end()),
                        cmdline = std::string(cmdline), copies](Impl& m) -> Result<cpu::CpuState> {
        std::vector<machine::MultibootModule> list;
        for (const Copy& c : *copies)
            list.push_back({c.bytes, c.cmdline});
        Result<machine::MultibootLoad> load =
            machine::load_multiboot(m.memory, m.config.memory_bytes, image, cmdline, list);
        if (!load) return load.error();
        return load->entry_state;
    });
}

Result<void> Machine::load_flat(const std::filesystem::path& file, const FlatBinary& layout) {
    Result<std::vector<std::uint8_t>> image = read_file(file, "flat binary");
    if (!image) return image.error();
    auto r = load_flat(*image, layout);
    if (!r) return Error{fmt::format("{}: {}", file.string(), r.error().message)};
    return {};
}

Result<void> Machine::load_flat(std::span<const std::uint8_t> image, const FlatBinary& layout) {
    const machine::FlatLayout how{layout.load_address, layout.entry, layout.real_mode,
                                  layout.registers};
    return impl_->load(
        [image = std::vector(image.begin(), image.end()), how](Impl& m) -> Result<cpu::CpuState> {
            return machine::load_flat(m.memory, m.config.memory_bytes, image, how);
        });
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
                if (stop_requested) {
                    result.reason = StopReason::StopRequested;
                    return true;
                }
            }
            if (reset_requested) {
                reset_requested = false;
                if (!config.reboot) {
                    result.reason = StopReason::Reset;
                    result.detail = "the guest reset the machine";
                    return true;
                }
                return !reboot(result);
            }
            // (A device only wanted the timers planned again, or host input came.)
            replan = false;
            return false;
        case cpu::CpuExit::Halted:
            result.reason = StopReason::Halted;
            return true;
        case cpu::CpuExit::WaitingForInterrupt: {
            // No timer event is coming: sleep until input or a stop request.
            std::unique_lock lock(mutex);
            wake.wait(lock, [&] { return woken(); });
            return false;
        }
        case cpu::CpuExit::Shutdown:
            if (config.reboot) return !reboot(result);
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
    return !wake.wait_until(lock, clock->host_time(ns), [&] { return woken(); });
}

bool Machine::Impl::reboot(RunResult& result) {
    log::devices().info("the guest reset the machine");
    ++reboots;
    cpu->reset();
    pic.reset();
    pit.reset();
    for (devices::Uart16550* uart : {&com1, &com2, &com3, &com4})
        uart->reset();
    x87_error.reset();
    kbc.reset();
    port92.reset();
    pci_host.reset();
    vga.reset();
    ata->reset();
    firmware_disk->reset();
    update_a20();
    replan = false;
    if (reload) {
        if (Result<void> r = reload(); !r) {
            result.reason = StopReason::Error;
            result.exit_status = 125;
            result.detail = "cannot load the kernel again after a reset: " + r.error().message;
            return false;
        }
    }
    return true;
}

RunResult Machine::Impl::run_timed() {
    RunResult result;
    for (;;) {
        take_serial_input();
        take_keys();
        service_timers();
        watch_screen();
        std::optional<std::uint64_t> deadline = next_deadline();
        if (config.screen_changed) {
            deadline = deadline ? std::min(*deadline, next_screen_check) : next_screen_check;
        }
        // Deterministic: a budget of instructions to the next event; real
        // time: the alarm thread stops the CPU when it is due.
        std::uint64_t budget = ~std::uint64_t{0};
        if (clock->deterministic()) {
            if (deadline) budget = clock->instructions_until(*deadline);
        } else {
            set_alarm(deadline ? std::optional(clock->host_time(*deadline)) : std::nullopt);
        }
        const cpu::CpuExit exit = cpu->run(budget);
        // (A prompt without a newline must reach the host too.)
        serial.flush();
        if (exit == cpu::CpuExit::InstructionLimit) continue;
        if (exit == cpu::CpuExit::WaitingForInterrupt && deadline) {
            if (wait_until(*deadline)) continue;
            if (std::lock_guard lock(mutex); !stop_requested) continue;  // (input came)
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

void Machine::send_serial(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    {
        std::lock_guard lock(impl_->mutex);
        impl_->serial_in.insert(impl_->serial_in.end(), bytes.begin(), bytes.end());
    }
    // The CPU comes back to the run loop to take them; a halted one wakes.
    impl_->cpu->request_stop();
    impl_->wake.notify_all();
}

void Machine::send_keys(std::string_view text) {
    if (text.empty()) return;
    {
        std::lock_guard lock(impl_->mutex);
        impl_->keys_in.append(text);
    }
    impl_->cpu->request_stop();
    impl_->wake.notify_all();
}

void Machine::request_stop() {
    // (The flag first: the CPU's stop must find it set.)
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stop_requested = true;
    }
    impl_->cpu->request_stop();
    impl_->wake.notify_all();
}

std::string Machine::screen_text() const { return impl_->vga.screen_text(); }

Result<void> Machine::save_screenshot(const std::filesystem::path& png) const {
    return impl_->vga.write_png(png);
}

RunStatistics Machine::statistics() const {
    const cpu::CpuStatistics& s = impl_->cpu->statistics();
    RunStatistics r;
    r.guest_instructions = s.instructions;
    r.blocks_translated = s.blocks_translated;
    r.blocks_compiled = s.blocks_compiled;
    r.blocks_deoptimized = s.page_group_deopts + s.fastmem_deopts;
    r.access_faults = s.direct_access_faults;
    r.tlb_misses = impl_->cpu->mmu().tlb_refills();
    r.reboots = impl_->reboots;
    r.wall_seconds = impl_->wall_seconds;
    return r;
}

}  // namespace jitterbug
