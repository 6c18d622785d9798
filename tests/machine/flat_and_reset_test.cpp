// Flat binaries (real and protected mode, registers at entry, the
// loader's refusals) and the machine's reset path: the keyboard
// controller's pulse, port 0x92 and port 0xCF9 end the run, or with
// MachineConfig::reboot restart the machine with the program loaded again
// and RAM and CMOS kept.
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "jitterbug/jitterbug.hpp"
#include "support/guest.hpp"

using namespace jitterbug;

namespace {

std::vector<std::uint8_t> read_guest(const char* name) {
    std::ifstream in(test::guest_path(name), std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct FlatRun {
    RunResult result;
    RunStatistics stats;
    std::string serial;
};

// A boot sector's start: real mode at 0000:7C00, the stack below it.
FlatBinary boot_sector_layout() {
    FlatBinary layout;
    layout.load_address = 0x7C00;
    layout.entry = 0x7C00;
    layout.real_mode = true;
    layout.registers[4] = 0x7000;  // ESP
    return layout;
}

// Runs `image` on a deterministic 16 MiB machine configured further by
// `configure`; `before` sees the machine before the run; `after` after it.
FlatRun run_flat(Backend backend, const std::vector<std::uint8_t>& image, const FlatBinary& layout,
                 bool reboot, const std::function<void(MachineConfig&)>& configure = {},
                 const std::function<void(Machine&)>& before = {},
                 const std::function<void(Machine&)>& after = {}) {
    FlatRun run;
    MachineConfig config;
    config.backend = backend;
    config.memory_bytes = 16u << 20;
    config.reboot = reboot;
    config.deterministic = true;
    config.serial_output = [&](std::span<const std::uint8_t> b) {
        run.serial.append(b.begin(), b.end());
    };
    if (configure) configure(config);
    Result<Machine> machine = Machine::create(std::move(config));
    REQUIRE(machine.ok());
    const Result<void> loaded = machine->load_flat(image, layout);
    REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
    if (before) before(*machine);
    run.result = machine->run();
    run.stats = machine->statistics();
    if (after) after(*machine);
    return run;
}

}  // namespace

TEST_SUITE("machine") {
    TEST_CASE("a protected-mode flat binary starts with the registers given") {
        const std::vector<std::uint8_t> image = read_guest("flat_protected.bin");
        FlatBinary layout;
        layout.load_address = 0x200000;
        layout.entry = 0x200000;
        layout.registers = {'a', 'c', 'd', 'b', 0x300000, 'p', 's', 'i'};
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            const FlatRun run = run_flat(backend, image, layout, false);
            CHECK(run.serial == "acdbpsi");
            CHECK(run.result.reason == StopReason::GuestExit);
            CHECK(run.result.exit_status == ((0x2A << 1) | 1));
        }
    }

    TEST_CASE("a guest reset ends the run unless the machine reboots") {
        const std::vector<std::uint8_t> image = read_guest("flat_reset.bin");
        FlatBinary layout = boot_sector_layout();
        layout.registers[3] = 'R';  // EBX
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            // The keyboard controller's reset pulse ends the run.
            const FlatRun once = run_flat(backend, image, layout, false);
            CHECK(once.result.reason == StopReason::Reset);
            CHECK(once.result.exit_status == 0);
            CHECK(once.serial == "R");
            CHECK(once.stats.reboots == 0);
            // Rebooting: the keyboard controller, port 0x92, then 0xCF9,
            // each boot counted in CMOS, the program loaded again each time.
            const FlatRun four = run_flat(backend, image, layout, true);
            CHECK(four.result.reason == StopReason::GuestExit);
            CHECK(four.result.exit_status == ((4 << 1) | 1));
            CHECK(four.serial == "RRRR");
            CHECK(four.stats.reboots == 3);
        }
    }

