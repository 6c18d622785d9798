// Real boot loaders on our BIOS, from Debian's packages, in deterministic
// mode: GRUB 2 (grub-pc-bin) from a hard disk, typed at from its menu and
// command line on the PS/2 keyboard, loads and boots the flagship Linux
// guest to its shell; SYSLINUX (syslinux) from a FAT partition boots it to
// its shell by its own configuration; memtest86+ boots from a floppy and tests memory. The images
// are made by scripts/make-boot-images (scripts/test runs it) into
// build/guests/boot; without them each test says it skipped.
//
// Each boot is a few seconds with the JIT; the interpreter's take a minute
// or more each, so they run where the build has no JIT (CI's
// interpreter-only build) or with JITTERBUG_LONG_TESTS set.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "jitterbug/jitterbug.hpp"
#include "support/guest.hpp"

using namespace jitterbug;

using test::has;

namespace {

std::filesystem::path boot_images() {
    if (const char* dir = std::getenv("JITTERBUG_BOOT_IMAGES")) return dir;
    return std::filesystem::path(JITTERBUG_SOURCE_DIR) / "build" / "guests" / "boot";
}

bool have_image(const std::filesystem::path& image) {
    if (std::filesystem::exists(image)) return true;
    MESSAGE("skipped: no " << image.string() << " (run scripts/make-boot-images)");
    return false;
}

// Something typed when COM1 has shown `after` (once per step, in order,
// each looked for after the previous step's text).
struct Step {
    std::string after;
    std::string keys;    // on the PS/2 keyboard
    std::string serial;  // on COM1
};

struct Session {
    RunResult result;
    std::string serial;
    std::string screen;
    std::size_t steps_done = 0;
    std::uint64_t instructions = 0;
};

// Runs `config` deterministically, typing `steps` as their cues appear;
// `on_screen` (if any) sees each new screen and may stop the machine.
Session run_session(MachineConfig config, const std::vector<Step>& steps,
                    std::function<bool(const std::string&)> stop_at_screen = {}) {
    Session s;
    Machine* machine = nullptr;
    std::size_t scanned = 0;
    config.deterministic = true;
    config.serial_output = [&](std::span<const std::uint8_t> bytes) {
        s.serial.append(bytes.begin(), bytes.end());
        while (s.steps_done < steps.size()) {
            const Step& step = steps[s.steps_done];
            const std::size_t at = s.serial.find(step.after, scanned);
            if (at == std::string::npos) break;
            scanned = at + step.after.size();
            if (!step.keys.empty()) machine->send_keys(step.keys);
            if (!step.serial.empty()) {
                machine->send_serial({reinterpret_cast<const std::uint8_t*>(step.serial.data()),
                                      step.serial.size()});
            }
            ++s.steps_done;
        }
    };
    if (stop_at_screen) {
        config.screen_changed = [&](const std::string& screen) {
            if (stop_at_screen(screen)) machine->request_stop();
        };
    }
    Result<Machine> m = Machine::create(std::move(config));
    REQUIRE(m.ok());
    machine = &*m;
    s.result = m->run();
    s.screen = m->screen_text();
    s.instructions = m->statistics().guest_instructions;
    return s;
}

// What the flagship guest's init reports before it powers off.
void check_linux_ran(const Session& s) {
    CHECK(has(s.serial, "Linux version 6."));
    CHECK(has(s.serial, "BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable"));
    CHECK(has(s.serial, "jitterbug-init: up"));
    CHECK(has(s.serial, "uname-m: i686\r\n"));
    CHECK(has(s.serial, "md5: 9f6804c4d2e0336c1963f91c3bd602cd\r\n"));
    CHECK(has(s.serial, "reboot: System halted"));
    CHECK(s.result.reason == StopReason::Halted);
    CHECK(s.result.exit_status == 0);
}

MachineConfig machine_with_disk(Backend backend, const std::filesystem::path& image) {
    MachineConfig config;
    config.backend = backend;
    config.memory_bytes = std::uint64_t{256} << 20;
    config.disks = {{image, false}};
    return config;
}

}  // namespace

