// Our BIOS, booted from disk images: tests/guests/flat/bios_services.asm
// (a boot program that calls INT 10h, 11h, 12h, 13h, 15h, 16h and 1Ah and
// reports each answer on COM1 by itself) from the ATA master and from a
// floppy, with keys typed on the PS/2 keyboard, in deterministic mode on
// every backend; and the boot order.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "support/guest.hpp"

using namespace jitterbug;

namespace {

// What the boot program prints from its hard disk (a 1 MiB image) after the
// BIOS's greeting: the lines that follow its drive's geometry are the same
// on any PC BIOS (tested against SeaBIOS), but the E820 map, INT 11h, 15h
// C0h/E801h and the cursor shape, which are this machine's and this BIOS's.
const char* const kHardDiskReport = R"(bios: boot drive=80
bios: load chs cf=0 ah=00 al=07
bios: int13 08 params cf=0 ah=00 max_cyl=0000 max_head=0F max_sector=3F drives=01
bios: int13 41 extensions cf=0 ah=30 bx=AA55 cx=0005
bios: int13 02 read cf=0 ah=00 al=07
bios: int13 02 sector2 sum=3380 expected=yes
bios: int13 42 read cf=0 ah=00 count=0007
bios: int13 42 sector2 sum=3380 expected=yes
bios: int13 02/42 same=yes
bios: int13 48 params cf=0 ah=00 size=001A sectors=00000800 bytes_per_sector=0200
bios: int13 03 write cf=0 ah=00 al=01
bios: int13 02 readback cf=0 ah=00 al=01 same=yes
bios: int13 04 verify cf=0 ah=00 al=01
bios: int13 02 sector0 cf=1 ah=01
bios: int13 01 status cf=1 ah=01
bios: int13 02 head_beyond cf=1 ah=01
bios: int13 01 status cf=1 ah=01
bios: int13 00 reset cf=0 ah=00
bios: int13 01 status cf=0 ah=00
bios: int13 15 type cf=0 ah=03 sectors=000003F0
bios: e820 base=0000000000000000 length=000000000009FC00 type=00000001
bios: e820 base=000000000009FC00 length=0000000000000400 type=00000002
bios: e820 base=00000000000F0000 length=0000000000010000 type=00000002
bios: e820 base=0000000000100000 length=0000000003F00000 type=00000001
bios: e820 base=00000000FFFF0000 length=0000000000010000 type=00000002
bios: e820 entries=0005
bios: int15 e801 cf=0 ax=3C00 bx=0300 cx=3C00 dx=0300
bios: int15 88 extended cf=0 ax=FC00
bios: int15 c0 config cf=0 ah=00 model=FC submodel=01 revision=00 feature1=74
bios: int11 equipment=0822
bios: int12 base_kib=027F
bios: int15 2402 status cf=0 ah=00 al=01
bios: a20 memory wraps=no
bios: int15 2400 disable cf=0 ah=00
bios: int15 2402 status cf=0 ah=00 al=00
bios: a20 memory wraps=yes
bios: int15 2401 enable cf=0 ah=00
bios: int15 2402 status cf=0 ah=00 al=01
bios: a20 memory wraps=no
bios: int15 2403 support cf=0 ah=00 bx=0003
bios: int15 86 wait cf=0
bios: int1a 00 ticks ok
bios: int1a 02 time cf=0 00:00:00
bios: int1a 04 date cf=0 2025-01-01
bios: int10 0f mode=03 columns=50 page=00
bios: int10 03 boot cursor row=03 col=00 shape=0D0E
bios: int10 03 cursor row=05 col=0A
HELLObios: int10 03 cursor row=0A col=05
bios: int10 08 cell row=0A col=01 char=45 attr=1E expected=yes

bios: int10 03 cursor row=0B col=00
bios: int10 08 cell row=0B col=02 char=58 attr=4F expected=yes
bios: int10 08 cell row=0B col=03 char=20 attr=07 expected=yes
bios: int10 08 cell row=0A col=00 char=58 attr=4F expected=yes
bios: int10 08 cell row=0A col=03 char=20 attr=07 expected=yes

bios: int10 08 cell row=0B col=00 char=20 attr=17 expected=yes
bios: int16 01 empty=yes
bios: int16 02 shift=00
bios: press a key
bios: int16 00 scan=1E ascii=61
bios: press a key
bios: int16 00 scan=30 ascii=42
bios: press a key
bios: int16 00 scan=1C ascii=0D
bios: int16 01 empty=yes
bios: done
)";

