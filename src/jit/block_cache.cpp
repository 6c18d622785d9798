#include "jit/block_cache.hpp"

#include <algorithm>

#include "mmu/address.hpp"

namespace jitterbug::jit {

bool TranslationBlock::overlaps(std::uint64_t phys, std::uint64_t len) const {
    // A block may continue on a second, non-adjacent physical page; its bytes
    // there start at that page's base.
    if (phys < first_hi && first_lo < phys + len) return true;
    if (num_pages == 2) {
        const std::uint64_t second = std::uint64_t{pages[1]} << kPageShift;
        if (phys < second + second_len && second < phys + len) return true;
    }
    return false;
}

TranslationBlock* BlockCache::find(std::uint64_t phys, const LocationDescriptor& loc) const {
    const Key key{phys, loc};
    TranslationBlock*& slot = front_[front_slot(key)];
    if (slot && slot->phys_start == phys && slot->location == loc) return slot;
    auto it = blocks_.find(key);
    if (it == blocks_.end()) return nullptr;
    slot = it->second.get();
    return slot;
}

std::vector<std::uint32_t> BlockCache::insert(std::unique_ptr<TranslationBlock> block) {
    std::vector<std::uint32_t> new_pages;
    TranslationBlock* raw = block.get();
    for (unsigned i = 0; i < raw->num_pages; ++i) {
        auto [it, inserted] = pages_.try_emplace(raw->pages[i]);
        if (inserted) new_pages.push_back(raw->pages[i]);
        it->second.push_back(raw);
    }
    Key key{raw->phys_start, raw->location};
    auto it = blocks_.find(key);
    if (it != blocks_.end()) {
        // Replacing a block with the same key: retire the old one.
        TranslationBlock* old = it->second.get();
        forget_front(old);
        unlink(old);
        old->valid = false;
        if (on_invalidate_) on_invalidate_(*old);
        graveyard_.push_back(std::move(it->second));
        it->second = std::move(block);
    } else {
        blocks_.emplace(key, std::move(block));
    }
    return new_pages;
}

void BlockCache::unlink(TranslationBlock* block) {
    for (unsigned i = 0; i < block->num_pages; ++i) {
        auto it = pages_.find(block->pages[i]);
        if (it == pages_.end()) continue;
        auto& list = it->second;
        list.erase(std::remove(list.begin(), list.end(), block), list.end());
        if (list.empty()) {
            pages_.erase(it);
            if (on_page_free_) on_page_free_(block->pages[i]);
        }
    }
}

bool BlockCache::invalidate(std::uint64_t phys, std::uint64_t len, const TranslationBlock* current,
                            bool by_store) {
    bool hit_current = false;
    const std::uint32_t first = static_cast<std::uint32_t>(phys >> kPageShift);
    const std::uint32_t last = static_cast<std::uint32_t>((phys + len - 1) >> kPageShift);
    for (std::uint32_t page = first; page <= last; ++page) {
        auto pit = pages_.find(page);
        if (pit == pages_.end()) continue;
        std::vector<TranslationBlock*> victims;
        for (TranslationBlock* b : pit->second) {
            if (b->overlaps(phys, len)) victims.push_back(b);
        }
        for (TranslationBlock* b : victims) {
            if (b == current) hit_current = true;
            retire(b, by_store);
        }
    }
    return hit_current;
}

void BlockCache::retire(TranslationBlock* b, bool revivable) {
    forget_front(b);
    unlink(b);
    b->valid = false;
    if (on_invalidate_) on_invalidate_(*b);
    const Key key{b->phys_start, b->location};
    auto it = blocks_.find(key);
    if (it == blocks_.end() || it->second.get() != b) return;
    std::unique_ptr<TranslationBlock> block = std::move(it->second);
    blocks_.erase(it);
    if (!revivable || block->source.empty()) {
        graveyard_.push_back(std::move(block));
        return;
    }
    if (retired_count_ >= kRetiredLimit) {
        // (Bounded: all of them go, to the graveyard, as they may be running.)
        for (auto& [k, versions] : retired_) {
            for (auto& v : versions)
                graveyard_.push_back(std::move(v));
        }
        retired_.clear();
        retired_count_ = 0;
    }
    auto& versions = retired_[key];
    if (versions.size() == kRetiredVersions) {
        graveyard_.push_back(std::move(versions.front()));
        versions.erase(versions.begin());
        --retired_count_;
    }
    versions.push_back(std::move(block));
    ++retired_count_;
}

TranslationBlock* BlockCache::revive(std::uint64_t phys, const LocationDescriptor& loc,
                                     const std::function<bool(const TranslationBlock&)>& same_bytes,
                                     std::vector<std::uint32_t>& new_pages) {
    auto it = retired_.find(Key{phys, loc});
    if (it == retired_.end()) return nullptr;
    auto& versions = it->second;
    for (auto v = versions.begin(); v != versions.end(); ++v) {
        if (!same_bytes(**v)) continue;
        std::unique_ptr<TranslationBlock> block = std::move(*v);
        versions.erase(v);
        --retired_count_;
        if (versions.empty()) retired_.erase(it);
        block->valid = true;
        TranslationBlock* raw = block.get();
        new_pages = insert(std::move(block));
        return raw;
    }
    return nullptr;
}

void BlockCache::invalidate_block(const TranslationBlock* block) {
    auto it = blocks_.find(Key{block->phys_start, block->location});
    if (it != blocks_.end() && it->second.get() == block) retire(it->second.get());
}

void BlockCache::clear() {
    for (auto& [key, block] : blocks_) {
        block->valid = false;
        graveyard_.push_back(std::move(block));
    }
    blocks_.clear();
    for (auto& [key, versions] : retired_) {
        for (auto& v : versions)
            graveyard_.push_back(std::move(v));
    }
    retired_.clear();
    retired_count_ = 0;
    front_.fill(nullptr);
    if (on_page_free_) {
        for (const auto& [page, list] : pages_)
            on_page_free_(page);
    }
    pages_.clear();
}

}  // namespace jitterbug::jit