TEST_SUITE("loaders") {
    TEST_CASE("GRUB from a hard disk takes commands typed at its command line and boots Linux") {
        const std::filesystem::path image = boot_images() / "grub.img";
        if (!have_image(image)) return;
        for (Backend backend : test::long_run_backends()) {
            CAPTURE(to_string(backend));
            // (The prompt's space is written only with what follows it.)
            const Session s = run_session(
                machine_with_disk(backend, image),
                {{"`c' for a command-line.", "c", ""},
                 {"grub>",
                  "linux /vmlinuz console=ttyS0 cryptomgr.notests=1 noisapnp jitterbug.shell\n",
                  ""},
                 {"grub>", "initrd /initramfs.cpio.gz\n", ""},
                 {"grub>", "boot\n", ""},
                 {"/ # ", "", "uname -r\n"},
                 {"/ # ", "", "poweroff -f\n"}});
            CHECK(s.steps_done == 6);
            CHECK(has(s.serial, "jitterbug: booting from the hard disk"));
            CHECK(has(s.serial, "GNU GRUB  version 2.06"));
            CHECK(has(s.serial, "*Linux (jitterbug guest)"));
            // What was typed, echoed by GRUB through INT 10h.
            CHECK(has(
                s.serial,
                "grub> linux /vmlinuz console=ttyS0 cryptomgr.notests=1 noisapnp jitterbug.shell"));
            CHECK(has(s.serial, "grub> initrd /initramfs.cpio.gz"));
            CHECK(has(s.serial,
                      "Kernel command line: BOOT_IMAGE=/vmlinuz console=ttyS0 cryptomgr.notests=1 "
                      "noisapnp jitterbug.shell"));
            // (The shell's answer to what was typed there.)
            CHECK(has(s.serial, "uname -r\r\n6.1.0-"));
            check_linux_ran(s);
        }
    }

    TEST_CASE("SYSLINUX from a FAT partition boots Linux by its configuration") {
        const std::filesystem::path image = boot_images() / "syslinux.img";
        if (!have_image(image)) return;
        for (Backend backend : test::long_run_backends()) {
            CAPTURE(to_string(backend));
            const Session s =
                run_session(machine_with_disk(backend, image), {{"/ # ", "", "poweroff -f\n"}});
            CHECK(s.steps_done == 1);
            CHECK(has(s.serial, "SYSLINUX 6.04 EDD"));
            CHECK(has(s.serial, "Loading /vmlinuz... ok"));
            CHECK(has(s.serial, "Loading /initramfs.cpio.gz...ok"));
            CHECK(has(s.serial,
                      "Kernel command line: BOOT_IMAGE=/vmlinuz initrd=/initramfs.cpio.gz "
                      "console=ttyS0"));
            check_linux_ran(s);
        }
    }

    TEST_CASE("memtest86+ boots from a floppy and tests memory without errors") {
        const std::filesystem::path image = boot_images() / "memtest.img";
        if (!have_image(image)) return;
        for (Backend backend : test::long_run_backends()) {
            CAPTURE(to_string(backend));
            MachineConfig config;
            config.backend = backend;
            config.floppies = {{image, false}};
            // A bounded run (its bit fade test alone waits 160 s): until it
            // has started its sixth test with the JIT (8.7 G instructions,
            // 6 s), its fourth with the interpreter (3.3 G, 70 s).
            const std::string until = backend == Backend::Jit ? "Test #5 " : "Test #3 ";
            const Session s = run_session(std::move(config), {}, [&](const std::string& screen) {
                return has(screen, until);
            });
            MESSAGE(s.instructions << " instructions; the screen:\n" << s.screen);
            CHECK(s.result.reason == StopReason::StopRequested);
            CHECK(has(s.serial, "jitterbug: booting from the floppy disk"));
            CHECK(has(s.screen, "Memtest86+ v6.10"));
            CHECK(has(s.screen, "jitterbug virtual P6 processor"));
            // (From CPUID.2's descriptors: 16 + 16 KiB L1, 512 KiB L2.)
            CHECK(has(s.screen, "L1 Cache:   32KB"));
            CHECK(has(s.screen, "L2 Cache:  512KB"));
            CHECK(has(s.screen, "Memory  :   64MB"));
            CHECK(has(s.screen, until));
            CHECK(has(s.screen, "Status: Testing"));
            CHECK(has(s.screen, "Errors: 0"));
        }
    }
}
