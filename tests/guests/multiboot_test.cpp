// Multiboot v1 kernels load like qemu-system-i386 -kernel loads them.
#include <doctest/doctest.h>

#include <filesystem>
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
            "mods 0\r\n"
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

    TEST_CASE("a multiboot kernel finds its modules page-aligned with their strings") {
        const std::filesystem::path dir = std::filesystem::temp_directory_path();
        const std::filesystem::path first = dir / "jitterbug-module-one.txt";
        const std::filesystem::path second = dir / "jitterbug-module-two.bin";
        std::ofstream(first, std::ios::binary) << "module number one";
        std::ofstream(second, std::ios::binary) << std::string(5000, 'z');
        const std::filesystem::path modules[] = {first, second};
        for (Backend backend : test::backends()) {
            CAPTURE(to_string(backend));
            std::string serial;
            MachineConfig config;
            config.backend = backend;
            config.memory_bytes = 32u << 20;
            config.serial_output = [&](std::span<const std::uint8_t> b) {
                serial.append(b.begin(), b.end());
            };
            Result<Machine> machine = Machine::create(std::move(config));
            REQUIRE(machine.ok());
            REQUIRE(
                machine->load_multiboot(test::guest_path("multiboot_info.elf"), "", modules).ok());
            CHECK(machine->run().exit_status == ((0x21 << 1) | 1));
            CHECK(serial.find("mods 2\r\nmod '" + first.string() +
                              "' size 17 aligned 'module n'\r\nmod '" + second.string() +
                              "' size 5000 aligned 'zzzzzzzz'\r\n") != std::string::npos);
        }
        // The CLI's way: a multiboot kernel's --initrd is its one module.
        Result<Machine> machine = Machine::create({});
        REQUIRE(machine.ok());
        REQUIRE(machine->load_kernel(test::guest_path("multiboot_info.elf"), first, "").ok());
        // A module too big for RAM is refused.
        MachineConfig small;
        small.memory_bytes = 2u << 20;
        Result<Machine> tiny = Machine::create(small);
        REQUIRE(tiny.ok());
        const std::vector<std::uint8_t> huge(3u << 20, 1);
        const MultibootModule big[] = {{huge, "huge"}};
        std::ifstream in(test::guest_path("multiboot_info.elf"), std::ios::binary);
        const std::vector<std::uint8_t> kernel((std::istreambuf_iterator<char>(in)),
                                               std::istreambuf_iterator<char>());
        const Result<void> r = tiny->load_multiboot(kernel, "", big);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("module 'huge'") != std::string::npos);
        std::filesystem::remove(first);
        std::filesystem::remove(second);
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