    TEST_CASE("what a guest writes to the VGA text buffer is on the screen and in the screenshot") {
        const std::vector<std::uint8_t> image = read_guest("flat_vga.bin");
        const std::filesystem::path png =
            std::filesystem::temp_directory_path() / "jitterbug-vga-test.png";
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            std::string screen;
            const FlatRun run =
                run_flat(backend, image, boot_sector_layout(), false, {}, {}, [&](Machine& m) {
                    screen = m.screen_text();
                    REQUIRE(m.save_screenshot(png).ok());
                });
            REQUIRE(run.result.exit_status == 3);
            CHECK(screen == "jitterbug VGA\n\u2554\u2550\u2557 box\n");
            // A PNG of 720x400: the signature and the IHDR's width and height.
            std::ifstream in(png, std::ios::binary);
            std::vector<std::uint8_t> head(24);
            in.read(reinterpret_cast<char*>(head.data()), 24);
            CHECK(head[1] == 'P');
            CHECK(head[2] == 'N');
            CHECK(head[3] == 'G');
            CHECK((head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19]) == 720);
            CHECK((head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23]) == 400);
            std::filesystem::remove(png);
        }
    }

    TEST_CASE("keys typed on the host reach a guest polling the keyboard controller") {
        const std::vector<std::uint8_t> image = read_guest("flat_keyboard.bin");
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            const FlatRun run = run_flat(backend, image, boot_sector_layout(), false, {},
                                         [](Machine& m) { m.send_keys("Hi\n"); });
            CHECK(run.result.exit_status == 3);
            // Set 1 (translated): Shift down, H down and up, Shift up, I down
            // and up, Enter down and up.
            CHECK(run.serial == "2A 23 A3 AA 17 97 1C 9C ");
        }
    }

    TEST_CASE("a guest reads and writes a disk image through the ATA channel") {
        const std::vector<std::uint8_t> image = read_guest("flat_ata.bin");
        const std::filesystem::path disk =
            std::filesystem::temp_directory_path() / "jitterbug-ata-test.img";
        std::string contents(4 * 512, '\0');
        contents.replace(0, 8, "bootsect");
        const auto file_text = [&] {
            std::ifstream in(disk, std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(in), {});
        };
        for (Backend backend : test::backends()) {
            for (bool writable : {false, true}) {
                CAPTURE(to_string(backend));
                CAPTURE(writable);
                std::ofstream(disk, std::ios::binary) << contents;
                const FlatRun run =
                    run_flat(backend, image, boot_sector_layout(), false, [&](MachineConfig& c) {
                        c.disks = {{disk, writable}};
                    });
                CHECK(run.result.exit_status == 3);
                // The write is read back either way; only a writable disk's
                // file changes.
                CHECK(run.serial == "bootsectwritten!");
                CHECK(file_text().substr(512, 8) == (writable ? "written!" : std::string(8, '\0')));
            }
        }
        std::filesystem::remove(disk);

        MachineConfig missing;
        missing.disks = {{"/nonexistent/disk.img", false}};
        const Result<Machine> m1 = Machine::create(missing);
        REQUIRE_FALSE(m1.ok());
        CHECK(m1.error().message.find("/nonexistent/disk.img") != std::string::npos);
        MachineConfig three;
        three.disks = {{disk, false}, {disk, false}, {disk, false}};
        const Result<Machine> m3 = Machine::create(three);
        REQUIRE_FALSE(m3.ok());
        CHECK(m3.error().message.find("at most two disks") != std::string::npos);
    }

    TEST_CASE("tiers change nothing the guest sees: interpreted then compiled blocks") {
        if (!jit_available()) return;
        // The workloads and the self-modifying guest, deterministic, with the
        // JIT compiling every block at once and with tiers.
        for (const char* guest : {"workloads.elf", "self_modifying.elf"}) {
            CAPTURE(guest);
            test::GuestRun runs[2];
            for (bool tiering : {false, true}) {
                MachineConfig config;
                config.backend = Backend::Jit;
                config.deterministic = true;
                config.optimizations.tiering = tiering;
                runs[tiering] =
                    test::run_guest(std::move(config), test::guest_path(guest), "scale=1");
            }
            CHECK(runs[1].serial == runs[0].serial);
            CHECK(runs[1].result.exit_status == runs[0].result.exit_status);
            CHECK(runs[1].stats.guest_instructions == runs[0].stats.guest_instructions);
            CHECK(runs[0].stats.blocks_compiled == runs[0].stats.blocks_translated);
            // With tiers only the blocks that ran 8 times were compiled (and
            // translated a second time for it).
            CHECK(runs[1].stats.blocks_compiled > 0);
            CHECK(runs[1].stats.blocks_compiled < runs[0].stats.blocks_compiled);
        }
    }

    TEST_CASE("the flat loader refuses what does not fit with a clear error") {
        Result<Machine> machine = Machine::create({});  // 64 MiB
        REQUIRE(machine.ok());
        const std::vector<std::uint8_t> code(64, 0x90);
        const auto refused = [&](const FlatBinary& layout, std::span<const std::uint8_t> image,
                                 const char* words) {
            const Result<void> r = machine->load_flat(image, layout);
            REQUIRE_FALSE(r.ok());
            CHECK_MESSAGE(r.error().message.find(words) != std::string::npos, r.error().message);
        };
        FlatBinary layout;
        refused(layout, {}, "empty");
        layout.load_address = 0xA0000 - 32;  // into the hole
        refused(layout, code, "does not fit");
        layout.load_address = 64u << 20;  // past the end of RAM
        refused(layout, code, "does not fit");
        layout.load_address = 0x4F0;  // over the GDT at 0x500
        refused(layout, code, "GDT");
        layout = FlatBinary{};
        layout.real_mode = true;
        layout.load_address = 0x100000;
        refused(layout, code, "below 0xA0000");
        layout.load_address = 0x7C00;
        layout.entry = 0xB0000;
        refused(layout, code, "entry");
        const Result<void> missing =
            machine->load_flat(std::filesystem::path("/nonexistent/flat.bin"), layout);
        REQUIRE_FALSE(missing.ok());
        CHECK(missing.error().message.find("cannot open flat binary") != std::string::npos);
    }
}