// The floppy's lines where they differ (1.44 MiB: 80 cylinders, 2 heads, 18
// sectors; no extensions, no change line; one floppy drive in INT 11h).
const std::map<std::string, std::string> kFloppyDifferences = {
    {"bios: boot drive=80", "bios: boot drive=00"},
    {"bios: int13 08 params cf=0 ah=00 max_cyl=0000 max_head=0F max_sector=3F drives=01",
     "bios: int13 08 params cf=0 ah=00 max_cyl=004F max_head=01 max_sector=12 drives=01 type=04"},
    {"bios: int13 41 extensions cf=0 ah=30 bx=AA55 cx=0005",
     "bios: int13 41 extensions cf=1 ah=01"},
    {"bios: int13 42 read cf=0 ah=00 count=0007", "bios: int13 42 skipped"},
    {"bios: int13 42 sector2 sum=3380 expected=yes", ""},
    {"bios: int13 02/42 same=yes", ""},
    {"bios: int13 48 params cf=0 ah=00 size=001A sectors=00000800 bytes_per_sector=0200",
     "bios: int13 48 skipped"},
    {"bios: int13 15 type cf=0 ah=03 sectors=000003F0", "bios: int13 15 type cf=0 ah=01"},
    {"bios: int11 equipment=0822", "bios: int11 equipment=0823"},
};

std::string floppy_report() {
    std::string out;
    std::string text = kHardDiskReport;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = text.find('\n', start);
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        const auto it = kFloppyDifferences.find(line);
        if (it == kFloppyDifferences.end()) {
            out += line + "\n";
        } else if (!it->second.empty()) {
            out += it->second + "\n";
        }
    }
    return out;
}

std::string without_cr(const std::string& s) {
    std::string out;
    for (char c : s)
        if (c != '\r') out += c;
    return out;
}

// An image file of a guest program (build/guests/flat_<program>.bin),
// padded to `size` bytes.
std::filesystem::path program_image(const std::string& name, std::uint64_t size,
                                    const std::string& program = "bios_services") {
    std::ifstream in(test::guest_path("flat_" + program + ".bin"), std::ios::binary);
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    REQUIRE(!bytes.empty());
    bytes.resize(size, '\0');
    const std::filesystem::path path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

struct Run {
    RunResult result;
    std::string serial;
    std::string screen;
};

// Runs `config` (deterministic) and types `keys`, one at each prompt.
Run run_program(MachineConfig config, const std::string& keys) {
    Run run;
    Machine* machine = nullptr;
    std::size_t prompts = 0;
    std::size_t scanned = 0;
    config.deterministic = true;
    config.serial_output = [&](std::span<const std::uint8_t> bytes) {
        run.serial.append(bytes.begin(), bytes.end());
        const std::string prompt = "bios: press a key";
        for (std::size_t at; (at = run.serial.find(prompt, scanned)) != std::string::npos;) {
            scanned = at + prompt.size();
            if (prompts < keys.size()) machine->send_keys(keys.substr(prompts, 1));
            ++prompts;
        }
    };
    Result<Machine> m = Machine::create(std::move(config));
    REQUIRE(m.ok());
    machine = &*m;
    run.result = m->run();
    run.screen = m->screen_text();
    return run;
}

const std::string kGreeting = "jitterbug: firmware ok\njitterbug: RAM 65536 KiB\n";

}  // namespace

