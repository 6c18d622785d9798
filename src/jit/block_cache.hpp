// BlockCache: the translation-block cache. Blocks are keyed by the physical
// address of their first byte and their LocationDescriptor. Every physical
// page holding translated code is tracked, so that a store into it
// invalidates exactly the blocks whose bytes it overlaps.
//
// Code that patches itself back and forth (GRUB writes each BIOS call's
// vector into its INT instruction) would have its blocks translated again
// at every change: a block that a store invalidated, and that kept a copy
// of its guest bytes (`source`), waits among the retired instead, and is
// taken back when the same bytes are there again (revive()), as if it had
// stayed in the cache.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "jit/location.hpp"

namespace jitterbug::jit {

// What a backend keeps for a block it compiled (the interpreter's program).
class CompiledCode {
  public:
    virtual ~CompiledCode() = default;
};

struct TranslationBlock {
    LocationDescriptor location;
    std::uint64_t phys_start = 0;  // physical address of the first byte
    // The guest code it was translated from: bytes [first_lo, first_hi) of
    // the first page (a block that followed a jump holds several pieces of
    // it; this spans them all) and the first second_len bytes of the second.
    std::uint64_t first_lo = 0;
    std::uint64_t first_hi = 0;
    std::uint32_t second_len = 0;
    std::array<std::uint32_t, 2> pages{};  // physical page numbers covered
    std::uint8_t num_pages = 0;
    std::uint32_t guest_instructions = 0;
    // The code segment's limit it was translated under (its instructions
    // past the limit raise #GP): not part of the key, so checked on use.
    std::uint32_t cs_limit = 0;
    bool valid = true;
    // Whether the backend may check a page once for several accesses (false
    // once such a check failed: CpuStatistics::page_group_deopts).
    bool page_groups = true;
    // Whether the backend may access guest memory through the host window
    // (false once its accesses kept faulting there: stores to pages that
    // also hold code), and how many of its accesses have faulted so far
    // (counted by its code).
    bool fastmem = true;
    mutable std::uint32_t fastmem_faults = 0;
    // A copy of the bytes [first_lo, first_hi) of a one-page block (empty:
    // none kept; such a block is not revived).
    std::vector<std::uint8_t> source;
    // Times run in the interpreter tier (Cpu: CpuOptions::jit_threshold).
    std::uint32_t runs = 0;

    // Backend output: JIT entry point, or the interpreter's program.
    const void* host_code = nullptr;
    std::unique_ptr<CompiledCode> code;

    // Exits of other blocks that jump straight here: (slot, original target).
    std::vector<std::pair<std::uintptr_t, std::uintptr_t>> incoming;

    // Bytes [phys, phys + len) overlap the block's guest code.
    bool overlaps(std::uint64_t phys, std::uint64_t len) const;
};

class BlockCache {
  public:
    // Called for every block as it is invalidated (to undo links into it).
    void set_on_invalidate(std::function<void(TranslationBlock&)> fn) {
        on_invalidate_ = std::move(fn);
    }

    // Called for every physical page that no longer holds translated code.
    void set_on_page_free(std::function<void(std::uint32_t)> fn) { on_page_free_ = std::move(fn); }

    TranslationBlock* find(std::uint64_t phys, const LocationDescriptor& loc) const;
    // Takes ownership of a compiled block and indexes it. Returns the new pages
    // (physical page numbers) that hold code for the first time.
    std::vector<std::uint32_t> insert(std::unique_ptr<TranslationBlock> block);

    bool is_code_page(std::uint32_t phys_page) const { return pages_.contains(phys_page); }
    template <typename F>
    void for_each_code_page(F&& f) const {
        for (const auto& [page, blocks] : pages_)
            f(page);
    }

    // Invalidates every block overlapping [phys, phys + len). Returns true when
    // `current` was among them. `by_store`: the guest's own store did it (its
    // blocks may be revived; not after a loader's or a device's writes, after
    // which the machine's state is not the one they were made in).
    bool invalidate(std::uint64_t phys, std::uint64_t len, const TranslationBlock* current,
                    bool by_store = false);
    // Invalidates one block, if it is in the cache (never revived).
    void invalidate_block(const TranslationBlock* block);
    // A retired block of this key whose `source` the guest's memory holds
    // again (`same_bytes` says), back in the cache; or nullptr. `new_pages`
    // receives the pages that hold code again.
    TranslationBlock* revive(std::uint64_t phys, const LocationDescriptor& loc,
                             const std::function<bool(const TranslationBlock&)>& same_bytes,
                             std::vector<std::uint32_t>& new_pages);
    // Drops every block (e.g. when the code buffer is full).
    void clear();
    // Whether blocks were invalidated since the last collect_garbage().
    bool has_garbage() const { return !graveyard_.empty(); }
    // Frees invalidated blocks; call only when no block is executing.
    void collect_garbage() { graveyard_.clear(); }

    std::size_t size() const { return blocks_.size(); }

  private:
    struct Key {
        std::uint64_t phys;
        LocationDescriptor loc;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const {
            std::uint64_t h = k.phys * 0x9E3779B97F4A7C15ull;
            h ^= (std::uint64_t{k.loc.eip} << 32 | k.loc.mode) * 0xC2B2AE3D27D4EB4Full;
            h ^= std::uint64_t{k.loc.cs_base} * 0x165667B19E3779F9ull;
            return static_cast<std::size_t>(h ^ (h >> 29));
        }
    };

    void unlink(TranslationBlock* block);
    // Out of the cache: among the retired when `revivable` and it kept its
    // source, else to the graveyard.
    void retire(TranslationBlock* block, bool revivable = false);
    // Retired blocks by key, a few versions each, and how many in all.
    static constexpr std::size_t kRetiredVersions = 4;
    static constexpr std::size_t kRetiredLimit = 4096;
    // A direct-mapped cache of recent finds in front of the hash map (the
    // dispatcher looks a block up at every return to it); a block leaves it
    // when it leaves the map.
    static constexpr std::size_t kFrontSize = 4096;
    static std::size_t front_slot(const Key& key) { return KeyHash{}(key) & (kFrontSize - 1); }
    void forget_front(const TranslationBlock* block) {
        TranslationBlock*& slot = front_[front_slot(Key{block->phys_start, block->location})];
        if (slot == block) slot = nullptr;
    }
    mutable std::array<TranslationBlock*, kFrontSize> front_{};

    std::unordered_map<Key, std::unique_ptr<TranslationBlock>, KeyHash> blocks_;
    // Physical page number -> blocks with code on it.
    std::unordered_map<std::uint32_t, std::vector<TranslationBlock*>> pages_;
    // Invalidated blocks wait here until no block is executing.
    std::vector<std::unique_ptr<TranslationBlock>> graveyard_;
    std::unordered_map<Key, std::vector<std::unique_ptr<TranslationBlock>>, KeyHash> retired_;
    std::size_t retired_count_ = 0;
    std::function<void(TranslationBlock&)> on_invalidate_;
    std::function<void(std::uint32_t)> on_page_free_;
};

}  // namespace jitterbug::jit
