// The flagship guest: Debian 12's own i386 kernel (linux-image-686) with an
// initramfs of Debian's busybox-static and tests/guests/linux/init, booted
// by the Linux boot protocol in deterministic mode, to its shell commands
// and a clean power-off. scripts/fetch-guests fetches them (scripts/test
// runs it); without them the test says it skipped.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "jitterbug/jitterbug.hpp"
#include "machine/linux_boot.hpp"
#include "support/bare_cpu.hpp"
#include "support/guest.hpp"

using namespace jitterbug;

using test::has;

namespace {

std::filesystem::path linux_guest_dir() {
    if (const char* dir = std::getenv("JITTERBUG_LINUX_GUEST")) return dir;
    return std::filesystem::path(JITTERBUG_SOURCE_DIR) / "build" / "guests" / "linux";
}

struct Boot {
    RunResult result;
    std::string serial;
    RunStatistics stats;
};

// One line typed at the shell when `prompt_count` prompts have been seen.
struct Typed {
    unsigned prompt_count;
    std::string line;
};

// Boots with `cmdline` in deterministic mode; `typed` lines go to COM1 as
// the shell's prompts ("/ # ") appear, as a user would type them.
Boot boot(Backend backend, const std::filesystem::path& dir, std::string_view cmdline,
          std::vector<Typed> typed = {}) {
    Boot b;
    Machine* running = nullptr;
    unsigned prompts = 0;
    std::size_t scanned = 0;
    MachineConfig config;
    config.backend = backend;
    config.deterministic = true;
    config.memory_bytes = std::uint64_t{256} << 20;
    config.serial_output = [&](std::span<const std::uint8_t> bytes) {
        b.serial.append(bytes.begin(), bytes.end());
        for (std::size_t at; (at = b.serial.find("/ # ", scanned)) != std::string::npos;) {
            scanned = at + 4;
            ++prompts;
            for (const Typed& t : typed) {
                if (t.prompt_count == prompts) {
                    running->send_serial(
                        {reinterpret_cast<const std::uint8_t*>(t.line.data()), t.line.size()});
                }
            }
        }
    };
    Result<Machine> machine = Machine::create(std::move(config));
    REQUIRE(machine.ok());
    running = &*machine;
    const Result<void> loaded =
        machine->load_linux(dir / "vmlinuz", dir / "initramfs.cpio.gz", cmdline);
    REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
    b.result = machine->run();
    b.stats = machine->statistics();
    return b;
}

bool have_guest(const std::filesystem::path& dir) {
    if (std::filesystem::exists(dir / "vmlinuz") &&
        std::filesystem::exists(dir / "initramfs.cpio.gz"))
        return true;
    MESSAGE("skipped: no Linux guest in " << dir.string() << " (run scripts/fetch-guests)");
    return false;
}

// What the init script reports before its shell or its power-off.
void check_init_report(const Boot& b) {
    CHECK(has(b.serial, "jitterbug-init: up"));
    CHECK(has(b.serial, "uname-m: i686\r\n"));
    CHECK(has(b.serial, "cpu-model: jitterbug virtual P6 processor\r\n"));
    // md5sum of "jitterbug was here\n" and a double sum by busybox's awk on
    // the x87: what the host computes for the same.
    CHECK(has(b.serial, "md5: 9f6804c4d2e0336c1963f91c3bd602cd\r\n"));
    CHECK(has(b.serial, "basel-1000: 1.643934566682\r\n"));
}

}  // namespace