TEST_SUITE("guests") {
    TEST_CASE(
        "a boot program of ours gets the BIOS's disk and memory and keyboard and clock and video "
        "services") {
        const std::filesystem::path hd = program_image("jitterbug-bios-hd.img", 1 << 20);
        const std::filesystem::path fd = program_image("jitterbug-bios-fd.img", 1474560);
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            {
                MachineConfig config;
                config.backend = backend;
                config.disks = {{hd, false}};
                const Run run = run_program(std::move(config), "aB\n");
                CHECK(without_cr(run.serial) ==
                      kGreeting + "jitterbug: booting from the hard disk\n" + kHardDiskReport);
                CHECK(run.result.reason == StopReason::Halted);
            }
            {
                MachineConfig config;
                config.backend = backend;
                config.floppies = {{fd, false}};
                const Run run = run_program(std::move(config), "aB\n");
                CHECK(without_cr(run.serial) ==
                      kGreeting + "jitterbug: booting from the floppy disk\n" + floppy_report());
                CHECK(run.result.reason == StopReason::Halted);
            }
        }
        std::filesystem::remove(hd);
        std::filesystem::remove(fd);
    }

    TEST_CASE("the BIOS boots the floppy first unless told the hard disk") {
        const std::filesystem::path hd = program_image("jitterbug-order-hd.img", 1 << 20);
        const std::filesystem::path fd = program_image("jitterbug-order-fd.img", 737280);
        for (BootOrder order : {BootOrder::FloppyFirst, BootOrder::HardDiskFirst}) {
            CAPTURE(order == BootOrder::FloppyFirst);
            MachineConfig config;
            config.backend = default_backend();
            config.disks = {{hd, false}};
            config.floppies = {{fd, false}};
            config.boot = order;
            const Run run = run_program(std::move(config), "aB\n");
            const bool floppy = order == BootOrder::FloppyFirst;
            CHECK(run.serial.find(floppy ? "bios: boot drive=00\r\n" : "bios: boot drive=80\r\n") !=
                  std::string::npos);
            // (A 720 KiB floppy: 9 sectors a track.)
            if (floppy) {
                CHECK(run.serial.find("max_cyl=004F max_head=01 max_sector=09 drives=01 type=03") !=
                      std::string::npos);
            }
            CHECK(run.serial.find("bios: done") != std::string::npos);
        }
        std::filesystem::remove(hd);
        std::filesystem::remove(fd);
    }

    TEST_CASE("a floppy read into the BIOS ROM fails with a controller error and leaves it alone") {
        const std::filesystem::path fd =
            program_image("jitterbug-rom-fd.img", 1474560, "floppy_rom");
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            MachineConfig config;
            config.backend = backend;
            config.floppies = {{fd, false}};
            const Run run = run_program(std::move(config), "");
            CHECK(run.result.reason == StopReason::GuestExit);
            CHECK(run.result.exit_status == ((0x20 << 1) | 1));
        }
        std::filesystem::remove(fd);
    }

    TEST_CASE("keys typed faster than a program reads them wait for room instead of being lost") {
        const std::filesystem::path hd = program_image("jitterbug-typing.img", 65536, "typing");
        const std::string line = "the quick brown fox jumps over the lazy dog 0123456789!";
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            MachineConfig config;
            config.backend = backend;
            config.disks = {{hd, false}};
            Run run;
            Machine* machine = nullptr;
            config.deterministic = true;
            config.serial_output = [&](std::span<const std::uint8_t> bytes) {
                run.serial.append(bytes.begin(), bytes.end());
                if (run.serial.ends_with("typing: ready\r\n")) machine->send_keys(line + "\n");
            };
            Result<Machine> m = Machine::create(std::move(config));
            REQUIRE(m.ok());
            machine = &*m;
            run.result = m->run();
            CHECK(run.serial.ends_with("typing: ready\r\n" + line + "\r\n"));
            CHECK(run.result.reason == StopReason::Halted);
        }
        std::filesystem::remove(hd);
    }

    TEST_CASE("INT 15h AH=87h moves a block above 1 MiB and back with A20 turned on for it") {
        const std::filesystem::path hd = program_image("jitterbug-move.img", 65536, "move_block");
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            MachineConfig config;
            config.backend = backend;
            config.disks = {{hd, false}};
            const Run run = run_program(std::move(config), "");
            CHECK(run.result.reason == StopReason::GuestExit);
            CHECK(run.result.exit_status == ((0x11 << 1) | 1));
        }
        std::filesystem::remove(hd);
    }

    TEST_CASE("a floppy image must have a floppy's size") {
        const std::filesystem::path odd = program_image("jitterbug-odd-fd.img", 1000000);
        MachineConfig config;
        config.floppies = {{odd, false}};
        Result<Machine> m = Machine::create(std::move(config));
        REQUIRE_FALSE(m.ok());
        CHECK(m.error().message.find("no floppy's size") != std::string::npos);
        std::filesystem::remove(odd);
    }
}
