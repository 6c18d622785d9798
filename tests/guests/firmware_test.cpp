// The embedded firmware boots on every backend and prints exactly its lines.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/guest.hpp"

using namespace jitterbug;

TEST_SUITE("guests") {
    TEST_CASE("the firmware prints its greeting and the RAM size and then halts") {
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            const test::GuestRun run = test::run_guest(backend);
            CHECK(run.serial ==
                  "jitterbug: firmware ok\r\njitterbug: RAM 65536 KiB\r\n"
                  "jitterbug: no bootable disk\r\n");
            CHECK(run.result.reason == StopReason::Halted);
            CHECK(run.result.exit_status == 0);
            CHECK(run.stats.guest_instructions > 100);
            CHECK(run.stats.blocks_translated > 0);
        }
    }

    TEST_CASE("the firmware reports the RAM size the CMOS gives it") {
        struct Case {
            std::uint64_t bytes;
            const char* line;
        };
        const Case cases[] = {
            {std::uint64_t{1} << 20, "jitterbug: RAM 1024 KiB\r\n"},
            {std::uint64_t{15} << 20, "jitterbug: RAM 15360 KiB\r\n"},
            {std::uint64_t{16} << 20, "jitterbug: RAM 16384 KiB\r\n"},
            {(std::uint64_t{16} << 20) + 65536, "jitterbug: RAM 16448 KiB\r\n"},
            {std::uint64_t{3} << 30, "jitterbug: RAM 3145728 KiB\r\n"},
        };
        for (Backend backend : test::backends()) {
            for (const Case& c : cases) {
                CAPTURE(to_string(backend));
                CAPTURE(c.bytes);
                const test::GuestRun run = test::run_guest(backend, {}, {}, c.bytes);
                CHECK(run.serial == std::string("jitterbug: firmware ok\r\n") + c.line +
                                        "jitterbug: no bootable disk\r\n");
            }
        }
    }

    TEST_CASE("the firmware boots the ATA master's boot sector and refuses one without 0x55AA") {
        std::ifstream in(test::guest_path("flat_boot_sector.bin"), std::ios::binary);
        std::string sector(std::istreambuf_iterator<char>(in), {});
        REQUIRE(sector.size() == 512);
        const std::filesystem::path disk =
            std::filesystem::temp_directory_path() / "jitterbug-boot-test.img";
        const std::string greeting = "jitterbug: firmware ok\r\njitterbug: RAM 65536 KiB\r\n";
        std::string scrolls;
        for (int i = 0; i < 30; ++i)
            scrolls += "scroll\r\n";
        for (bool bootable : {true, false}) {
            std::string image = sector + std::string(3 * 512, '\0');
            if (!bootable) image[511] = 0;  // no signature
            std::ofstream(disk, std::ios::binary) << image;
            for (Backend backend : test::backends()) {
                CAPTURE(to_string(backend));
                CAPTURE(bootable);
                std::string serial;
                MachineConfig config;
                config.backend = backend;
                config.disks = {{disk, false}};
                config.serial_output = [&](std::span<const std::uint8_t> b) {
                    serial.append(b.begin(), b.end());
                };
                Result<Machine> machine = Machine::create(std::move(config));
                REQUIRE(machine.ok());
                const RunResult result = machine->run();
                if (!bootable) {
                    CHECK(serial == greeting +
                                        "jitterbug: no boot signature (55AA) in sector 0\r\n"
                                        "jitterbug: no bootable disk\r\n");
                    CHECK(result.reason == StopReason::Halted);
                    continue;
                }
                // INT 10h's teletype writes both to COM1 and to the screen,
                // which scrolled: 24 "scroll" rows, then the last line.
                CHECK(serial == greeting + "jitterbug: booting from the hard disk\r\n" + scrolls +
                                    "boot sector: DL=80");
                CHECK(result.exit_status == ((0x42 << 1) | 1));
                std::string screen;
                for (int i = 0; i < 24; ++i)
                    screen += "scroll\n";
                CHECK(machine->screen_text() == screen + "boot sector: DL=80\n");
            }
        }
        std::filesystem::remove(disk);
    }
}