TEST_SUITE("linux") {
    TEST_CASE("Debian's i386 kernel boots with console=ttyS0 and runs its init and powers off") {
        const std::filesystem::path dir = linux_guest_dir();
        if (!have_guest(dir)) return;
        // 6.7 G guest instructions, 3.1 G of them the kernel's crypto
        // self-tests: about 10 s with the JIT, 150 s with the interpreter,
        // which boots it where the build has no JIT (CI's interpreter-only
        // build) or with JITTERBUG_LONG_TESTS set.
        for (Backend backend : test::long_run_backends()) {
            CAPTURE(to_string(backend));
            const Boot b = boot(backend, dir, "console=ttyS0");
            CHECK(has(b.serial, "Linux version 6."));
            CHECK(has(b.serial, "x86/fpu: x87 FPU will use FXSAVE"));
            // The RTC of a deterministic machine starts at 2025-01-01 00:00:00 UTC.
            CHECK(has(b.serial, "rtc_cmos rtc_cmos: setting system clock to 2025-01-01T00:00:"));
            // The devices as Linux finds them.
            CHECK(has(b.serial, "PCI: Using configuration type 1 for base access"));
            CHECK(has(b.serial, "pci 0000:00:00.0: [8086:1237] type 00 class 0x060000"));
            CHECK(has(b.serial, "pci 0000:00:01.0: [8086:7000] type 00 class 0x060100"));
            CHECK(has(b.serial, "ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A"));
            CHECK(has(b.serial, "ttyS1 at I/O 0x2f8 (irq = 3, base_baud = 115200) is a 16550A"));
            CHECK(has(b.serial, "serio: i8042 KBD port at 0x60,0x64 irq 1"));
            CHECK(has(b.serial, "input: AT Translated Set 2 keyboard"));
            check_init_report(b);
            CHECK(has(b.serial, "reboot: System halted"));
            CHECK(b.result.reason == StopReason::Halted);
            CHECK(b.result.exit_status == 0);
            MESSAGE(to_string(backend)
                    << ": " << b.stats.guest_instructions << " guest instructions in "
                    << b.stats.wall_seconds << " s");
        }
    }

    TEST_CASE("a user types commands at the busybox shell over the serial line") {
        const std::filesystem::path dir = linux_guest_dir();
        if (!have_guest(dir)) return;
        // Without the crypto self-tests and the ISA PnP scan (3.4 G
        // instructions), the boot is short enough for the interpreter too.
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            const Boot b =
                boot(backend, dir, "console=ttyS0 cryptomgr.notests=1 noisapnp jitterbug.shell",
                     {{1, "uname -a; grep -c ^processor /proc/cpuinfo\r"},
                      {2, "echo $((6 * 7)) > /tmp/answer; cat /tmp/answer\r"},
                      {3, "cat /sys/bus/pci/devices/0000:00:01.0/device\r"},
                      {4, "poweroff -f\r"}});
            check_init_report(b);
            CHECK(has(b.serial, "Linux (none) 6.1.0-"));
            CHECK(has(b.serial, " i686 GNU/Linux\r\n1\r\n"));
            CHECK(has(b.serial, "\r\n42\r\n"));
            CHECK(has(b.serial, "\r\n0x7000\r\n"));
            CHECK(has(b.serial, "reboot: System halted"));
            CHECK(b.result.reason == StopReason::Halted);
            MESSAGE(to_string(backend)
                    << ": " << b.stats.guest_instructions << " guest instructions in "
                    << b.stats.wall_seconds << " s");
        }
    }
}

// ---- The loader alone, on images made here ----

namespace {

// A bzImage skeleton: `setup_sects` sectors of setup after the boot
// sector, the header of protocol `version`, then `payload` bytes of
// "protected-mode kernel".
std::vector<std::uint8_t> make_image(std::uint16_t version, std::uint8_t loadflags = 0x01,
                                     unsigned setup_sects = 4, std::size_t payload = 0x1000) {
    std::vector<std::uint8_t> img((setup_sects + 1) * 512 + payload, 0x90);
    const auto put16 = [&](std::size_t at, std::uint16_t v) {
        img[at] = static_cast<std::uint8_t>(v);
        img[at + 1] = static_cast<std::uint8_t>(v >> 8);
    };
    const auto put32 = [&](std::size_t at, std::uint32_t v) {
        put16(at, static_cast<std::uint16_t>(v));
        put16(at + 2, static_cast<std::uint16_t>(v >> 16));
    };
    img[0x1F1] = static_cast<std::uint8_t>(setup_sects);
    put16(0x1FE, 0xAA55);
    img[0x200] = 0xEB;
    img[0x201] = 0x66;  // the header runs to 0x268
    put32(0x202, 0x53726448);
    put16(0x206, version);
    img[0x211] = loadflags;
    put32(0x214, 0x100000);
    put32(0x22C, 0x37FFFFFF);  // initrd_addr_max
    put32(0x238, 255);         // cmdline_size
    put32(0x260, 0x4000);      // init_size
    return img;
}

}  // namespace

