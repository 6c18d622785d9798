#include "jit/backend/x64/block_compiler.hpp"

#include <type_traits>

#include "cpu/helper_id.hpp"
#include "cpu/runtime.hpp"

namespace jitterbug::jit::x64 {

using namespace Xbyak::util;
using ir::Opcode;

namespace {
// IR operations whose host code never changes the host's flags (plain moves
// and their loads and stores); any other one ends what host_flags_ tracks.
bool keeps_host_flags(const ir::Inst& inst) {
    switch (inst.op) {
        case Opcode::GetGpr8:
        case Opcode::SetGpr8:
            // AH..BH are shifted out of or into their register.
            return inst.args[0].imm() < 4;
        case Opcode::GetGpr16:
        case Opcode::GetGpr32:
        case Opcode::SetGpr16:
        case Opcode::SetGpr32:
        case Opcode::GetSegSelector:
        case Opcode::GetSegBase:
        case Opcode::SetEip:
        case Opcode::GetArithFlags:
        case Opcode::SetArithFlags:  // resets it itself when it must merge
        case Opcode::GetFlagsFromOp:
        case Opcode::TestCond:  // resets it itself when it must compute
        case Opcode::ZeroExtend8To16:
        case Opcode::ZeroExtend8To32:
        case Opcode::ZeroExtend16To32:
        case Opcode::ZeroExtend32To64:
        case Opcode::SignExtend8To16:
        case Opcode::SignExtend8To32:
        case Opcode::SignExtend16To32:
        case Opcode::Truncate16To8:
        case Opcode::Truncate32To8:
        case Opcode::Truncate32To16:
        case Opcode::Truncate64To32:
        case Opcode::BeginInstruction:
        case Opcode::ExitIf:  // a JCC (and a LEA on the way out)
            return true;
        default:
            return false;
    }
}

}  // namespace

MemoryAccess memory_access(Opcode op) {
    switch (op) {
        case Opcode::ReadMem8:
            return {1, false};
        case Opcode::ReadMem16:
            return {2, false};
        case Opcode::ReadMem32:
            return {4, false};
        case Opcode::WriteMem8:
            return {1, true};
        case Opcode::WriteMem16:
            return {2, true};
        case Opcode::WriteMem32:
            return {4, true};
        default:
            return {0, false};
    }
}

BlockCompiler::BlockCompiler(Xbyak::CodeGenerator& code, const ir::Block& block,
                             const TranslationBlock& tb, const SharedCode& shared,
                             const BackendOptions& options, const LoopRecord* steady)
    : steady_(steady ? std::optional<LoopRecord>(*steady) : std::nullopt),
      c(code),
      block_(block),
      tb_(tb),
      shared_(shared),
      options_(options),
      ra_(code, block),
      flags_of_(block.insts().size(), ir::kNoInst),
      tested_(block.insts().size(), false),
      target_gpr_(block.insts().size(), -1),
      lazy_ok_(block.insts().size(), false),
      lazy_flags_(block.insts().size(), false),
      host_only_(block.insts().size(), false),
      lazy_kind_(block.insts().size(), 0),
      carry_only_(block.insts().size(), false),
      low_half_only_(block.insts().size(), false),
      zero_extended_(block.insts().size(), false),
      split_(block.insts().size(), {ir::kNoInst, ir::kNoInst}),
      scaled_(block.insts().size(), false),
      folded_(block.insts().size(), false),
      late_gpr_(block.insts().size(), -1),
      carry_in_cf_(block.insts().size(), false),
      fused_check_(block.insts().size(), ir::kNoInst),
      group_of_(block.insts().size(), -1),
      group_offset_(block.insts().size(), 0),
      forwarded_from_(block.insts().size(), ir::kNoInst),
      forwards_(block.insts().size(), 0) {
    fastmem_ =
        options_.fastmem && block.location().fastmem() && shared_.direct_memory && tb.fastmem;
    tlb_base_ =
        ctx_offset::kTlb + mmu::Tlb::set_offset(mmu::tlb_set_of_cpl(block.location().cpl()));
    find_flag_producers();
    find_fused_checks();
    if (options_.in_place_alu) find_in_place_targets();
    find_lazy_flags();
    find_carries();
    find_low_halves();
    if (options_.in_place_alu) find_scaled_indexes();
    if (fastmem_ && options_.address_modes) find_folded_addresses();
    // (Direct accesses need no page checked: no groups.)
    if (options_.page_groups && tb.page_groups && block.location().flat() && !fastmem_) {
        find_page_groups();
        if (options_.store_forwarding) find_forwarded_stores();
    }
    jump_cache_exit_ =
        block.terminal().kind == ir::Terminal::Kind::Dispatch && may_use_jump_cache();
}

void BlockCompiler::find_flag_producers() {
    const auto& insts = block_.insts();
    for (std::size_t i = 0; i < insts.size(); ++i) {
        if (insts[i].op == Opcode::GetFlagsFromOp) {
            flags_of_[insts[i].args[0].inst()] = static_cast<ir::InstRef>(i);
        }
        for (const ir::Value& v : insts[i].args) {
            if (insts[i].op == Opcode::SetArithFlags || v.empty() || v.is_immediate()) continue;
            const ir::Inst& f = insts[v.inst()];
            if (f.op == Opcode::GetFlagsFromOp) tested_[f.args[0].inst()] = true;
        }
    }
    const ir::Terminal& t = block_.terminal();
    if (t.kind == ir::Terminal::Kind::Branch && !t.cond.is_immediate() &&
        insts[t.cond.inst()].op == Opcode::GetFlagsFromOp) {
        tested_[insts[t.cond.inst()].args[0].inst()] = true;
    }
}

void BlockCompiler::find_fused_checks() {
    const auto& insts = block_.insts();
    for (std::size_t j = 0; j + 1 < insts.size(); ++j) {
        const ir::Inst& check = insts[j];
        const ir::Inst& access = insts[j + 1];
        if (check.op != Opcode::CheckSegment ||
            !flat_segment(static_cast<unsigned>(check.args[0].imm()))) {
            continue;
        }
        const unsigned size = (static_cast<unsigned>(check.args[2].imm()) & 0xFF) + 1;
        if (memory_access(access.op).size == size && access.args[0] == check.args[1]) {
            fused_check_[j + 1] = static_cast<ir::InstRef>(j);
        }
    }
}

void BlockCompiler::find_in_place_targets() {
    const auto& insts = block_.insts();
    for (std::size_t i = 0; i < insts.size(); ++i) {
        std::size_t j = i + 1;
        while (j < insts.size() &&
               (insts[j].op == Opcode::GetFlagsFromOp || insts[j].op == Opcode::SetArithFlags ||
                insts[j].op == Opcode::TestCond || insts[j].op == Opcode::BeginInstruction)) {
            ++j;
        }
        if (j == insts.size()) continue;
        const ir::Inst& set = insts[j];
        const bool is_set = set.op == Opcode::SetGpr32 || set.op == Opcode::SetGpr16 ||
                            (set.op == Opcode::SetGpr8 && set.args[0].imm() < 4);
        if (is_set && !set.args[1].is_immediate() && set.args[1].inst() == i) {
            target_gpr_[i] = static_cast<int>(set.args[0].imm());
        }
    }
}

namespace {
bool is_inc_dec(Opcode op) {
    switch (op) {
        case Opcode::Inc8:
        case Opcode::Inc16:
        case Opcode::Inc32:
        case Opcode::Dec8:
        case Opcode::Dec16:
        case Opcode::Dec32:
            return true;
        default:
            return false;
    }
}
}  // namespace

// Flags that may be deferred: written to EFLAGS in full by one SetArithFlags
// (an INC/DEC's write of all but CF counts: the host instruction keeps the
// guest's CF, put there first) with nothing but host-flag-keeping moves
// between it and the producer (the record is stored at the producer;
// nothing can fault or look at EFLAGS before the write), otherwise only
// read by TestCond, either while the host's flags still hold them or before
// any other op could have stored a record of its own (the TestCond re-runs
// the recorded op), and not read by the block itself next (a partial write
// merging into them, a helper, PUSHF, ...).
void BlockCompiler::find_lazy_flags() {
    const auto& insts = block_.insts();
    std::vector<std::size_t> write_of(insts.size(), 0);  // 0: none found
    std::vector<bool> bad(insts.size(), false);
    const auto full_write = [&](const ir::Inst& set, ir::InstRef producer) {
        const auto mask = static_cast<std::uint32_t>(set.args[1].imm());
        return mask == cpu::eflags::kArithmetic ||
               (mask == (cpu::eflags::kArithmetic & ~cpu::eflags::CF) &&
                is_inc_dec(insts[producer].op));
    };
    const auto record_kept = [&](ir::InstRef f, std::size_t u) {
        for (std::size_t k = insts[f].args[0].inst() + 1; k < u; ++k) {
            if (flags_of_[k] != ir::kNoInst) return false;
        }
        return true;
    };
    // Between the producer of f and u: only moves, and no other flags write.
    const auto host_flags_kept = [&](ir::InstRef f, std::size_t u) {
        for (std::size_t k = insts[f].args[0].inst() + 1; k < u; ++k) {
            const ir::Inst& inst = insts[k];
            if (!keeps_host_flags(inst)) return false;
            if (inst.op == Opcode::SetArithFlags && k != write_of[f]) return false;
        }
        return true;
    };
    for (std::size_t u = 0; u < insts.size(); ++u) {
        const ir::Inst& inst = insts[u];
        for (const ir::Value& v : inst.args) {
            if (v.empty() || v.is_immediate()) continue;
            const ir::InstRef f = v.inst();
            if (insts[f].op != Opcode::GetFlagsFromOp) continue;
            if (inst.op == Opcode::SetArithFlags && &v == &inst.args[0] &&
                full_write(inst, insts[f].args[0].inst()) && write_of[f] == 0) {
                if (!host_flags_kept(f, u)) bad[f] = true;
                write_of[f] = u;
            } else if (inst.op != Opcode::TestCond ||
                       !(host_flags_kept(f, u) || record_kept(f, u))) {
                bad[f] = true;
            }
        }
    }
    const auto block_reads_next = [&](std::size_t s) {
        for (std::size_t k = s + 1; k < insts.size(); ++k) {
            const Opcode op = insts[k].op;
            if (op == Opcode::SetEflags) return false;
            if (op == Opcode::SetArithFlags) {
                // An INC/DEC's takes just CF (from the host's flags, when
                // they still hold them).
                const ir::Value& flags = insts[k].args[0];
                return flags.is_immediate() || insts[flags.inst()].op != Opcode::GetFlagsFromOp ||
                       !full_write(insts[k], insts[flags.inst()].args[0].inst());
            }
            if (op == Opcode::GetArithFlags || op == Opcode::GetEflags ||
                op == Opcode::CallHelper) {
                return true;
            }
        }
        return false;
    };
    for (std::size_t f = 0; f < insts.size(); ++f) {
        if (insts[f].op == Opcode::GetFlagsFromOp && write_of[f] != 0 && !bad[f] &&
            !block_reads_next(write_of[f])) {
            lazy_ok_[insts[f].args[0].inst()] = true;
        }
    }
    // Flags nothing but conditions read, each while the host's flags are
    // still the producer's.
    if (!options_.host_flags) return;
    std::vector<bool> other_use(insts.size(), false);
    for (std::size_t u = 0; u < insts.size(); ++u) {
        for (const ir::Value& v : insts[u].args) {
            if (v.empty() || v.is_immediate() || insts[v.inst()].op != Opcode::GetFlagsFromOp) {
                continue;
            }
            const ir::InstRef f = v.inst();
            if (insts[u].op != Opcode::TestCond || !host_flags_kept(f, u) || write_of[f] != 0) {
                other_use[f] = true;
            }
        }
    }
    const ir::Terminal& t = block_.terminal();
    if (t.kind == ir::Terminal::Kind::Branch && !t.cond.is_immediate() &&
        insts[t.cond.inst()].op == Opcode::GetFlagsFromOp) {
        other_use[t.cond.inst()] = true;  // (a terminal never reads flags so)
    }
    for (std::size_t f = 0; f < insts.size(); ++f) {
        if (insts[f].op == Opcode::GetFlagsFromOp && insts[f].use_count > 0 && !other_use[f] &&
            !flags_by_reference(insts[insts[f].args[0].inst()].op)) {
            host_only_[f] = true;
        }
    }
}

void BlockCompiler::find_scaled_indexes() {
    const auto& insts = block_.insts();
    for (std::size_t k = 0; k + 1 < insts.size(); ++k) {
        const ir::Inst& shl = insts[k];
        const ir::Inst& add = insts[k + 1];
        if (shl.op != Opcode::Shl32 || !shl.args[1].is_immediate() || shl.args[0].is_immediate() ||
            flags_of_[k] != ir::kNoInst || shl.use_count != 1) {
            continue;
        }
        const std::uint64_t n = shl.args[1].imm() & 31;
        if (n < 1 || n > 3 || add.op != Opcode::Add32 || flags_of_[k + 1] != ir::kNoInst) continue;
        const ir::Value& a = add.args[0];
        const ir::Value& b = add.args[1];
        const auto is_k = [&](const ir::Value& v) { return !v.is_immediate() && v.inst() == k; };
        // (try_lea takes every flag-free ADD whose first operand is a value.)
        if (a.is_immediate() || (is_k(a) && is_k(b))) continue;
        if (is_k(a) || is_k(b)) scaled_[k] = true;
    }
}

// TestCond(b) read only as the carry of the ADC/SBB right after it.
void BlockCompiler::find_carries() {
    const auto& insts = block_.insts();
    for (std::size_t k = 1; k < insts.size(); ++k) {
        switch (insts[k].op) {
            case Opcode::Adc8:
            case Opcode::Adc16:
            case Opcode::Adc32:
            case Opcode::Sbb8:
            case Opcode::Sbb16:
            case Opcode::Sbb32: {
                const ir::Value& carry = insts[k].args[2];
                carry_only_[k - 1] = !carry.is_immediate() && carry.inst() + 1 == k &&
                                     insts[k - 1].op == Opcode::TestCond &&
                                     insts[k - 1].args[0].imm() == 2 && insts[k - 1].use_count == 1;
                break;
            }
            default:
                break;
        }
    }
}

// IMUL32 results of which only the low half and the flags are read.
void BlockCompiler::find_low_halves() {
    const auto& insts = block_.insts();
    std::vector<bool> other_use(insts.size(), false);
    for (const ir::Inst& inst : insts) {
        if (inst.op == Opcode::Truncate64To32 || inst.op == Opcode::GetFlagsFromOp) continue;
        for (const ir::Value& v : inst.args) {
            if (!v.empty() && !v.is_immediate()) other_use[v.inst()] = true;
        }
    }
    const ir::Value& cond = block_.terminal().cond;
    if (!cond.empty() && !cond.is_immediate()) other_use[cond.inst()] = true;
    for (std::size_t k = 0; k < insts.size(); ++k)
        low_half_only_[k] = insts[k].op == Opcode::Imul32 && !other_use[k];
    // Products read only by their halves (and flags): split.
    std::vector<bool> whole_use(insts.size(), false);
    std::vector<std::pair<ir::InstRef, ir::InstRef>> halves(insts.size(),
                                                            {ir::kNoInst, ir::kNoInst});
    for (std::size_t u = 0; u < insts.size(); ++u) {
        const ir::Inst& inst = insts[u];
        for (const ir::Value& v : inst.args) {
            if (v.empty() || v.is_immediate()) continue;
            auto& [lo, hi] = halves[v.inst()];
            if (inst.op == Opcode::Truncate64To32 && lo == ir::kNoInst) {
                lo = static_cast<ir::InstRef>(u);
            } else if (inst.op == Opcode::High32Of64 && hi == ir::kNoInst) {
                hi = static_cast<ir::InstRef>(u);
            } else if (inst.op != Opcode::GetFlagsFromOp) {
                whole_use[v.inst()] = true;
            }
        }
    }
    if (!cond.empty() && !cond.is_immediate()) whole_use[cond.inst()] = true;
    for (std::size_t k = 0; k < insts.size(); ++k) {
        if ((insts[k].op == Opcode::Mul32 || insts[k].op == Opcode::Imul32) && !whole_use[k] &&
            !low_half_only_[k]) {
            split_[k] = halves[k];
        }
    }
}

void BlockCompiler::find_folded_addresses() {
    const auto& insts = block_.insts();
    for (std::size_t k = 0; k + 1 < insts.size(); ++k) {
        const ir::Inst& add = insts[k];
        const bool sub = add.op == Opcode::Sub32;
        if ((add.op != Opcode::Add32 && !sub) || flags_of_[k] != ir::kNoInst ||
            add.args[0].is_immediate() || (sub && !add.args[1].is_immediate()) ||
            target_gpr_[k] >= 0) {
            continue;
        }
        // (A scaled first operand is fine; two scaled ones never come here.)
        const auto scaled = [&](const ir::Value& v) {
            return !v.is_immediate() && scaled_[v.inst()];
        };
        if (scaled(add.args[0]) && scaled(add.args[1])) continue;
        const auto reads_k = [&](const ir::Value& v) { return !v.is_immediate() && v.inst() == k; };
        // Read by the access right after it, or by a check fused into the
        // access after that, and nothing else.
        std::size_t access = k + 1;
        unsigned uses = 1;
        if (insts[access].op == Opcode::CheckSegment && access + 1 < insts.size() &&
            fused_check_[access + 1] == access) {
            ++access;
            ++uses;
        }
        const MemoryAccess kind = memory_access(insts[access].op);
        if (kind.size == 0 || !reads_k(insts[access].args[0]) ||
            (kind.write && reads_k(insts[access].args[1]))) {
            continue;
        }
        if (add.use_count == uses) {
            folded_[k] = true;
            continue;
        }
        // Also written to a guest register right after a write (a PUSH):
        // computed there after the access (the state at a fault in it is
        // the instruction's start), whatever reads the register later.
        const ir::Inst* set = access + 1 < insts.size() ? &insts[access + 1] : nullptr;
        if (kind.write && set && set->op == Opcode::SetGpr32 && reads_k(set->args[1]) &&
            add.use_count > uses) {
            folded_[k] = true;
            late_gpr_[k] = static_cast<int>(set->args[0].imm());
        }
    }
}

void BlockCompiler::find_page_groups() {
    const auto& insts = block_.insts();
    const std::size_t n = insts.size();
    // Each value as root + offset, through ADD/SUB of constants.
    std::vector<ir::InstRef> root(n);
    std::vector<std::int64_t> offset(n, 0);
    for (std::size_t k = 0; k < n; ++k) {
        const ir::Inst& inst = insts[k];
        root[k] = static_cast<ir::InstRef>(k);
        if ((inst.op == Opcode::Add32 || inst.op == Opcode::Sub32) &&
            !inst.args[0].is_immediate() && inst.args[1].is_immediate()) {
            const auto imm =
                static_cast<std::int64_t>(static_cast<std::int32_t>(inst.args[1].imm()));
            root[k] = root[inst.args[0].inst()];
            offset[k] = offset[inst.args[0].inst()] + (inst.op == Opcode::Add32 ? imm : -imm);
        }
    }
    struct Member {
        std::size_t access;
        std::int64_t offset;
        unsigned size;
        bool write;
    };
    std::vector<std::vector<Member>> members(n);
    for (std::size_t k = 0; k < n; ++k) {
        const auto [size, write] = memory_access(insts[k].op);
        // Only accesses whose segment check the TLB hit covers (flat DS/ES/SS).
        if (size == 0 || fused_check_[k] == ir::kNoInst || insts[k].args[0].is_immediate())
            continue;
        const ir::InstRef a = insts[k].args[0].inst();
        members[root[a]].push_back(Member{k, offset[a], size, write});
    }
    for (const auto& group : members) {
        if (group.size() < 3) continue;  // a check of its own would not pay
        std::int64_t lo = group[0].offset;
        std::int64_t hi = group[0].offset + group[0].size - 1;
        bool reads = false;
        bool writes = false;
        for (const Member& m : group) {
            lo = std::min(lo, m.offset);
            hi = std::max(hi, m.offset + static_cast<std::int64_t>(m.size) - 1);
            (m.write ? writes : reads) = true;
        }
        if (hi - lo >= static_cast<std::int64_t>(kPageSize)) continue;
        const Member& first = group[0];
        PageGroup g;
        g.lo = static_cast<std::int32_t>(lo - first.offset);
        g.hi = static_cast<std::int32_t>(hi - first.offset);
        g.reads = reads;
        g.writes = writes;
        g.slot = static_cast<int>(fused_check_[first.access] * 8);
        for (const Member& m : group) {
            group_of_[m.access] = static_cast<int>(groups_.size());
            group_offset_[m.access] = m.offset - first.offset;
        }
        groups_.push_back(g);
    }
}

void BlockCompiler::find_forwarded_stores() {
    const auto& insts = block_.insts();
    // Per group: the 32-bit writes whose bytes nothing has overwritten
    // since, by offset from the group's first access's address.
    struct Stored {
        std::int64_t offset;
        ir::InstRef write;
    };
    std::vector<std::vector<Stored>> stored(groups_.size());
    for (std::size_t k = 0; k < insts.size(); ++k) {
        const auto [size, write] = memory_access(insts[k].op);
        if (size == 0) {
            if (insts[k].op == Opcode::CallHelper) {
                for (auto& s : stored)
                    s.clear();  // (it may write anything)
            }
            continue;
        }
        const int g = group_of_[k];
        const std::int64_t at = group_offset_[k];
        const auto overlaps = [&](const Stored& s) {
            return s.offset < at + static_cast<std::int64_t>(size) && at < s.offset + 4;
        };
        if (write) {
            // A write elsewhere may overlap anything stored through another
            // group; one of this group, what it overlaps.
            for (std::size_t h = 0; h < stored.size(); ++h) {
                auto& s = stored[h];
                if (static_cast<int>(h) != g) {
                    s.clear();
                } else {
                    std::erase_if(s, overlaps);
                }
            }
            if (g >= 0 && size == 4) {
                stored[static_cast<std::size_t>(g)].push_back(
                    Stored{at, static_cast<ir::InstRef>(k)});
            }
            continue;
        }
        if (g < 0 || size != 4) continue;
        for (const Stored& s : stored[static_cast<std::size_t>(g)]) {
            if (s.offset == at) {
                forwarded_from_[k] = s.write;
                ++forwards_[s.write];
            }
        }
    }
}

void BlockCompiler::compile() {
    // Entry: leave before doing anything if someone asked the CPU to stop or
    // the instruction budget is spent (checked once per block, chained or not).
    Xbyak::Label leave;
    c.L(entry_);
    // One comparison does both: a stop request sets the entry limit to 0.
    c.cmp(Reg64(kCounter), qword[r15 + ctx_offset::kEntryLimit]);
    c.jae(leave, Xbyak::CodeGenerator::T_NEAR);
    RecordPlan entry_record;
    if (steady_) {
        // The last round's record, deferred in the guest registers it
        // reads, until they are written or its flags are overwritten.
        deferred_ = Deferred{};
        deferred_.kind = steady_->kind;
        deferred_.a_guest = steady_->a_guest;
        deferred_.b_guest = steady_->b_guest;
        deferred_.b_imm = steady_->b_imm;
        deferred_.has_b_imm = steady_->has_b_imm;
        entry_record = record_plan();
    }

    const auto& insts = block_.insts();
    for (std::size_t n = 0; n < insts.size(); ++n) {
        const auto i = static_cast<ir::InstRef>(n);
        const ir::Inst& inst = insts[n];
        if (deferred_.names_guests()) {
            // The incoming record goes to the context before a register
            // it still names is written.
            const unsigned written = guests_written(n);
            const auto named = [&](int g) { return g >= 0 && (written >> g & 1); };
            if (named(deferred_.a_guest) || named(deferred_.b_guest)) store_record();
        }
        host_flags_before_ = host_flags_;
        if (!keeps_host_flags(inst)) host_flags_ = ir::kNoInst;
        if (inst.op == Opcode::CallHelper || inst.op == Opcode::SetEflags) {
            flags_owner_ = ir::kNoInst;  // they may write EFLAGS
        }
        switch (inst.op) {
#define OPCODE(name, ...)     \
    case Opcode::name:        \
        emit_##name(i, inst); \
        break;
#include "jit/ir/opcodes.inc"
#undef OPCODE
        }
        ra_.end_inst();
    }
    emit_terminal();
    // Out-of-line code: slow paths, exits of aborted instructions, the
    // unstarted exit, the stubs of unlinked exits.
    for (std::size_t k = 0; k < slow_paths_.size(); ++k)
        slow_paths_[k]();
    for (auto& [index, exit] : abort_exits_) {
        c.L(exit.label);
        c.mov(dword[r15 + ctx_offset::kEip], exit.eip);
        count_instructions(index);
        emit_exit(ExitReason::Abort);
    }
    c.L(leave);
    store_plan(entry_record);
    c.mov(dword[r15 + ctx_offset::kEip], block_.location().eip);
    emit_exit(ExitReason::Next);
    for (auto& stub : link_stubs_)
        stub();
}

void BlockCompiler::emit_exit(ExitReason reason) {
    c.mov(eax, static_cast<std::uint32_t>(reason));
    c.jmp(shared_.epilogue, Xbyak::CodeGenerator::T_NEAR);
}

void BlockCompiler::count_instructions(std::uint32_t n) {
    // LEA: the host's flags may still be needed (a branch on them).
    if (n != 0) c.lea(Reg64(kCounter), ptr[Reg64(kCounter) + n]);
}

void BlockCompiler::emit_link(std::uint32_t eip, int cc) {
    auto* stub = &slow_labels_.emplace_back();
    const std::uintptr_t slot = reinterpret_cast<std::uintptr_t>(c.getCurr());
    if (cc < 0) {
        c.jmp(*stub, Xbyak::CodeGenerator::T_NEAR);
    } else {
        jcc(static_cast<unsigned>(cc), *stub);  // always the rel32 form
    }
    link_stubs_.push_back([this, stub, slot, eip] {
        c.L(*stub);
        c.mov(dword[r15 + ctx_offset::kEip], eip);
        c.mov(rax, slot);
        c.mov(qword[r15 + ctx_offset::kExitSlot], rax);
        emit_exit(ExitReason::Next);
    });
}

Xbyak::Label& BlockCompiler::abort_label() {
    const std::uint32_t index = started_ == 0 ? 0 : started_ - 1;
    auto [it, inserted] = abort_exits_.try_emplace(index);
    if (inserted) it->second.eip = insn_eip_;
    return it->second.label;
}

void BlockCompiler::check_abort() {
    c.cmp(byte[r15 + ctx_offset::kAbort], 0);
    c.jne(abort_label(), Xbyak::CodeGenerator::T_NEAR);
}

void BlockCompiler::call_runtime(const void* fn) {
    // Chained blocks run without the dispatcher: the runtime learns which
    // block is running here (a store into it must end it at once).
    c.mov(rax, reinterpret_cast<std::uintptr_t>(&tb_));
    c.mov(qword[r15 + ctx_offset::kCurrentBlock], rax);
    c.mov(qword[r15 + ctx_offset::kInstructions], Reg64(kCounter));
    c.mov(rax, reinterpret_cast<std::uintptr_t>(fn));
    c.call(shared_.runtime_call);
}

bool BlockCompiler::flat_segment(unsigned seg) const {
    const auto s = static_cast<cpu::SegReg>(seg);
    return block_.location().flat() &&
           (s == cpu::SegReg::Ds || s == cpu::SegReg::Es || s == cpu::SegReg::Ss);
}

void BlockCompiler::reload_guests(bool all) {
    for (unsigned g = 0; g < kPinned.size(); ++g) {
        bool clobbered = all;
        for (unsigned k : kCallerSavedGuests)
            clobbered |= k == g;
        if (clobbered) c.mov(pinned(g).cvt32(), gpr_addr(g));
    }
}

void BlockCompiler::capture_flags(ir::InstRef producer, unsigned kind, const Reg64* a,
                                  const Reg64* b, std::uint32_t b_imm, const ir::Value& a_value,
                                  const ir::Value& b_value) {
    host_flags_ = producer;
    const ir::InstRef f = flags_of_[producer];
    if (f == ir::kNoInst || host_only_[f]) return;
    const bool sink = options_.sink_records && !a_value.empty() && !a_value.is_immediate();
    if (kind != 0 && a && lazy_ok_[producer] && options_.lazy_flags &&
        (sink || !lazy::is_shift(kind / 4))) {
        // Plain stores: the host's flags stay (a TestCond may read them next).
        const unsigned op = kind / 4;
        const bool inc_dec = op == lazy::kInc || op == lazy::kDec;
        if (sink) {
            forget_record();  // nothing has read it since it was made
            if (inc_dec) c.setc(byte[r15 + ctx_offset::kLazyB]);
            deferred_ = Deferred{};
            deferred_.kind = kind;
            deferred_.a = a_value;
            ra_.hold(a_value);
            if (!inc_dec && op != lazy::kLogic) {
                if (b_value.empty()) {
                    deferred_.b_imm = b_imm;
                    deferred_.has_b_imm = true;
                } else {
                    deferred_.b = b_value;
                    ra_.hold(b_value);
                }
            }
        } else {
            forget_record();  // (superseded: these stores replace it)
            c.mov(dword[r15 + ctx_offset::kLazyA], a->cvt32());
            if (inc_dec) {
                c.setc(byte[r15 + ctx_offset::kLazyB]);
            } else if (b) {
                c.mov(dword[r15 + ctx_offset::kLazyB], b->cvt32());
            } else if (op != lazy::kLogic) {
                c.mov(dword[r15 + ctx_offset::kLazyB], b_imm);
            }
            c.mov(byte[r15 + ctx_offset::kLazyOp], static_cast<std::uint8_t>(kind));
        }
        lazy_flags_[f] = true;
        lazy_kind_[f] = static_cast<std::uint8_t>(kind);
        lazy_pending_ = true;
        return;
    }
    // A Flags value's bits beyond the six status flags are meaningless; the
    // host's flags must survive the capture (a TestCond may read them next).
    // LAHF gives SF ZF AF PF CF at their EFLAGS positions; OF is placed at
    // bit 11 through the second byte of RCX or RDX. Much cheaper than PUSHF.
    // RAX, when it holds a value, waits in another free temporary meanwhile.
    // SHL/SHR/SAR leave AF undefined; ir::eval's model sets it, whatever the
    // host's shift did (see lazy::kShl).
    const bool set_af = sets_af_by_model(block_.inst(producer).op);
    for (const Reg64& r : {rcx, rdx}) {
        if (!ra_.is_free(r.getIdx())) continue;
        int save = -1;
        if (!ra_.is_free(Xbyak::Operand::RAX)) {
            for (const int t : {Xbyak::Operand::RSI, Xbyak::Operand::RDI, Xbyak::Operand::RCX,
                                Xbyak::Operand::RDX}) {
                if (t != r.getIdx() && ra_.is_free(t)) {
                    save = t;
                    break;
                }
            }
            if (save < 0) continue;
            c.mov(Reg64(save), rax);
        }
        c.lahf();
        c.seto(al);
        if (set_af) {
            // AF into AH, the image built, then the host's flags back as
            // they were (AF set): OF from AL (1 + 0x7F overflows), the rest
            // by SAHF.
            c.or_(ah, cpu::eflags::AF);
            c.movzx(r.cvt32(), al);
            c.shl(r.cvt32(), 11);
            c.or_(r.getIdx() == Xbyak::Operand::RCX ? cl : dl, ah);
            c.add(al, 0x7F);
            c.sahf();
        } else {
            c.movzx(r.cvt32(), ah);
            c.movzx(eax, al);
            c.lea(eax, ptr[rax * 8]);
            c.mov(r.getIdx() == Xbyak::Operand::RCX ? ch : dh, al);
        }
        if (save >= 0) c.mov(rax, Reg64(save));
        ra_.define_in(f, r);
        return;
    }
    // Otherwise the raw RFLAGS image (PUSHF/POP leave the host's flags alone).
    const Reg64 r = ra_.define(f);
    c.pushfq();
    c.pop(r);
    if (set_af) {
        c.or_(r.cvt32(), cpu::eflags::AF);
        c.push(r);
        c.popfq();  // the host's flags as they were, AF set
    }
}

BlockCompiler::RecordOperand BlockCompiler::operand_now(const ir::Value& v) const {
    RecordOperand o;
    const int r = ra_.register_of(v);
    if (r >= 0) {
        o.kind = RecordOperand::Kind::Reg;
        o.reg = r;
    } else {
        o.kind = RecordOperand::Kind::Slot;
        o.slot = RegAlloc::spill_offset_of(v);
    }
    return o;
}

BlockCompiler::RecordPlan BlockCompiler::record_plan() const {
    RecordPlan plan;
    if (deferred_.kind == 0) return plan;
    plan.kind = deferred_.kind;
    if (deferred_.a_guest >= 0) {
        plan.a.kind = RecordOperand::Kind::Reg;
        plan.a.reg = pinned(static_cast<unsigned>(deferred_.a_guest)).getIdx();
    } else {
        plan.a = operand_now(deferred_.a);
    }
    if (deferred_.b_guest >= 0) {
        plan.b.kind = RecordOperand::Kind::Reg;
        plan.b.reg = pinned(static_cast<unsigned>(deferred_.b_guest)).getIdx();
    } else if (!deferred_.b.empty()) {
        plan.b = operand_now(deferred_.b);
    } else if (deferred_.has_b_imm) {
        plan.b.kind = RecordOperand::Kind::Imm;
        plan.b.imm = deferred_.b_imm;
    }
    return plan;
}

void BlockCompiler::store_plan(const RecordPlan& plan) {
    if (plan.kind == 0) return;
    const auto store = [&](const RecordOperand& o, std::size_t at) {
        switch (o.kind) {
            case RecordOperand::Kind::None:
                break;
            case RecordOperand::Kind::Reg:
                c.mov(dword[r15 + at], Reg64(o.reg).cvt32());
                break;
            case RecordOperand::Kind::Imm:
                c.mov(dword[r15 + at], o.imm);
                break;
            case RecordOperand::Kind::Slot:
                // Through RAX, kept (the slot is RSP-relative: 8 more after the push).
                c.push(rax);
                c.mov(eax, dword[rsp + o.slot + 8]);
                c.mov(dword[r15 + at], eax);
                c.pop(rax);
                break;
        }
    };
    store(plan.a, ctx_offset::kLazyA);
    store(plan.b, ctx_offset::kLazyB);
    c.mov(byte[r15 + ctx_offset::kLazyOp], static_cast<std::uint8_t>(plan.kind));
}

void BlockCompiler::store_record() {
    if (deferred_.kind == 0) return;
    store_plan(record_plan());
    forget_record();
}

void BlockCompiler::forget_record() {
    if (deferred_.kind == 0) return;
    if (!deferred_.a.empty()) ra_.release(deferred_.a);
    if (!deferred_.b.empty()) ra_.release(deferred_.b);
    deferred_ = Deferred{};
}

void BlockCompiler::materialize_flags() {
    store_record();
    if (!lazy_pending_) return;
    lazy_pending_ = false;
    host_flags_ = ir::kNoInst;
    Xbyak::Label current;
    c.cmp(byte[r15 + ctx_offset::kLazyOp], 0);
    c.je(current);
    c.call(shared_.materialize_flags);
    c.L(current);
}

void BlockCompiler::carry_into_host() {
    // The guest's flags are some op's whose flags the host still has.
    if (flags_owner_ != ir::kNoInst && host_flags_before_ == flags_owner_) return;
    const ir::InstRef f = flags_owner_ == ir::kNoInst ? ir::kNoInst : flags_of_[flags_owner_];
    if (f != ir::kNoInst && lazy_flags_[f]) {
        // Its record is the current one: re-run it.
        rerun_record(lazy_kind_[f]);
        return;
    }
    materialize_flags();
    c.bt(dword[r15 + ctx_offset::kFlagsStatus], 0);
}

void lazy::rerun(Xbyak::CodeGenerator& c, const Reg64& t, unsigned kind) {
    const unsigned bits = bits_of(kind);
    const Xbyak::Reg r = sized(t, bits);
    const std::size_t at = ctx_offset::kLazyB;
    const Xbyak::Address b = bits == 8    ? c.byte[r15 + at]
                             : bits == 16 ? c.word[r15 + at]
                                          : c.dword[r15 + at];
    c.mov(t.cvt32(), c.dword[r15 + ctx_offset::kLazyA]);
    switch (kind / 4) {
        case kAdd:  // a = result - b, then a + b
            c.sub(r, b);
            c.add(r, b);
            break;
        case kSub:  // a = result + b, then a - b
            c.add(r, b);
            c.sub(r, b);
            break;
        case kCmp:
            c.cmp(r, b);
            break;
        case kTest:
            c.test(b, r);
            break;
        case kLogic:  // AND, OR, XOR: the flags of their result
            c.test(r, r);
            break;
        case kShl:
        case kShr:
        case kSar: {  // the shift again, by the count in b (1-31) less 1 through CL, then by 1
            c.push(c.rcx);
            c.mov(c.ecx, c.dword[r15 + at]);
            c.dec(c.ecx);
            shift(c, kind / 4, r, c.cl);
            shift(c, kind / 4, r, 1);
            c.pop(c.rcx);
            break;
        }
        case kAdc:
        case kSbb: {  // the first operand back (a -/+ b -/+ c), then the op with CF = c
            const bool adc = kind / 4 == kAdc;
            c.cmp(c.byte[r15 + ctx_offset::kLazyC], 1);  // CF = (c clear)
            c.cmc();
            if (adc) {
                c.sbb(r, b);
            } else {
                c.adc(r, b);
            }
            c.cmp(c.byte[r15 + ctx_offset::kLazyC], 1);
            c.cmc();
            if (adc) {
                c.adc(r, b);
            } else {
                c.sbb(r, b);
            }
            break;
        }
        default: {  // INC, DEC: the operand back, CF from b, then the op
            const bool inc = kind / 4 == kInc;
            c.lea(t.cvt32(), c.ptr[t + (inc ? -1 : 1)]);
            c.cmp(c.byte[r15 + at], 1);  // CF = (b clear)
            c.cmc();
            if (inc) {
                c.inc(r);
            } else {
                c.dec(r);
            }
            break;
        }
    }
}

void BlockCompiler::rerun_record(unsigned kind) {
    if (deferred_.names_guests()) {
        throw std::logic_error("x64 backend: re-running a loop's incoming record");
    }
    if (deferred_.kind != 0 && deferred_.kind != kind) {
        throw std::logic_error("x64 backend: re-running a record that is not the deferred one");
    }
    if (deferred_.kind == 0 || kind / 4 == lazy::kInc || kind / 4 == lazy::kDec) {
        // (An INC/DEC's CF is in memory already.)
        store_record();
        lazy::rerun(c, ra_.scratch(), kind);
        return;
    }
    const unsigned bits = lazy::bits_of(kind);
    const Reg64 t = ra_.scratch();
    const Xbyak::Reg r = sized(t, bits);
    ra_.load_into(t, deferred_.a);
    // `op` on the result and b (an immediate, a register or a spill slot).
    const auto apply = [&](auto&& op) {
        if (deferred_.b.empty()) {
            op(r, deferred_.b_imm);
            return;
        }
        const int b = ra_.register_of(deferred_.b);
        if (b >= 0) {
            op(r, sized(Reg64(b), bits));
        } else {
            const int slot = RegAlloc::spill_offset_of(deferred_.b);
            op(r, bits == 8    ? c.byte[rsp + slot]
                  : bits == 16 ? c.word[rsp + slot]
                               : c.dword[rsp + slot]);
        }
    };
    switch (kind / 4) {
        case lazy::kAdd:  // a = result - b, then a + b
            apply([&](const auto& x, const auto& y) { c.sub(x, y); });
            apply([&](const auto& x, const auto& y) { c.add(x, y); });
            break;
        case lazy::kSub:  // a = result + b, then a - b
            apply([&](const auto& x, const auto& y) { c.add(x, y); });
            apply([&](const auto& x, const auto& y) { c.sub(x, y); });
            break;
        case lazy::kCmp:
            apply([&](const auto& x, const auto& y) { c.cmp(x, y); });
            break;
        case lazy::kTest:  // (TEST takes a memory operand first)
            apply([&](const auto& x, const auto& y) {
                if constexpr (std::is_same_v<std::decay_t<decltype(y)>, Xbyak::Address>) {
                    c.test(y, x);
                } else {
                    c.test(x, y);
                }
            });
            break;
        case lazy::kAdc:
        case lazy::kSbb: {  // (the carry in is in memory already)
            const bool adc = kind / 4 == lazy::kAdc;
            const auto carry = [&] {
                c.cmp(c.byte[r15 + ctx_offset::kLazyC], 1);  // CF = (c clear)
                c.cmc();
            };
            carry();
            apply([&](const auto& x, const auto& y) {
                if (adc) {
                    c.sbb(x, y);
                } else {
                    c.adc(x, y);
                }
            });
            carry();
            apply([&](const auto& x, const auto& y) {
                if (adc) {
                    c.adc(x, y);
                } else {
                    c.sbb(x, y);
                }
            });
            break;
        }
        case lazy::kShl:
        case lazy::kShr:
        case lazy::kSar:
            by_last_step(deferred_.b_imm, true, [&](unsigned n) {
                lazy::shift(c, kind / 4, r, static_cast<std::uint8_t>(n));
            });
            break;
        default:  // AND, OR, XOR: the flags of their result
            c.test(r, r);
            break;
    }
}

void BlockCompiler::drop_deferred_flags() {
    forget_record();
    if (lazy_pending_) c.mov(byte[r15 + ctx_offset::kLazyOp], 0);
    lazy_pending_ = false;
}

Xbyak::Address BlockCompiler::gpr_addr(unsigned r, unsigned byte_offset) {
    return c.ptr[r15 + ctx_offset::kGpr + 4 * r + byte_offset];
}

Xbyak::Address BlockCompiler::seg_addr(unsigned s, std::size_t field) {
    return c.ptr[r15 + ctx_offset::kSeg + ctx_offset::kSegSize * s + field];
}

namespace {
void raise_event(cpu::CpuContext& ctx, const cpu::Event* event) {
    cpu::runtime::raise(ctx, *event);
}
}  // namespace

std::optional<LoopRecord> BlockCompiler::carried_record() const {
    const ir::Terminal& t = block_.terminal();
    const LocationDescriptor& loc = block_.location();
    if (!options_.loop_copies || t.kind != ir::Terminal::Kind::Branch || t.cond.is_immediate() ||
        t.target != loc.eip || loc.single_step() || deferred_.kind == 0) {
        return std::nullopt;
    }
    const auto guest_of = [&](const ir::Value& v, int guest) {
        return guest >= 0 ? guest : ra_.pinned_guest_of(v);
    };
    LoopRecord r;
    r.kind = deferred_.kind;
    r.a_guest = guest_of(deferred_.a, deferred_.a_guest);
    if (r.a_guest < 0) return std::nullopt;
    if (deferred_.b_guest >= 0 || !deferred_.b.empty()) {
        r.b_guest = guest_of(deferred_.b, deferred_.b_guest);
        if (r.b_guest < 0) return std::nullopt;
    } else {
        r.has_b_imm = deferred_.has_b_imm;
        r.b_imm = deferred_.b_imm;
    }
    return r;
}

unsigned BlockCompiler::guests_written(std::size_t n) const {
    const ir::Inst& inst = block_.insts()[n];
    unsigned mask = 0;
    switch (inst.op) {
        case Opcode::SetGpr32:
        case Opcode::SetGpr16:
            mask |= 1u << (inst.args[0].imm() & 7);
            break;
        case Opcode::SetGpr8:
            mask |= 1u << (inst.args[0].imm() & 3);
            break;
        default:
            break;
    }
    if (target_gpr_[n] >= 0) mask |= 1u << target_gpr_[n];
    // A write computing its PUSH's ESP after the access (late_gpr_).
    if (memory_access(inst.op).write && !inst.args[0].is_immediate() &&
        late_gpr_[inst.args[0].inst()] >= 0) {
        mask |= 1u << late_gpr_[inst.args[0].inst()];
    }
    return mask;
}

void BlockCompiler::emit_terminal() {
    const ir::Terminal& t = block_.terminal();
    const std::optional<LoopRecord> carried = carried_record();
    if (!carried) store_record();  // (plain stores: a branch's flags stay)
    switch (t.kind) {
        case ir::Terminal::Kind::None:
            count_instructions(started_);
            emit_exit(ExitReason::Next);
            break;
        case ir::Terminal::Kind::Dispatch:
            count_instructions(started_);
            emit_dispatch();
            break;
        case ir::Terminal::Kind::Link:
            count_instructions(started_);
            emit_link(t.target);
            break;
        case ir::Terminal::Kind::Branch: {
            if (carried) {
                // Back to its own start with the flags deferred in guest
                // registers: the record goes along in them (see LoopRecord).
                const RecordPlan plan = record_plan();
                const unsigned cc = condition_code(t.cond);
                count_instructions(started_);
                if (steady_ && carried == steady_) {
                    jcc(cc, entry_);
                } else {
                    auto* back = &slow_labels_.emplace_back();
                    jcc(cc, *back);
                    slow_paths_.push_back([this, back, plan, target = t.target] {
                        c.L(*back);
                        loop_slot_ = c.getCurr();
                        Xbyak::Label as_usual;
                        c.jmp(as_usual, Xbyak::CodeGenerator::T_NEAR);
                        c.L(as_usual);
                        store_plan(plan);
                        emit_link(target);
                    });
                    if (!steady_) loop_record_ = carried;
                }
                store_plan(plan);
                forget_record();
                emit_link(t.fallthrough);
                break;
            }
            if (t.cond.is_immediate()) {
                count_instructions(started_);
                emit_link((t.cond.imm() & 1) ? t.target : t.fallthrough);
                break;
            }
            // Taken: a linkable conditional jump; else on to the fallthrough's.
            // (The count is a LEA: the condition's flags stay.)
            const unsigned cc = condition_code(t.cond);
            count_instructions(started_);
            emit_link(t.target, static_cast<int>(cc));
            emit_link(t.fallthrough);
            break;
        }
        case ir::Terminal::Kind::Halt:
            c.mov(dword[r15 + ctx_offset::kEip], t.target);
            count_instructions(started_);
            emit_exit(ExitReason::Halt);
            break;
        case ir::Terminal::Kind::Raise: {
            // The event is stored as data after the exit code.
            Xbyak::Label data;
            c.mov(dword[r15 + ctx_offset::kEip], t.target);
            c.lea(rsi, ptr[rip + data]);
            call_runtime(reinterpret_cast<const void*>(&raise_event));
            // (The epilogue stores the pinned registers: those the call may
            // have clobbered come back from the context first.)
            reload_guests(false);
            // Faults do not retire their instruction; traps and INT n do.
            const bool fault = t.event.kind == cpu::EventKind::Fault;
            count_instructions(fault && started_ > 0 ? started_ - 1 : started_);
            emit_exit(ExitReason::Abort);
            c.align(8);
            c.L(data);
            c.db(reinterpret_cast<const std::uint8_t*>(&t.event), sizeof(cpu::Event));
            break;
        }
    }
}

bool BlockCompiler::may_use_jump_cache() const {
    if (!options_.jump_cache || block_.location().single_step()) return false;
    for (const ir::Inst& inst : block_.insts()) {
        switch (inst.op) {
            case Opcode::SetSegReal:
            case Opcode::SetEflags:
                return false;
            case Opcode::CallHelper: {
                const auto id = static_cast<cpu::HelperId>(inst.args[0].imm());
                if (cpu::helper_info(id).props & cpu::helper_props::kControl) return false;
                break;
            }
            default:
                break;
        }
    }
    return true;
}

void BlockCompiler::emit_dispatch() {
    if (jump_cache_exit_) {
        // Hit: same EIP, CS base and mode as this block (nothing in it could
        // have changed those): jump straight into the block.
        static_assert(sizeof(cpu::JumpCacheEntry) == 32);
        const LocationDescriptor& loc = block_.location();
        Xbyak::Label miss;
        if (!eip_in_eax_) c.mov(eax, dword[r15 + ctx_offset::kEip]);
        if (shared_.bmi2) {  // (a rotate left by 5 copies and scales at once)
            c.rorx(ecx, eax, 27);
            c.and_(ecx, (cpu::kJumpCacheEntries - 1) << 5);
        } else {
            c.mov(ecx, eax);
            c.and_(ecx, cpu::kJumpCacheEntries - 1);
            c.shl(ecx, 5);
        }
        const std::size_t base = ctx_offset::kJumpCache;
        static_assert(offsetof(cpu::JumpCacheEntry, cs_base) ==
                      offsetof(cpu::JumpCacheEntry, eip) + 4);
        if (loc.cs_base == 0) {
            // RAX is EIP zero-extended: EIP and a zero CS base in one compare.
            c.cmp(rax, qword[r15 + rcx + base + offsetof(cpu::JumpCacheEntry, eip)]);
            c.jne(miss);
        } else {
            c.cmp(eax, dword[r15 + rcx + base + offsetof(cpu::JumpCacheEntry, eip)]);
            c.jne(miss);
            c.cmp(dword[r15 + rcx + base + offsetof(cpu::JumpCacheEntry, cs_base)], loc.cs_base);
            c.jne(miss);
        }
        c.cmp(dword[r15 + rcx + base + offsetof(cpu::JumpCacheEntry, mode)], loc.mode);
        c.jne(miss);
        c.jmp(qword[r15 + rcx + base + offsetof(cpu::JumpCacheEntry, code)]);
        c.L(miss);
    }
    emit_exit(ExitReason::Next);
}

// ---- Conditional jumps -----------------------------------------------------------

bool BlockCompiler::read_by_jump_only(ir::InstRef i) const {
    if (block_.inst(i).use_count != 1) return false;
    const auto reads_i = [i](const ir::Value& cond) {
        return !cond.is_immediate() && cond.inst() == i;
    };
    const std::size_t next = static_cast<std::size_t>(i) + 1;
    if (next == block_.insts().size()) {
        const ir::Terminal& t = block_.terminal();
        return t.kind == ir::Terminal::Kind::Branch && reads_i(t.cond);
    }
    const ir::Inst& user = block_.inst(static_cast<ir::InstRef>(next));
    return user.op == ir::Opcode::ExitIf && reads_i(user.args[0]);
}

unsigned BlockCompiler::condition_code(const ir::Value& cond) {
    if (branch_cond_ != ir::kNoInst && cond.inst() == branch_cond_) {
        if (host_flags_ != branch_producer_) {
            throw std::logic_error("x64 backend: a jump's flags were overwritten");
        }
        branch_cond_ = ir::kNoInst;
        return branch_cc_;
    }
    const Reg64 r = ra_.use(cond);
    c.test(r.cvt32(), r.cvt32());
    return 5;  // JNZ
}

void BlockCompiler::emit_ExitIf(ir::InstRef, const ir::Inst& inst) {
    const ir::Value& cond = inst.args[0];
    const auto eip = static_cast<std::uint32_t>(inst.args[1].imm());
    if (cond.is_immediate()) {  // folded: never, or always (the rest is dead)
        if ((cond.imm() & 1) == 0) return;
        count_instructions(started_);
        emit_link(eip);
        return;
    }
    // Taken, a stub counts the instructions so far (the main line counts
    // them all at its end) and leaves through a linkable jump.
    auto* stub = &slow_labels_.emplace_back();
    jcc(condition_code(cond), *stub);
    const std::uint32_t n = started_;
    const RecordPlan record = record_plan();
    slow_paths_.push_back([this, stub, n, eip, record] {
        c.L(*stub);
        store_plan(record);
        count_instructions(n);
        emit_link(eip);
    });
}

// ---- Markers -------------------------------------------------------------------

void BlockCompiler::emit_BeginInstruction(ir::InstRef, const ir::Inst& inst) {
    insn_eip_ = static_cast<std::uint32_t>(inst.args[0].imm());
    ++started_;
}

}  // namespace jitterbug::jit::x64
