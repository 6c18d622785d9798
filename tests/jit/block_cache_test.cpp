// The translation-block cache: lookup by physical address and mode, page
// tracking, and precise invalidation.
#include <doctest/doctest.h>

#include <algorithm>

#include "jit/block_cache.hpp"

using namespace jitterbug;
using namespace jitterbug::jit;

namespace {
std::unique_ptr<TranslationBlock> make_block(std::uint64_t phys, std::uint32_t size,
                                             std::uint32_t eip, std::uint32_t mode = 0) {
    auto tb = std::make_unique<TranslationBlock>();
    tb->location = LocationDescriptor{eip, 0, mode};
    tb->phys_start = phys;
    tb->first_lo = phys;
    tb->first_hi = std::min<std::uint64_t>(phys + size, (phys | 0xFFF) + 1);
    tb->pages[0] = static_cast<std::uint32_t>(phys >> 12);
    tb->num_pages = 1;
    if (((phys + size - 1) >> 12) != (phys >> 12)) {
        tb->pages[1] = static_cast<std::uint32_t>((phys + size - 1) >> 12);
        tb->num_pages = 2;
        tb->second_len = static_cast<std::uint32_t>(phys + size - tb->first_hi);
    }
    return tb;
}
}  // namespace

TEST_SUITE("jit") {
    TEST_CASE("blocks are found by physical address and the whole location") {
        BlockCache cache;
        auto owned = make_block(0x1000, 16, 0x1000);
        TranslationBlock* a = owned.get();
        const auto pages = cache.insert(std::move(owned));
        CHECK(pages == std::vector<std::uint32_t>{1});
        CHECK(cache.find(0x1000, LocationDescriptor{0x1000, 0, 0}) == a);
        CHECK(cache.find(0x1000, LocationDescriptor{0x1000, 0, mode::kCode32}) == nullptr);
        CHECK(cache.find(0x1004, LocationDescriptor{0x1000, 0, 0}) == nullptr);
        CHECK(cache.is_code_page(1));
        CHECK_FALSE(cache.is_code_page(2));
        // A second block on the same page adds no new page.
        CHECK(cache.insert(make_block(0x1800, 8, 0x1800)).empty());
        CHECK(cache.size() == 2);
    }

    TEST_CASE("a write invalidates exactly the blocks whose bytes it touches") {
        BlockCache cache;
        auto first = make_block(0x2000, 0x10, 0x2000);
        auto second = make_block(0x2010, 0x10, 0x2010);
        TranslationBlock* a = first.get();
        TranslationBlock* b = second.get();
        cache.insert(std::move(first));
        cache.insert(std::move(second));

        CHECK_FALSE(cache.invalidate(0x2020, 4, nullptr));  // after both
        CHECK(cache.size() == 2);
        CHECK(cache.invalidate(0x200E, 4, b));  // straddles a's end and b's start; b is running
        CHECK_FALSE(a->valid);
        CHECK_FALSE(b->valid);
        CHECK(cache.size() == 0);
        CHECK_FALSE(cache.is_code_page(2));
        cache.collect_garbage();
    }

    TEST_CASE("a block spanning two pages is invalidated from either page") {
        BlockCache cache;
        cache.insert(make_block(0x3FF8, 0x10, 0x3FF8));
        CHECK(cache.is_code_page(3));
        CHECK(cache.is_code_page(4));
        CHECK(cache.invalidate(0x4004, 1, nullptr) == false);
        CHECK(cache.size() == 0);
        CHECK_FALSE(cache.is_code_page(3));
    }

    TEST_CASE("clearing the cache retires every block") {
        BlockCache cache;
        auto owned = make_block(0x5000, 4, 0x5000);
        TranslationBlock* a = owned.get();
        cache.insert(std::move(owned));
        cache.clear();
        CHECK_FALSE(a->valid);
        CHECK(cache.size() == 0);
        CHECK(cache.find(0x5000, LocationDescriptor{0x5000, 0, 0}) == nullptr);
    }
}
