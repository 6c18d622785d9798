// Machine: a whole PC — CPU, memory, devices and firmware — built from a
// MachineConfig. Create it, optionally load a guest, run it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "jitterbug/result.hpp"

namespace jitterbug {

enum class Backend {
    Jit,          // x86-64 host code generated with xbyak (x86-64 hosts only)
    Interpreter,  // portable IR interpreter (any host)
};

// True when this build of the library contains the JIT backend.
bool jit_available();
// The JIT where available, otherwise the interpreter.
Backend default_backend();
std::string_view to_string(Backend backend);

// Switches for the optimisations of translation and of the JIT backend, all
// on by default. Turning one off shows what it buys and isolates it when
// hunting a bug; what the guest sees never changes.
struct Optimizations {
    bool chain_blocks = true;   // block exits jump straight to their successors
    bool jump_cache = true;     // returns and indirect jumps find their block in generated code
    bool flat_segments = true;  // flat DS/ES/SS: no segment base, a limit check only for wrapping
    bool bulk_strings = true;   // REP MOVS/STOS over plain RAM run as host memmove/memset
    bool superblocks = true;    // a block goes on past a conditional jump (a side exit when taken)
    bool follow_jumps = true;   // a block goes on at a direct JMP/CALL's target (same page)
    bool forward_and_fold = true;  // IR: known register values forwarded, constants folded
    bool dead_stores = true;       // IR: writes overwritten before anything can see them dropped
    bool dead_code = true;         // IR: unused pure operations dropped
    bool host_flags = true;        // JIT: conditions read from the host's flags after the op
    bool in_place_alu = true;   // JIT: an op writing a guest register computes in its host register
    bool inline_tlb = true;     // JIT: the TLB lookup inline (off: every access calls the runtime)
    bool inline_divide = true;  // JIT: 32-bit DIV/IDIV inline (the runtime only for #DE)
    bool lazy_flags = true;     // JIT: flags written to EFLAGS kept as operands until read
    bool sink_records = true;   // JIT: those operands stored only where something may read them
    bool page_groups = true;    // JIT: nearby accesses off one base share one TLB lookup
    bool store_forwarding = true;  // JIT: a read of what the block stored there takes it
    bool fastmem = true;        // JIT: guest memory accessed directly, faults taking the slow path
    bool address_modes = true;  // JIT: a direct access adds its address up in its own operand
    bool loop_copies = true;    // JIT: a self-loop runs in a copy that keeps its flags in registers
    // JIT: a block runs a few times in the IR interpreter before the JIT
    // compiles it, so code that runs once costs no compilation (off: every
    // block compiled at once; always off in lockstep).
    bool tiering = true;
};

// Turns off the optimisation the command line's --disable calls `name`
// (chain, jump-cache, ..., fastmem, address-modes; "all": every one).
// False when there is none of that name.
bool disable_optimization(Optimizations& optimizations, std::string_view name);
// Those names, comma-separated, for messages and help.
std::string optimization_names();

// A hard disk image on the primary ATA channel (MachineConfig::disks).
struct DiskConfig {
    std::filesystem::path path;  // a raw image, whole sectors of 512 bytes
    // Whether guest writes reach the file; otherwise they stay in memory
    // (an overlay that the run's later reads see) and the file is untouched.
    bool writable = false;
};

// Where the BIOS looks first for something to boot (MachineConfig::boot).
enum class BootOrder {
    FloppyFirst,    // A:, then the first hard disk (a PC's default; `--boot a`)
    HardDiskFirst,  // the first hard disk, then A: (`--boot c`)
};

struct MachineConfig {
    // Guest RAM in bytes: at least 1 MiB, at most 3 GiB, a multiple of 4 KiB.
    std::uint64_t memory_bytes = std::uint64_t{64} << 20;
    Backend backend = default_backend();
    // Receives the bytes the guest transmits on COM1, in order. When empty the
    // bytes go to the process's standard output.
    std::function<void(std::span<const std::uint8_t>)> serial_output;
    // Receives the bytes the guest writes to the debug console, port 0xE9
    // (Bochs's and QEMU's). When empty they go to the log, a line at a time.
    std::function<void(std::span<const std::uint8_t>)> debug_console_output;
    Optimizations optimizations;
    // Deterministic time: the machine's clock counts guest instructions
    // (1 ns each) instead of following the host's, and a halted CPU skips
    // to the next timer event; the same run then gives the same output, with
    // its interrupts at the same instructions, every time and on either
    // backend. (Lockstep runs are always deterministic.)
    bool deterministic = false;
    // What a reset request does (the keyboard controller's pulse, port 0x92,
    // port 0xCF9, a triple fault): false ends the run (StopReason::Reset, or
    // StopReason::Shutdown for a triple fault); true resets the machine and
    // goes on, loading the kernel again if one was loaded, as a PC with
    // qemu-system-i386 -kernel does.
    bool reboot = false;
    // Hard disks on the primary ATA channel (ports 0x1F0-0x1F7 and 0x3F6,
    // IRQ 14): the first is the master, the second the slave; at most two.
    std::vector<DiskConfig> disks;
    // Floppy images, A: then B: (at most two), served to the BIOS's INT 13h
    // straight from the image (there is no floppy controller): raw images of
    // 160, 180, 320, 360, 720, 1200, 1440, 1680 or 2880 KiB.
    std::vector<DiskConfig> floppies;
    BootOrder boot = BootOrder::FloppyFirst;
    // Called from run() with the VGA text screen (as screen_text() gives
    // it) when it changed, looked at every 100 ms of the machine's time.
    std::function<void(const std::string&)> screen_changed;
    // Lockstep: a second machine with the interpreter runs beside this one
    // (which must use the JIT), one translated block at a time; the first
    // difference in CPU state, in RAM or in how a run ends stops the run with
    // StopReason::Diverged, described in RunResult::detail. Slow; for finding
    // JIT bugs.
    bool lockstep = false;
};

// A multiboot boot module: its bytes and its string (by convention its
// name and arguments).
struct MultibootModule {
    std::span<const std::uint8_t> bytes;
    std::string_view cmdline;
};

// Where a flat binary goes and how it starts (Machine::load_flat).
struct FlatBinary {
    std::uint32_t load_address = 0x100000;
    std::uint32_t entry = 0x100000;  // physical address
    // Real mode (CS:IP from the entry: CS = the entry's 64 KiB segment, 0
    // below 0x10000; DS = ES = SS = CS) or 32-bit protected mode with flat
    // 4 GiB segments (CS 0x08, data 0x10 of a GDT at 0x500), paging and
    // interrupts off.
    bool real_mode = false;
    // EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI at entry.
    std::array<std::uint32_t, 8> registers{};
};

enum class StopReason {
    Halted,         // HLT with interrupts disabled: nothing can wake the CPU
    GuestExit,      // the guest wrote to the exit device (port 0xF4)
    Shutdown,       // the CPU shut down (triple fault)
    Reset,          // the guest asked for a reset and MachineConfig::reboot is off
    StopRequested,  // request_stop() was called
    Error,          // the emulator itself failed (a bug); see RunResult::detail
    Diverged,       // lockstep: the JIT and the interpreter disagree; see RunResult::detail
};
std::string_view to_string(StopReason reason);

struct RunResult {
    StopReason reason = StopReason::Halted;
    // The status a process running this guest should exit with: 0 after a halt,
    // (value << 1) | 1 after the guest wrote value to the exit device; 0
    // after a reset request.
    int exit_status = 0;
    std::string detail;  // human-readable explanation, e.g. for a shutdown
};

struct RunStatistics {
    std::uint64_t guest_instructions = 0;
    std::uint64_t blocks_translated = 0;
    // Blocks the JIT compiled (with Optimizations::tiering, those that ran
    // often enough; without, every block translated).
    std::uint64_t blocks_compiled = 0;
    // Blocks the JIT made again without one of its optimisations (page
    // groups) because the guest's memory did not allow it there.
    std::uint64_t blocks_deoptimized = 0;
    // JIT memory accesses that went to the slow path by way of a host
    // fault (devices, ROM, writes to pages holding translated code).
    std::uint64_t access_faults = 0;
    // TLB refills: accesses whose page was not in the TLB (page walks or,
    // without paging, region lookups).
    std::uint64_t tlb_misses = 0;
    // Resets the guest asked for that restarted the machine (MachineConfig::reboot).
    std::uint64_t reboots = 0;
    double wall_seconds = 0;
};

class Machine {
  public:
    static Result<Machine> create(MachineConfig config);

