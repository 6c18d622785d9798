// HostMemory: zeroed host memory for guest RAM that becomes a memory file's
// pages, in place, when its file is first asked for.
#include <doctest/doctest.h>
#include <sys/mman.h>

#include <cstring>

#include "mmu/host_memory.hpp"

using namespace jitterbug::mmu;

TEST_SUITE("mmu") {
    TEST_CASE("host memory keeps its bytes and its address when it becomes a file's") {
        constexpr std::size_t kSize = 1 << 20;
        HostMemory m(kSize);
        REQUIRE(m.valid());
        std::uint8_t* const data = m.data();
        // Written pages, a page written with zeros only, pages never touched.
        for (std::size_t i = 0; i < 3 * 4096; ++i)
            data[i] = static_cast<std::uint8_t>(i * 7 + 1);
        std::memset(data + 0x8000, 0, 4096);
        data[kSize - 1] = 0x5A;
        CHECK(static_cast<unsigned>(data[0x20000]) == 0);  // read: the zero page

        const int fd = m.file();
        if (fd < 0) {
            MESSAGE("skipped: this host cannot make a memory file (memfd_create)");
            return;
        }
        CHECK(m.file() == fd);  // made once
        CHECK(m.data() == data);
        bool same = true;
        for (std::size_t i = 0; i < 3 * 4096; ++i)
            same &= data[i] == static_cast<std::uint8_t>(i * 7 + 1);
        CHECK(same);
        CHECK(static_cast<unsigned>(data[0x8000]) == 0);
        CHECK(static_cast<unsigned>(data[0x20000]) == 0);
        CHECK(static_cast<unsigned>(data[kSize - 1]) == 0x5A);

        // The file's pages are the block's: a second mapping sees writes
        // through the first, and the other way round.
        void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        REQUIRE(p != MAP_FAILED);
        auto* alias = static_cast<std::uint8_t*>(p);
        CHECK(static_cast<unsigned>(alias[4097]) == static_cast<std::uint8_t>(4097 * 7 + 1));
        CHECK(static_cast<unsigned>(alias[kSize - 1]) == 0x5A);
        data[0x30000] = 0xC3;
        CHECK(static_cast<unsigned>(alias[0x30000]) == 0xC3);
        alias[0x40000] = 0x99;
        CHECK(static_cast<unsigned>(data[0x40000]) == 0x99);
        munmap(p, kSize);
    }

    TEST_CASE("host memory's file backing names the block and the offset of a part") {
        HostMemory m(1 << 16);
        const FileBacking b = m.backing(m.bytes().subspan(0x4000));
        CHECK(b.memory == &m);
        CHECK(b.offset == 0x4000);
        CHECK(HostMemory{}.backing({}).memory == nullptr);
    }
}
