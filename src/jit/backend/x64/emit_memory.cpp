// Guest memory accesses with the inline software-TLB fast path, segment
// checks, and calls into the runtime. Slow paths are emitted out of line,
// after the block's terminal.
#include <optional>

#include "cpu/runtime.hpp"
#include "jit/backend/x64/block_compiler.hpp"

namespace jitterbug::jit::x64 {

using namespace Xbyak::util;
namespace rt = cpu::runtime;

namespace {

// Saves `regs` around a call, keeping RSP 16-byte aligned.
void push_all(Xbyak::CodeGenerator& c, const std::vector<Reg64>& regs) {
    for (const Reg64& r : regs)
        c.push(r);
    if (regs.size() % 2) c.sub(rsp, 8);
}

void pop_all(Xbyak::CodeGenerator& c, const std::vector<Reg64>& regs) {
    if (regs.size() % 2) c.add(rsp, 8);
    for (auto it = regs.rbegin(); it != regs.rend(); ++it)
        c.pop(*it);
}

std::uint32_t read_slow_thunk(cpu::CpuContext& ctx, std::uint32_t linear, std::uint32_t size) {
    return rt::jit_read_slow(ctx, linear, size);
}

void write_slow_thunk(cpu::CpuContext& ctx, std::uint32_t linear, std::uint32_t size,
                      std::uint32_t value) {
    rt::jit_write_slow(ctx, linear, size, value);
}

void check_segment_thunk(cpu::CpuContext& ctx, std::uint32_t seg, std::uint32_t offset,
                         std::uint32_t info) {
    rt::check_segment_slow(ctx, seg, offset, info);
}

// Bytes [addr + lo, addr + lo + (span >> 2)], read (span bit 0) and/or
// written (bit 1).
std::uint64_t probe_group_thunk(cpu::CpuContext& ctx, std::uint32_t addr, std::uint32_t lo,
                                std::uint32_t span) {
    const std::uint32_t first = addr + lo;
    return rt::probe_page_group(ctx, first, first + (span >> 2), (span & 1) != 0, (span & 2) != 0);
}

}  // namespace

void BlockCompiler::emit_CheckSegment(ir::InstRef i, const ir::Inst& inst) {
    const unsigned seg = static_cast<unsigned>(inst.args[0].imm());
    const auto info = static_cast<std::uint32_t>(inst.args[2].imm());
    const bool write = (info >> 8) == rt::kAccessWrite;
    if (static_cast<std::size_t>(i) + 1 < fused_check_.size() && fused_check_[i + 1] == i) {
        ra_.consume(inst.args[1]);  // done by the access (its slow path)
        return;
    }
    auto* slow = &slow_labels_.emplace_back();
    auto* done = &slow_labels_.emplace_back();
    const Reg64 offset = ra_.use(inst.args[1]);
    if (flat_segment(seg)) {
        // Limit 4 GiB - 1: only an access wrapping past it fails.
        const std::uint32_t last_byte = info & 0xFF;
        if (last_byte == 0) return;
        c.cmp(offset.cvt32(), 0xFFFFFFFFu - last_byte);
        c.ja(*slow, Xbyak::CodeGenerator::T_NEAR);
    } else {
        const Reg64 last = ra_.scratch();
        // last = offset + size - 1, in 64 bits so it cannot wrap; the limit is
        // signed so that -1 rejects every access.
        c.mov(last.cvt32(), offset.cvt32());
        c.add(last, info & 0xFF);
        const std::size_t limits = write ? ctx_offset::kSegWriteLimit : ctx_offset::kSegReadLimit;
        c.cmp(last, qword[r15 + limits + 8 * seg]);
        c.jg(*slow, Xbyak::CodeGenerator::T_NEAR);
    }
    c.L(*done);

    const std::vector<Reg64> live = ra_.live_caller_saved();
    Xbyak::Label* abort = &abort_label();
    const Reg64 off = offset;
    const RecordPlan record = record_plan();
    slow_paths_.push_back([this, slow, done, live, abort, off, seg, info, record] {
        c.L(*slow);
        store_plan(record);
        push_all(c, live);
        c.mov(edx, off.cvt32());
        c.mov(esi, seg);
        c.mov(ecx, info);
        call_runtime(reinterpret_cast<const void*>(&check_segment_thunk));
        return_from_runtime(live, false, abort);
        c.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
    });
}

void BlockCompiler::return_from_runtime(const std::vector<Reg64>& live, bool reload_all,
                                        Xbyak::Label* abort) {
    pop_all(c, live);
    reload_guests(reload_all);
    c.cmp(byte[r15 + ctx_offset::kAbort], 0);
    c.jne(*abort, Xbyak::CodeGenerator::T_NEAR);
}

// index = the byte offset in CpuContext::tlb of the entry for `addr`'s page:
// ((addr >> 12) & (entries - 1)) * 32, in two instructions.
static void tlb_index(Xbyak::CodeGenerator& c, const Reg64& index, const Reg64& addr, bool bmi2) {
    static_assert(sizeof(mmu::TlbEntry) == 32);
    if (bmi2) {
        // A rotate by 7 copies and shifts at once; the mask drops what
        // wrapped around.
        static_assert(((mmu::Tlb::kEntries - 1) << 5) < (1u << (32 - (kPageShift - 5))));
        c.rorx(index.cvt32(), addr.cvt32(), kPageShift - 5);
    } else {
        if (index.getIdx() != addr.getIdx()) c.mov(index.cvt32(), addr.cvt32());
        c.shr(index.cvt32(), kPageShift - 5);
    }
    c.and_(index.cvt32(), (mmu::Tlb::kEntries - 1) << 5);
}

// On a TLB hit, leaves in `host` what to add to `addr` (a zero-extended
// 32-bit linear address) for the host address; jumps to `miss` otherwise.
// Tag offset selects the read or write tag.
static void tlb_lookup(Xbyak::CodeGenerator& c, const Reg64& addr, const Reg64& index,
                       const Reg64& host, unsigned size, std::size_t set_base,
                       std::size_t tag_offset, Xbyak::Label& miss, bool inline_lookup, bool bmi2) {
    if (!inline_lookup) {
        c.jmp(miss, Xbyak::CodeGenerator::T_NEAR);
        return;
    }
    tlb_index(c, index, addr, bmi2);
    // The page of the access's last byte must be the entry's page.
    if (size == 1) {
        c.mov(host.cvt32(), addr.cvt32());
    } else {
        c.lea(host.cvt32(), ptr[addr + (size - 1)]);
    }
    c.and_(host.cvt32(), kPageMask);
    c.cmp(host.cvt32(), dword[r15 + index + set_base + tag_offset]);
    c.jne(miss, Xbyak::CodeGenerator::T_NEAR);
    c.mov(host, qword[r15 + index + set_base + offsetof(mmu::TlbEntry, addend)]);
}

std::vector<Reg64> BlockCompiler::kept_around_call(std::vector<Reg64> live, const Reg64& addr,
                                                   const Reg64* value) {
    for (const Reg64* r : {&addr, value}) {
        if (!r || !is_temporary(r->getIdx())) continue;
        bool known = false;
        for (const Reg64& l : live)
            known |= l.getIdx() == r->getIdx();
        if (!known) live.push_back(*r);
    }
    return live;
}

void BlockCompiler::fused_check_slow(ir::InstRef access, const Reg64& addr, const Reg64* value,
                                     const std::vector<Reg64>& live, Xbyak::Label* abort) {
    const ir::InstRef check = fused_check_[access];
    if (check == ir::kNoInst) return;
    const ir::Inst& inst = block_.inst(check);
    const std::vector<Reg64> saved = kept_around_call(live, addr, value);
    // addr may sit in an argument register: stage it first.
    c.mov(dword[r15 + ctx_offset::kScratch], addr.cvt32());
    push_all(c, saved);
    c.mov(edx, dword[r15 + ctx_offset::kScratch]);
    c.mov(esi, static_cast<std::uint32_t>(inst.args[0].imm()));
    c.mov(ecx, static_cast<std::uint32_t>(inst.args[2].imm()));
    call_runtime(reinterpret_cast<const void*>(&check_segment_thunk));
    return_from_runtime(saved, false, abort);
}

void BlockCompiler::group_check(ir::InstRef i, const Reg64& addr, const Reg64* value,
                                const Reg64& index, const Reg64& host) {
    PageGroup& group = groups_[static_cast<std::size_t>(group_of_[i])];
    group.active = true;
    // The group's lowest and highest bytes, relative to this access: the
    // entry of the lowest byte's page must be tagged with the highest's
    // (less than a page apart: both are then on it, and the span does not
    // wrap past 4 GiB), as for one access of that size.
    // (With the lowest byte at this access, its entry comes from `addr`.)
    const auto lo = static_cast<std::int32_t>(group.lo - group_offset_[i]);
    const auto hi = static_cast<std::int32_t>(group.hi - group_offset_[i]);
    const bool at_lowest = lo == 0;
    if (!at_lowest) c.lea(index.cvt32(), ptr[addr + lo]);
    c.lea(host.cvt32(), ptr[addr + hi]);
    auto* fail = &slow_labels_.emplace_back();
    auto* checked = &slow_labels_.emplace_back();
    c.and_(host.cvt32(), kPageMask);
    tlb_index(c, index, at_lowest ? addr : index, shared_.bmi2);
    if (group.reads) {
        c.cmp(host.cvt32(), dword[r15 + index + tlb_base_ + offsetof(mmu::TlbEntry, read_tag)]);
        c.jne(*fail, Xbyak::CodeGenerator::T_NEAR);
    }
    if (group.writes) {
        c.cmp(host.cvt32(), dword[r15 + index + tlb_base_ + offsetof(mmu::TlbEntry, write_tag)]);
        c.jne(*fail, Xbyak::CodeGenerator::T_NEAR);
    }
    c.mov(host, qword[r15 + index + tlb_base_ + offsetof(mmu::TlbEntry, addend)]);
    c.L(*checked);
    c.mov(qword[rsp + group.slot], host);

    // On a miss: fill the entry and take its addend, or leave the block.
    const std::vector<Reg64> saved = kept_around_call(ra_.live_caller_saved(), addr, value);
    Xbyak::Label* abort = &abort_label();
    const RecordPlan record = record_plan();
    const std::uint32_t span = static_cast<std::uint32_t>(hi - lo) << 2 | (group.writes ? 2u : 0u) |
                               (group.reads ? 1u : 0u);
    slow_paths_.push_back([this, fail, checked, saved, abort, record, addr, host, lo, span] {
        c.L(*fail);
        store_plan(record);
        // addr may sit in an argument register: stage it first.
        c.mov(dword[r15 + ctx_offset::kScratch], addr.cvt32());
        push_all(c, saved);
        c.mov(esi, dword[r15 + ctx_offset::kScratch]);
        c.mov(edx, static_cast<std::uint32_t>(lo));
        c.mov(ecx, span);
        call_runtime(reinterpret_cast<const void*>(&probe_group_thunk));
        c.mov(qword[r15 + ctx_offset::kScratch], rax);
        return_from_runtime(saved, false, abort);
        c.mov(host, qword[r15 + ctx_offset::kScratch]);
        c.jmp(*checked, Xbyak::CodeGenerator::T_NEAR);
    });
}

void BlockCompiler::begin_access(ir::InstRef i, const Reg64& addr, const Reg64* value,
                                 const Reg64& index, const Reg64& host, unsigned size, bool write,
                                 Xbyak::Label* slow) {
    if (fastmem_) {
        // The access itself, GS:[addr], next (guest_memory()); a fault there
        // resumes at `slow`.
        direct_accesses_.emplace_back(c.getCurr(), slow);
        c.db(0x65);  // GS
        return;
    }
    const std::size_t tag =
        write ? offsetof(mmu::TlbEntry, write_tag) : offsetof(mmu::TlbEntry, read_tag);
    const int g = group_of_[i];
    if (g < 0) {
        tlb_lookup(c, addr, index, host, size, tlb_base_, tag, *slow, options_.inline_tlb,
                   shared_.bmi2);
    } else if (!groups_[static_cast<std::size_t>(g)].active) {
        group_check(i, addr, value, index, host);
    } else {
        c.mov(host, qword[rsp + groups_[static_cast<std::size_t>(g)].slot]);
    }
}

Xbyak::RegExp BlockCompiler::guest_memory(const GuestAddress& addr, const Reg64& host) const {
    // (Direct: GS:[addr], the GS prefix emitted with the site. addr is a
    // zero-extended 32-bit address, below the window's guard, or the
    // folded sum of 32-bit registers.)
    if (addr.folded) return addr.sum;
    if (fastmem_) return Xbyak::RegExp(addr.reg);
    return host + addr.reg;
}

BlockCompiler::GuestAddress BlockCompiler::use_address(const ir::Value& a) {
    // (A late one is a plain value once its write defined it.)
    if (a.is_immediate() || !folded_[a.inst()] || ra_.is_defined(a.inst())) {
        return GuestAddress{ra_.use(a), false, {}};
    }
    // The ADD's operands, in 32 bits: the sum wraps at 4 GiB as the guest's.
    const ir::Inst& add = block_.inst(a.inst());
    ra_.consume(a);
    const auto part = [&](const ir::Value& v) -> Xbyak::RegExp {
        if (!v.is_immediate() && scaled_[v.inst()]) {
            const ir::Inst& shl = block_.inst(v.inst());
            ra_.consume(v);
            return ra_.use(shl.args[0]).cvt32() * (1 << (shl.args[1].imm() & 31));
        }
        return Xbyak::RegExp(ra_.use(v).cvt32());
    };
    Xbyak::RegExp sum = part(add.args[0]);
    const ir::Value& b = add.args[1];
    if (b.is_immediate()) {
        const auto u = static_cast<std::uint32_t>(b.imm());
        sum = sum + static_cast<std::int32_t>(add.op == ir::Opcode::Sub32 ? 0u - u : u);
    } else {
        sum = sum + part(b);
    }
    // The register the slow path computes the address into.
    return GuestAddress{ra_.scratch(), true, sum};
}

void BlockCompiler::define_late_address(const ir::Value& a, const GuestAddress& address) {
    if (!address.folded || late_gpr_[a.inst()] < 0) return;
    const Reg64 r = ra_.define_in_guest(a.inst(), static_cast<unsigned>(late_gpr_[a.inst()]));
    c.lea(r.cvt32(), c.ptr[address.sum]);
}

void BlockCompiler::address_into_register(const GuestAddress& a) {
    // (LEA of the 64-bit sum, truncated: the same 32 bits.)
    if (a.folded) c.lea(a.reg.cvt32(), c.ptr[a.sum]);
}

std::vector<BlockCompiler::FaultSite> BlockCompiler::fault_sites() const {
    std::vector<FaultSite> out;
    out.reserve(direct_accesses_.size());
    for (const auto& [access, slow] : direct_accesses_)
        out.push_back(FaultSite{access, slow->getAddress()});
    return out;
}

void BlockCompiler::read_mem(ir::InstRef i, const ir::Inst& inst, unsigned size) {
    const GuestAddress address = use_address(inst.args[0]);
    const Reg64 addr = address.reg;
    // The TLB lookup's registers (a direct or forwarded access needs none).
    const bool lookup = !fastmem_ && forwarded_from_[i] == ir::kNoInst;
    const Reg64 index = lookup ? ra_.scratch() : rax;
    const Reg64 host = lookup ? ra_.scratch() : rax;
    // A value that goes straight into a guest register is loaded there; an
    // 8- or 16-bit one then merges into it.
    const bool in_guest = target_gpr_[i] >= 0;
    const Reg64 dst =
        in_guest ? ra_.define_in_guest(i, static_cast<unsigned>(target_gpr_[i])) : ra_.define(i);
    auto* slow = &slow_labels_.emplace_back();
    auto* done = &slow_labels_.emplace_back();
    const ir::InstRef from = forwarded_from_[i];
    if (from != ir::kNoInst) {
        // The value a write of the group stored here (see forwarded_from_).
        const ir::Value& stored = block_.inst(from).args[1];
        ra_.load_into(dst, stored);
        ra_.release(stored);
    } else {
        begin_access(i, addr, nullptr, index, host, size, false, slow);
    }
    const Xbyak::RegExp at = guest_memory(address, host);
    if (!in_guest && size < 4) zero_extended_[i] = true;
    switch (from != ir::kNoInst ? 0 : size) {
        case 0:
            break;
        case 1:
            if (in_guest) {
                c.mov(dst.cvt8(), byte[at]);
            } else {
                c.movzx(dst.cvt32(), byte[at]);
            }
            break;
        case 2:
            if (in_guest) {
                c.mov(dst.cvt16(), word[at]);
            } else {
                c.movzx(dst.cvt32(), word[at]);
            }
            break;
        default:
            c.mov(dst.cvt32(), dword[at]);
            break;
    }
    c.L(*done);

    const std::vector<Reg64> live = ra_.live_caller_saved(dst.getIdx());
    Xbyak::Label* abort = &abort_label();
    const RecordPlan record = record_plan();
    slow_paths_.push_back(
        [this, i, slow, done, live, abort, address, addr, dst, size, in_guest, record] {
            c.L(*slow);
            address_into_register(address);
            store_plan(record);
            fused_check_slow(i, addr, nullptr, live, abort);
            push_all(c, live);
            c.mov(esi, addr.cvt32());
            c.mov(edx, size);
            call_runtime(reinterpret_cast<const void*>(&read_slow_thunk));
            c.mov(qword[r15 + ctx_offset::kScratch], rax);
            return_from_runtime(live, false, abort);
            if (in_guest && size == 1) {
                c.mov(dst.cvt8(), byte[r15 + ctx_offset::kScratch]);
            } else if (in_guest && size == 2) {
                c.mov(dst.cvt16(), word[r15 + ctx_offset::kScratch]);
            } else if (size == 1) {  // (zero-extended, as the fast path's: zero_extended_)
                c.movzx(dst.cvt32(), byte[r15 + ctx_offset::kScratch]);
            } else if (size == 2) {
                c.movzx(dst.cvt32(), word[r15 + ctx_offset::kScratch]);
            } else {
                c.mov(dst.cvt32(), dword[r15 + ctx_offset::kScratch]);
            }
            c.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
        });
}

void BlockCompiler::write_mem(ir::InstRef i, const ir::Inst& inst, unsigned size) {
    const GuestAddress address = use_address(inst.args[0]);
    const Reg64 addr = address.reg;
    // An immediate value is stored as one; the slow path then needs no register.
    const bool imm = inst.args[1].is_immediate();
    const std::uint32_t imm_value = imm ? static_cast<std::uint32_t>(inst.args[1].imm()) : 0;
    const std::optional<Reg64> value =
        imm ? std::nullopt : std::optional<Reg64>(ra_.use(inst.args[1]));
    if (!imm) {
        for (std::uint32_t k = 0; k < forwards_[i]; ++k)
            ra_.hold(inst.args[1]);  // until the reads it forwards to
    }
    // The TLB lookup's registers (a direct access needs none).
    const Reg64 index = fastmem_ ? rax : ra_.scratch();
    const Reg64 host = fastmem_ ? rax : ra_.scratch();
    auto* slow = &slow_labels_.emplace_back();
    auto* done = &slow_labels_.emplace_back();
    begin_access(i, addr, value ? &*value : nullptr, index, host, size, true, slow);
    const Xbyak::RegExp at = guest_memory(address, host);
    switch (size) {
        case 1:
            if (imm) {
                c.mov(byte[at], static_cast<std::uint8_t>(imm_value));
            } else {
                c.mov(byte[at], value->cvt8());
            }
            break;
        case 2:
            if (imm) {
                c.mov(word[at], static_cast<std::uint16_t>(imm_value));
            } else {
                c.mov(word[at], value->cvt16());
            }
            break;
        default:
            if (imm) {
                c.mov(dword[at], imm_value);
            } else {
                c.mov(dword[at], value->cvt32());
            }
            break;
    }
    c.L(*done);

    const std::vector<Reg64> live = ra_.live_caller_saved();
    Xbyak::Label* abort = &abort_label();
    const RecordPlan record = record_plan();
    slow_paths_.push_back(
        [this, i, slow, done, live, abort, address, addr, value, imm_value, size, record] {
            c.L(*slow);
            address_into_register(address);
            store_plan(record);
            fused_check_slow(i, addr, value ? &*value : nullptr, live, abort);
            // Stage the arguments in the context: they may sit in argument registers.
            c.mov(dword[r15 + ctx_offset::kScratch], addr.cvt32());
            if (value) {
                c.mov(dword[r15 + ctx_offset::kScratch + 8], value->cvt32());
            } else {
                c.mov(dword[r15 + ctx_offset::kScratch + 8], imm_value);
            }
            push_all(c, live);
            // (Here from a fault in the window: counted, for Cpu to deoptimise.)
            if (fastmem_) {
                c.mov(rax, reinterpret_cast<std::uintptr_t>(&tb_.fastmem_faults));
                c.inc(dword[rax]);
            }
            c.mov(esi, dword[r15 + ctx_offset::kScratch]);
            c.mov(edx, size);
            c.mov(ecx, dword[r15 + ctx_offset::kScratch + 8]);
            call_runtime(reinterpret_cast<const void*>(&write_slow_thunk));
            return_from_runtime(live, false, abort);
            c.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
        });
    define_late_address(inst.args[0], address);
}

void BlockCompiler::emit_ReadMem8(ir::InstRef i, const ir::Inst& inst) { read_mem(i, inst, 1); }
void BlockCompiler::emit_ReadMem16(ir::InstRef i, const ir::Inst& inst) { read_mem(i, inst, 2); }
void BlockCompiler::emit_ReadMem32(ir::InstRef i, const ir::Inst& inst) { read_mem(i, inst, 4); }
void BlockCompiler::emit_WriteMem8(ir::InstRef i, const ir::Inst& inst) { write_mem(i, inst, 1); }
void BlockCompiler::emit_WriteMem16(ir::InstRef i, const ir::Inst& inst) { write_mem(i, inst, 2); }
void BlockCompiler::emit_WriteMem32(ir::InstRef i, const ir::Inst& inst) { write_mem(i, inst, 4); }

void BlockCompiler::emit_CallHelper(ir::InstRef i, const ir::Inst& inst) {
    const auto id = static_cast<cpu::HelperId>(inst.args[0].imm());
    if ((id == cpu::HelperId::div32 || id == cpu::HelperId::idiv32) && options_.inline_divide &&
        inst.use_count == 0) {
        divide32(inst, id == cpu::HelperId::idiv32);
        return;
    }
    // Everything in caller-saved registers moves out first; the arguments
    // then come from callee-saved registers, spill slots or immediates.
    const bool writes_state = cpu::helper_info(id).props & cpu::helper_props::kWritesState;
    store_record();
    ra_.spill_caller_saved();
    if (writes_state) ra_.spill_guest_aliases();
    for (unsigned a = 1; a <= 3; ++a)
        ra_.consume(inst.args[a]);
    ra_.load_into(rsi, inst.args[1]);
    ra_.load_into(rdx, inst.args[2]);
    ra_.load_into(rcx, inst.args[3]);
    call_runtime(reinterpret_cast<const void*>(rt::helpers()[static_cast<std::size_t>(id)]));
    reload_guests(writes_state);
    // A helper may change what maps where (A20, ...): groups check again.
    for (PageGroup& g : groups_)
        g.active = false;
    ra_.define_in(i, rax);
    if (cpu::helper_info(id).props & cpu::helper_props::kMayFault) check_abort();
}

// DIV/IDIV r/m32 inline: EDX:EAX / divisor, the quotient to EAX and the
// remainder to EDX, the flags as the helper sets them (CF, OF kept; AF set;
// SF, ZF, PF clear). Whatever might raise #DE goes to the helper instead.
void BlockCompiler::divide32(const ir::Inst& inst, bool is_signed) {
    store_record();  // both paths need it
    const Reg64 eax_g = pinned(0);
    const Reg64 edx_g = pinned(2);
    ra_.reserve(rax);
    ra_.reserve(rdx);
    ra_.vacate(0);  // values that alias EAX or EDX keep theirs
    ra_.vacate(2);
    const Reg64 d = ra_.use(inst.args[1]);
    for (unsigned a = 2; a <= 3; ++a)
        ra_.consume(inst.args[a]);
    auto* slow = &slow_labels_.emplace_back();
    auto* done = &slow_labels_.emplace_back();
    if (!is_signed) {
        // EDX >= divisor: the quotient does not fit (or the divisor is 0).
        c.cmp(edx_g.cvt32(), d.cvt32());
        c.jae(*slow, Xbyak::CodeGenerator::T_NEAR);
        c.mov(eax, eax_g.cvt32());
        c.mov(edx, edx_g.cvt32());
        c.div(d.cvt32());
    } else {
        // A 64-bit IDIV of the sign-extended operands cannot fault once the
        // divisor is neither 0 nor -1; the quotient must then fit in 32 bits.
        const Reg64 t = ra_.scratch();
        c.lea(t.cvt32(), ptr[d + 1]);
        c.cmp(t.cvt32(), 1);
        c.jbe(*slow, Xbyak::CodeGenerator::T_NEAR);  // divisor 0 or -1
        c.mov(eax, eax_g.cvt32());
        c.mov(edx, edx_g.cvt32());
        c.shl(rdx, 32);
        c.or_(rax, rdx);
        c.movsxd(t, d.cvt32());
        c.cqo();
        c.idiv(t);
        c.movsxd(t, eax);
        c.cmp(t, rax);
        c.jne(*slow, Xbyak::CodeGenerator::T_NEAR);
    }
    c.mov(eax_g.cvt32(), eax);
    c.mov(edx_g.cvt32(), edx);
    materialize_flags();  // CF and OF stay
    c.and_(dword[r15 + ctx_offset::kFlagsStatus],
           ~(cpu::eflags::SF | cpu::eflags::ZF | cpu::eflags::PF));
    c.or_(dword[r15 + ctx_offset::kFlagsStatus], cpu::eflags::AF);
    c.L(*done);
    host_flags_ = ir::kNoInst;

    const std::vector<Reg64> live = ra_.live_caller_saved();
    Xbyak::Label* abort = &abort_label();
    const auto id = is_signed ? cpu::HelperId::idiv32 : cpu::HelperId::div32;
    slow_paths_.push_back([this, slow, done, live, abort, d, id] {
        c.L(*slow);
        c.mov(dword[r15 + ctx_offset::kScratch], d.cvt32());
        push_all(c, live);
        c.mov(esi, dword[r15 + ctx_offset::kScratch]);
        call_runtime(reinterpret_cast<const void*>(rt::helpers()[static_cast<std::size_t>(id)]));
        return_from_runtime(live, true, abort);
        c.jmp(*done, Xbyak::CodeGenerator::T_NEAR);
    });
}

}  // namespace jitterbug::jit::x64