    Machine(Machine&&) noexcept;
    Machine& operator=(Machine&&) noexcept;
    ~Machine();

    // Loads a multiboot v1 kernel (ELF or a.out kludge) the way
    // qemu-system-i386 -kernel does; the CPU then starts at its entry point
    // in 32-bit protected mode instead of at the firmware's reset vector.
    // Modules go page-aligned after the kernel and its information.
    Result<void> load_multiboot(const std::filesystem::path& kernel, std::string_view cmdline,
                                std::span<const std::filesystem::path> modules = {});
    Result<void> load_multiboot(std::span<const std::uint8_t> image, std::string_view cmdline,
                                std::span<const MultibootModule> modules = {});
    // Loads a Linux bzImage (boot protocol 2.02 or later) and an optional
    // initrd (empty path: none) the way qemu-system-i386 -kernel does: the
    // CPU starts at the kernel's 32-bit entry with the zero page in ESI.
    Result<void> load_linux(const std::filesystem::path& kernel,
                            const std::filesystem::path& initrd, std::string_view cmdline);
    Result<void> load_linux(std::span<const std::uint8_t> image,
                            std::span<const std::uint8_t> initrd, std::string_view cmdline);
    // Loads `kernel` by what it is: a bzImage by load_linux, else by
    // load_multiboot with the initrd (if any) as its one module, as
    // qemu-system-i386 -kernel -initrd does.
    Result<void> load_kernel(const std::filesystem::path& kernel,
                             const std::filesystem::path& initrd, std::string_view cmdline);

