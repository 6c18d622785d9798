#include "cpu/translator.hpp"

#include <Zydis/Mnemonic.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "cpu/semantics/table.hpp"
#include "util/log.hpp"

namespace jitterbug::cpu {

namespace {

constexpr unsigned kMaxInstructionLength = 15;

}  // namespace

ir::Block Translator::translate(const LocationDescriptor& loc, std::uint32_t cs_limit,
                                TranslatorLimits limits, TranslatedCode& code) {
    ir::Block block(loc);
    ir::Builder builder(block);
    const semantics::SemanticsTable& table = semantics::semantics_table();
    const std::uint32_t max_insns = loc.single_step() ? 1 : limits.max_instructions;
    const std::uint32_t eip_mask = loc.code32() ? 0xFFFFFFFFu : 0xFFFFu;

    std::uint32_t eip = loc.eip;
    const mmu::TlbSet set = mmu::tlb_set_of_cpl(loc.cpl());
    code = TranslatedCode{};
    // The guest code translated so far, as [first, end) EIP ranges.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pieces;
    const auto followable = [&](const Instruction& insn, std::uint32_t target) {
        const auto m = static_cast<ZydisMnemonic>(insn.mnemonic);
        if (!insn.relative || (m != ZYDIS_MNEMONIC_JMP && m != ZYDIS_MNEMONIC_CALL)) return false;
        if (target > cs_limit || cs_limit - target < kMaxInstructionLength) return false;
        for (const auto& [lo, hi] : pieces) {
            if (target >= lo && target < hi) return false;
        }
        return true;
    };
    for (std::uint32_t n = 0;; ++n) {
        if (n == max_insns || block.insts().size() >= limits.max_ir_instructions) {
            semantics::Emitter(builder, Instruction{}, loc, eip).jump(eip);
            break;
        }
        const std::uint32_t linear = loc.cs_base + eip;
        const bool first = n == 0;
        // Instruction bytes, possibly spanning into the next page.
        std::array<std::uint8_t, kMaxInstructionLength> bytes{};
        PhysicalAddress phys;
        mmu::PageFault fault;
        if (!mmu_.fetch(linear, bytes, set, phys, fault)) {
            // Only reachable for later instructions: end the block before it,
            // the dispatcher raises the fault when it gets there.
            semantics::Emitter(builder, Instruction{}, loc, eip).jump(eip);
            break;
        }
        const std::uint32_t page_phys = static_cast<std::uint32_t>(phys.value >> kPageShift);
        if (first) {
            code.phys_start = phys.value;
            code.pages[0] = page_phys;
            code.num_pages = 1;
            code.first_lo = phys.value;
            code.first_hi = phys.value;
        } else if (page_phys != code.pages[code.num_pages - 1]) {
            semantics::Emitter(builder, Instruction{}, loc, eip).jump(eip);  // next page
            break;
        }
        std::size_t available = kPageSize - (linear & kPageOffsetMask);
        if (available > bytes.size()) available = bytes.size();

        Instruction insn;
        DecodeStatus status = decoder_.decode({bytes.data(), available}, loc.code32(), eip, insn);
        std::uint32_t second_page = 0;
        bool spans = false;
        if (status == DecodeStatus::NeedMoreBytes) {
            // The instruction continues on the next page.
            PhysicalAddress phys2;
            const std::uint32_t next_linear = (linear & kPageMask) + kPageSize;
            if (!mmu_.fetch(next_linear, std::span(bytes).subspan(available), set, phys2, fault)) {
                if (first) {
                    // Fetching the rest faults: this is the instruction's fault.
                    builder.emit(ir::Opcode::BeginInstruction, {ir::imm32(eip)});
                    semantics::Emitter(builder, Instruction{}, loc, eip)
                        .raise(vector::PF, fault.error_code);
                    block.terminal().event.fault_address = fault.linear;
                    block.guest_instructions = 1;
                    break;
                }
                semantics::Emitter(builder, Instruction{}, loc, eip).jump(eip);
                break;
            }
            second_page = static_cast<std::uint32_t>(phys2.value >> kPageShift);
            spans = true;
            status = decoder_.decode(bytes, loc.code32(), eip, insn);
        }

        builder.emit(ir::Opcode::BeginInstruction, {ir::imm32(eip)});
        ++block.guest_instructions;
        semantics::Emitter e(builder, insn, loc, eip);
        const std::uint32_t length = status == DecodeStatus::Ok ? insn.length : 1;
        if (spans && status == DecodeStatus::Ok) {
            code.pages[1] = second_page;
            code.num_pages = 2;
            code.second_len = length - static_cast<std::uint32_t>(available);
        }
        code.size += length;
        code.first_lo = std::min(code.first_lo, phys.value);
        // (What could not be decoded depends on every byte the decoder saw:
        // a store to any of them must drop the block.)
        const std::size_t seen = spans || status != DecodeStatus::Ok ? available : length;
        code.first_hi = std::max<std::uint64_t>(code.first_hi, phys.value + seen);
        pieces.push_back({eip, eip + length});

        if (eip + length - 1 > cs_limit || eip + length - 1 < eip) {
            e.raise(vector::GP, 0);  // beyond the code segment limit
        } else if (status != DecodeStatus::Ok) {
            e.raise(vector::UD);
        } else if (const semantics::SemanticFn fn = table.find(insn.mnemonic)) {
            fn(e);
        } else if (insn.opcode_map == 0 && insn.opcode >= 0xD8 && insn.opcode <= 0xDF) {
            semantics::x87_escape(e);
        } else {
            JB_TRACE(log::cpu(), "no semantics for {} at {:#x}", mnemonic_name(insn.mnemonic), eip);
            e.raise(vector::UD);
        }
        if (!e.ended() && e.end_after()) e.end_block();
        const std::uint32_t next = (eip + length) & eip_mask;
        ir::Terminal& t = block.terminal();
        // A forward conditional jump (mostly not taken, as a host CPU
        // predicts it too) need not end the block: taken, it becomes a side
        // exit, and the block goes on with the next instruction. Backward
        // ones close loops: those end the block, their target a block start.
        if (limits.continue_past_branches && t.kind == ir::Terminal::Kind::Branch &&
            t.fallthrough == next && t.target > eip && !t.cond.is_immediate() && !spans &&
            n + 1 < max_insns) {
            builder.emit(ir::Opcode::ExitIf, {t.cond, ir::imm32(t.target)});
            t = ir::Terminal{};
        } else if (limits.follow_jumps && t.kind == ir::Terminal::Kind::Link && !spans &&
                   n + 1 < max_insns && followable(insn, t.target)) {
            // A direct JMP/CALL: on at its target, unless that is in the block
            // already (a loop) or beyond CS's limit (the next block's
            // translation raises that fault); a target on another page ends
            // the block at the top of the loop.
            eip = t.target;
            t = ir::Terminal{};
            continue;
        } else if (e.ended()) {
            break;
        }
        eip = next;
        if (spans) {
            semantics::Emitter(builder, Instruction{}, loc, eip).jump(eip);
            break;
        }
    }
    block.guest_bytes = code.size;
    block.recount_uses();
    return block;
}

}  // namespace jitterbug::cpu
