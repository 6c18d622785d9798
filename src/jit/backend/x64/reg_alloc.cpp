#include "jit/backend/x64/reg_alloc.hpp"

#include <algorithm>
#include <stdexcept>

namespace jitterbug::jit::x64 {
namespace {

using namespace Xbyak::util;

// Allocation order: callee-saved registers first (values there survive
// helper calls), then caller-saved; RAX/RCX/RDX last since multiplies and
// shifts need them. R15 holds the CpuContext, RSP the frame.
constexpr std::array<int, 14> kOrder = {
    Xbyak::Operand::RBX, Xbyak::Operand::RBP, Xbyak::Operand::R12, Xbyak::Operand::R13,
    Xbyak::Operand::R14, Xbyak::Operand::RSI, Xbyak::Operand::RDI, Xbyak::Operand::R8,
    Xbyak::Operand::R9,  Xbyak::Operand::R10, Xbyak::Operand::R11, Xbyak::Operand::RAX,
    Xbyak::Operand::RCX, Xbyak::Operand::RDX,
};

constexpr bool is_caller_saved(int r) {
    switch (r) {
        case Xbyak::Operand::RAX:
        case Xbyak::Operand::RCX:
        case Xbyak::Operand::RDX:
        case Xbyak::Operand::RSI:
        case Xbyak::Operand::RDI:
        case Xbyak::Operand::R8:
        case Xbyak::Operand::R9:
        case Xbyak::Operand::R10:
        case Xbyak::Operand::R11:
            return true;
        default:
            return false;
    }
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
        if (cur >= 0 && remaining_[i] == 1 && !regs_[cur].locked) {
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
    for (int r = 0; r < 16; ++r) {
        if (is_caller_saved(r) && !regs_[r].locked) evict(r);
    }
}

std::vector<Reg64> RegAlloc::live_caller_saved(int except) const {
    std::vector<Reg64> out;
    for (int r = 0; r < 16; ++r) {
        if (r != except && is_caller_saved(r) && regs_[r].value != ir::kNoInst) out.emplace_back(r);
    }
    return out;
}

}  // namespace jitterbug::jit::x64