    // Loads a flat binary (raw bytes) and starts the CPU at its entry.
    Result<void> load_flat(const std::filesystem::path& file, const FlatBinary& layout);
    Result<void> load_flat(std::span<const std::uint8_t> image, const FlatBinary& layout);

    // Runs until the guest halts for good, exits, shuts down or is stopped.
    RunResult run();
    // Asks a running machine to stop at the next block boundary. Thread-safe.
    void request_stop();
    // Bytes arriving on COM1's line from the host, received by the guest at
    // the line's rate. Thread-safe: may be called while the machine runs
    // (a halted CPU wakes for them).
    void send_serial(std::span<const std::uint8_t> bytes);
    // Text typed on the PS/2 keyboard (US layout: Shift for capitals and
    // symbols, "\n" Enter, "\b" Backspace, "\t" Tab, 0x1B Escape, 0x01-0x1A
    // Ctrl with a letter), a press and a release per key, as fast as the
    // guest takes them. Thread-safe like send_serial.
    void send_keys(std::string_view text);

    RunStatistics statistics() const;

    // The VGA text screen (80x25 at 0xB8000) as UTF-8 text, a line per row,
    // trailing blanks and blank rows at the end left out.
    std::string screen_text() const;
    // The screen as the VGA shows it (720x400, the 8x16 font in 9x16
    // cells, colours through the palette and the DAC, the cursor) in a PNG.
    Result<void> save_screenshot(const std::filesystem::path& png) const;

    struct Impl;

  private:
    explicit Machine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace jitterbug
