#include "jit/backend/x64/reg_alloc.hpp"

#include <algorithm>
#include <stdexcept>

namespace jitterbug::jit::x64 {
namespace {

using namespace Xbyak::util;

// The temporaries, in allocation order: RAX/RCX/RDX last since multiplies
// and shifts need them. R15 holds the CpuContext, RSP the frame, and the
// counter RBX, and the other eight registers the guest's (kPinned).
constexpr std::array<int, 5> kOrder = {
    Xbyak::Operand::RSI, Xbyak::Operand::RDI, Xbyak::Operand::RAX,
    Xbyak::Operand::RCX, Xbyak::Operand::RDX,
};

constexpr int guest_of_host(int r) {
    for (unsigned g = 0; g < kPinned.size(); ++g) {
        if (kPinned[g] == r) return static_cast<int>(g);
    }
    return -1;
}

}  // namespace

RegAlloc::RegAlloc(Xbyak::CodeGenerator& code, const ir::Block& block)
    : code_(code),
      reg_of_(block.insts().size(), -1),
      spilled_(block.insts().size(), false),
      defined_(block.insts().size(), false),
      remaining_(block.insts().size(), 0) {
    for (std::size_t i = 0; i < block.insts().size(); ++i)
        remaining_[i] = block.insts()[i].use_count;
}

Xbyak::Address RegAlloc::spill_slot(ir::InstRef i) const {
    return code_.qword[code_.rsp + static_cast<int>(i * 8)];
}

int RegAlloc::find_free() {
    for (int r : kOrder) {
        if (regs_[r].value == ir::kNoInst && !regs_[r].locked) return r;
    }
    return -1;
}

void RegAlloc::move_out(int reg) {
    HostReg& h = regs_[reg];
    if (h.value == ir::kNoInst) return;
    const ir::InstRef v = h.value;
    if (remaining_[v] > 0) {
        const int other = find_free();
        if (other >= 0) {
            code_.mov(Reg64(other), Reg64(reg));
            regs_[other].value = v;
            reg_of_[v] = static_cast<std::int8_t>(other);
            h.value = ir::kNoInst;
            return;
        }
    }
    evict(reg);
}

Reg64 RegAlloc::define_guest(ir::InstRef i, unsigned guest) {
    const int p = kPinned[guest];
    const ir::InstRef held = regs_[p].value;
    if (held != ir::kNoInst && remaining_[held] > 0) {
        const Reg64 r = define(i);
        code_.mov(r.cvt32(), Reg64(p).cvt32());
        return r;
    }
    if (held != ir::kNoInst) reg_of_[held] = -1;
    bind(i, p);
    return Reg64(p);
}

void RegAlloc::vacate(unsigned guest) { move_out(kPinned[guest]); }

Reg64 RegAlloc::define_in_guest(ir::InstRef i, unsigned guest) {
    const int p = kPinned[guest];
    move_out(p);
    bind(i, p);
    return Reg64(p);
}

int RegAlloc::pinned_guest_of(const ir::Value& v) const {
    if (v.is_immediate() || v.empty()) return -1;
    const int r = reg_of_[v.inst()];
    return r < 0 ? -1 : guest_of_host(r);
}

Reg64 RegAlloc::alu_dest(const ir::Value& a, int guest, unsigned bits) {
    if (guest < 0) return use_scratch(a);
    const int p = kPinned[static_cast<unsigned>(guest)];
    const ir::InstRef held = regs_[p].value;
    if (held != ir::kNoInst && !a.is_immediate() && held == a.inst() && remaining_[held] == 1) {
        // `a` is already there and this is its last use.
        --remaining_[held];
        reg_of_[held] = -1;
        regs_[p].value = ir::kNoInst;
        regs_[p].locked = true;
        return Reg64(p);
    }
    // `a` may be there already, still needed later: a copy moves out and
    // the register keeps its bits.
    const bool here = held != ir::kNoInst && !a.is_immediate() && held == a.inst();
    move_out(p);
    regs_[p].locked = true;
    if (bits == 32) {
        if (!here) load_into(Reg64(p), a);
    } else if (a.is_immediate()) {  // the rest of the guest register stays
        if (bits == 8) {
            code_.mov(Reg64(p).cvt8(), static_cast<std::uint8_t>(a.imm()));
        } else {
            code_.mov(Reg64(p).cvt16(), static_cast<std::uint16_t>(a.imm()));
        }
    } else {
        const int cur = reg_of_[a.inst()];
        if (cur < 0) {
            const int slot = static_cast<int>(a.inst() * 8);
            if (bits == 8) {
                code_.mov(Reg64(p).cvt8(), code_.byte[code_.rsp + slot]);
            } else {
                code_.mov(Reg64(p).cvt16(), code_.word[code_.rsp + slot]);
            }
        } else if (bits == 8) {
            code_.mov(Reg64(p).cvt8(), Reg64(cur).cvt8());
        } else {
            code_.mov(Reg64(p).cvt16(), Reg64(cur).cvt16());
        }
    }
    note_use(a);
    return Reg64(p);
}

void RegAlloc::spill_guest_aliases() {
    for (int p : kPinned) {
        if (!regs_[p].locked) evict(p);
    }
}

void RegAlloc::evict(int reg) {
    HostReg& h = regs_[reg];
    if (h.value == ir::kNoInst) return;
    const ir::InstRef v = h.value;
    if (remaining_[v] > 0 && !spilled_[v]) {
        code_.mov(spill_slot(v), Reg64(reg));
        spilled_[v] = true;
    }
    reg_of_[v] = -1;
    h.value = ir::kNoInst;
}

int RegAlloc::allocate() {
    int r = find_free();
    if (r >= 0) return r;
    for (int c : kOrder) {
        if (!regs_[c].locked) {
            evict(c);
            return c;
        }
    }
    throw std::logic_error("x64 register allocator: every register is locked");
}

void RegAlloc::bind(ir::InstRef i, int reg) {
    regs_[reg].value = i;
    regs_[reg].locked = true;
    reg_of_[i] = static_cast<std::int8_t>(reg);
    defined_[i] = true;
}

void RegAlloc::note_use(const ir::Value& v) {
    if (v.is_immediate() || v.empty()) return;
    if (remaining_[v.inst()] > 0) --remaining_[v.inst()];
    dying_.push_back(v.inst());
}

void RegAlloc::load_into(const Reg64& r, const ir::Value& v) {
    if (v.is_immediate()) {
        // MOV, never XOR: the host's flags may still hold a guest op's flags.
        if (v.imm() <= 0xFFFFFFFFu) {
            code_.mov(r.cvt32(), static_cast<std::uint32_t>(v.imm()));
        } else {
            code_.mov(r, v.imm());
        }
        return;
    }
    const int cur = reg_of_[v.inst()];
    if (cur >= 0) {
        if (cur != r.getIdx()) code_.mov(r, Reg64(cur));
    } else {
        code_.mov(r, spill_slot(v.inst()));
    }
}

Reg64 RegAlloc::use(const ir::Value& v) {
    if (!v.is_immediate()) {
        const int cur = reg_of_[v.inst()];
        if (cur >= 0) {
            regs_[cur].locked = true;
            note_use(v);
            return Reg64(cur);
        }
        const int r = allocate();
        code_.mov(Reg64(r), spill_slot(v.inst()));
        regs_[r].value = v.inst();
        regs_[r].locked = true;
        reg_of_[v.inst()] = static_cast<std::int8_t>(r);
        note_use(v);
        return Reg64(r);
    }
    const int r = allocate();
    regs_[r].locked = true;
    load_into(Reg64(r), v);
    return Reg64(r);
}

Reg64 RegAlloc::use_scratch(const ir::Value& v) {
    if (!v.is_immediate()) {
        const ir::InstRef i = v.inst();
        const int cur = reg_of_[i];
        if (cur >= 0 && remaining_[i] == 1 && !regs_[cur].locked && is_temporary(cur)) {
            // Last use: take over the register; the value no longer lives there.
            --remaining_[i];
            reg_of_[i] = -1;
            regs_[cur].value = ir::kNoInst;
            regs_[cur].locked = true;
            return Reg64(cur);
        }
    }
    const int r = allocate();
    regs_[r].locked = true;
    load_into(Reg64(r), v);
    note_use(v);
    return Reg64(r);
}

void RegAlloc::use_fixed(const ir::Value& v, const Reg64& r) {
    const int idx = r.getIdx();
    if (!v.is_immediate() && reg_of_[v.inst()] == idx && remaining_[v.inst()] == 1) {
        --remaining_[v.inst()];
        reg_of_[v.inst()] = -1;
        regs_[idx].value = ir::kNoInst;
        regs_[idx].locked = true;
        return;
    }
    reserve(r);
    load_into(r, v);
    note_use(v);
}

void RegAlloc::consume(const ir::Value& v) { note_use(v); }

void RegAlloc::hold(const ir::Value& v) {
    if (!v.is_immediate() && !v.empty()) ++remaining_[v.inst()];
}

Reg64 RegAlloc::define(ir::InstRef i) {
    const int r = allocate();
    bind(i, r);
    return Reg64(r);
}

void RegAlloc::define_in(ir::InstRef i, const Reg64& r) { bind(i, r.getIdx()); }

Reg64 RegAlloc::scratch() {
    const int r = allocate();
    regs_[r].locked = true;
    return Reg64(r);
}

void RegAlloc::reserve(const Reg64& r) {
    const int idx = r.getIdx();
    if (regs_[idx].locked) throw std::logic_error("x64 register allocator: fixed register locked");
    // Keep the displaced value in a register if one is free.
    if (regs_[idx].value != ir::kNoInst) {
        const int other = find_free();
        const ir::InstRef moved = regs_[idx].value;
        if (other >= 0) {
            code_.mov(Reg64(other), r);
            regs_[other].value = moved;
            reg_of_[moved] = static_cast<std::int8_t>(other);
            regs_[idx].value = ir::kNoInst;
        } else {
            evict(idx);
        }
    }
    regs_[idx].locked = true;
}

void RegAlloc::end_inst() {
    for (ir::InstRef i : dying_) {
        if (remaining_[i] == 0 && reg_of_[i] >= 0) {
            regs_[reg_of_[i]].value = ir::kNoInst;
            reg_of_[i] = -1;
        }
    }
    dying_.clear();
    for (std::size_t r = 0; r < regs_.size(); ++r) {
        regs_[r].locked = false;
        const ir::InstRef v = regs_[r].value;
        // Results nobody reads are dropped right away.
        if (v != ir::kNoInst && remaining_[v] == 0) {
            regs_[r].value = ir::kNoInst;
            reg_of_[v] = -1;
        }
    }
}

void RegAlloc::spill_caller_saved() {
    // Aliases of caller-saved pinned registers stay: those registers are
    // reloaded from CpuState after the call, with the same values.
    for (int r : kOrder) {
        if (!regs_[r].locked) evict(r);
    }
}

std::vector<Reg64> RegAlloc::live_caller_saved(int except) const {
    std::vector<Reg64> out;
    for (int r : kOrder) {
        if (r != except && regs_[r].value != ir::kNoInst) out.emplace_back(r);
    }
    return out;
}

}  // namespace jitterbug::jit::x64
