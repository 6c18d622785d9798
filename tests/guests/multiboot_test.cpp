// Multiboot v1 kernels load like qemu-system-i386 -kernel loads them.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "support/guest.hpp"

using namespace jitterbug;

TEST_SUITE("guests") {
    TEST_CASE("a multiboot kernel sees the magic and its command line and the memory map") {
        const std::string expected =
            "magic 0x2badb002\r\n"
            "flags 0x0000024d\r\n"
            "mem_lower 640\r\n"
            "mem_upper 31744\r\n"
            "cmdline 'console=ttyS0 answer=42'\r\n"
            "loader 'jitterbug'\r\n"
            "mmap 0x000000000x00000000 0x000000000x0009fc00 1\r\n"
            "mmap 0x000000000x0009fc00 0x000000000x00000400 2\r\n"
            "mmap 0x000000000x000f0000 0x000000000x00010000 2\r\n"
            "mmap 0x000000000x00100000 0x000000000x01f00000 1\r\n"
            "mmap 0x000000000xffff0000 0x000000000x00010000 2\r\n";
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            const test::GuestRun run =
                test::run_guest(backend, test::guest_path("multiboot_info.elf"),
                                "console=ttyS0 answer=42", 32u << 20);
            CHECK(run.serial == expected);
            CHECK(run.result.reason == StopReason::GuestExit);
            CHECK(run.result.exit_status == ((0x21 << 1) | 1));
        }
    }

    TEST_CASE("loading a file that is not a multiboot kernel fails with a clear error") {
        Result<Machine> machine = Machine::create({});
        REQUIRE(machine.ok());
        const std::uint8_t junk[64] = {0x7F, 'E', 'L', 'F'};
        Result<void> r = machine->load_multiboot(junk, "");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("no multiboot header") != std::string::npos);

        r = machine->load_multiboot(std::filesystem::path("/nonexistent/kernel.elf"), "");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("cannot open") != std::string::npos);
    }

    TEST_CASE("a kernel that does not fit in RAM is refused") {
        // The workloads kernel needs more than the 1 MiB below the hole.
        MachineConfig config;
        config.memory_bytes = 1u << 20;
        Result<Machine> machine = Machine::create(config);
        REQUIRE(machine.ok());
        const Result<void> r = machine->load_multiboot(test::guest_path("workloads.elf"), "");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("does not fit") != std::string::npos);
    }
}