TEST_SUITE("linux") {
    TEST_CASE(
        "the Linux loader builds the zero page and the 32-bit entry state of the boot protocol") {
        test::BareCpu m(cpu::BackendKind::Interpreter, 32 << 20);
        const std::vector<std::uint8_t> img = make_image(0x020F);
        const std::vector<std::uint8_t> initrd(10000, 0xAB);
        Result<machine::LinuxLoad> load =
            machine::load_linux(m.memory(), m.ram_size(), img, initrd, "console=ttyS0 quiet");
        REQUIRE(load.ok());
        const std::uint8_t* ram = m.ram();
        const auto get32 = [&](std::uint32_t at) {
            return static_cast<std::uint32_t>(ram[at] | ram[at + 1] << 8 | ram[at + 2] << 16 |
                                              static_cast<std::uint32_t>(ram[at + 3]) << 24);
        };
        const std::uint32_t zp = machine::kLinuxZeroPage;
        CHECK(ram[zp + 0x210] == 0xFF);                      // type_of_loader
        CHECK(get32(zp + 0x202) == 0x53726448);              // the header, copied
        CHECK(get32(zp + 0x228) == machine::kLinuxCmdline);  // cmd_line_ptr
        CHECK(std::string(reinterpret_cast<const char*>(ram + machine::kLinuxCmdline)) ==
              "console=ttyS0 quiet");
        CHECK(get32(zp + 0x21C) == 10000);  // ramdisk_size
        const std::uint32_t initrd_at = get32(zp + 0x218);
        CHECK(initrd_at % 4096 == 0);
        CHECK(initrd_at + 10000 <= (32u << 20));
        CHECK(initrd_at > (32u << 20) - 16384);  // as high as it goes
        CHECK(ram[initrd_at] == 0xAB);
        CHECK(ram[zp + 0x1E8] == 5);                    // e820 entries
        CHECK(get32(zp + 0x2D0 + 3 * 20) == 0x100000);  // the RAM above 1 MiB
        CHECK(get32(zp + 0x2D0 + 3 * 20 + 8) == (31u << 20));
        CHECK(ram[0x100000] == 0x90);  // the protected-mode kernel at code32_start
        const cpu::CpuState& st = load->entry_state;
        CHECK(st.eip == 0x100000);
        CHECK(st.reg(cpu::Gpr::Esi) == zp);
        CHECK(st.segment(cpu::SegReg::Cs).selector == 0x10);
        CHECK(st.segment(cpu::SegReg::Ds).selector == 0x18);
        CHECK((st.cr0 & cpu::cr0::PE) != 0);
        CHECK((st.eflags() & cpu::eflags::IF) == 0);
    }

    TEST_CASE("the Linux loader refuses what it cannot boot with a clear error") {
        test::BareCpu m(cpu::BackendKind::Interpreter, 32 << 20);
        const auto error = [&](const std::vector<std::uint8_t>& img, std::size_t initrd_size,
                               const std::string& cmdline) {
            const std::vector<std::uint8_t> initrd(initrd_size, 1);
            Result<machine::LinuxLoad> r =
                machine::load_linux(m.memory(), m.ram_size(), img, initrd, cmdline);
            return r.ok() ? std::string("loaded") : r.error().message;
        };
        CHECK(error(std::vector<std::uint8_t>(4096, 0), 0, "").find("not a Linux kernel image") !=
              std::string::npos);
        CHECK(error(make_image(0x0201), 0, "").find("2.02 or later") != std::string::npos);
        CHECK(error(make_image(0x020F, 0x00), 0, "").find("zImage") != std::string::npos);
        std::vector<std::uint8_t> truncated = make_image(0x020F);
        truncated.resize(0x400);
        CHECK(error(truncated, 0, "").find("truncated") != std::string::npos);
        CHECK(error(make_image(0x020F), 40 << 20, "").find("initrd") != std::string::npos);
        CHECK(error(make_image(0x020F), 0, std::string(300, 'x')).find("command line") !=
              std::string::npos);
        CHECK(error(make_image(0x020F, 0x01, 4, 64 << 20), 0, "").find("does not fit") !=
              std::string::npos);
    }
}
