// Guest registers, EIP, segment registers and flags.
#include "jit/backend/x64/block_compiler.hpp"

namespace jitterbug::jit::x64 {

using namespace Xbyak::util;

namespace {
unsigned gpr_ref(const ir::Inst& inst) { return static_cast<unsigned>(inst.args[0].imm()); }
}  // namespace

// Guest register g lives in pinned(g) and in CpuState; reads use the
// register, writes go to both.

void BlockCompiler::emit_GetGpr8(ir::InstRef i, const ir::Inst& inst) {
    const unsigned r8 = gpr_ref(inst);
    if (r8 < 4) {  // AL..BL: the low byte of the register (upper bits are don't-care)
        ra_.define_guest(i, r8);
        return;
    }
    const Reg64 dst = ra_.define(i);
    c.mov(dst.cvt32(), pinned(r8 & 3).cvt32());
    c.shr(dst.cvt32(), 8);
    host_flags_ = ir::kNoInst;
}

void BlockCompiler::emit_GetGpr16(ir::InstRef i, const ir::Inst& inst) {
    ra_.define_guest(i, gpr_ref(inst));
}

void BlockCompiler::emit_GetGpr32(ir::InstRef i, const ir::Inst& inst) {
    const unsigned g = gpr_ref(inst);
    ra_.define_guest(i, g);
    // A loop's incoming record naming this (unwritten) guest register now
    // names the value: it is kept, wherever it goes, while the record is.
    const ir::Value v = ir::Value::result_of(ir::info(inst.op).result, i);
    for (auto [guest, value] : {std::pair{&deferred_.a_guest, &deferred_.a},
                                std::pair{&deferred_.b_guest, &deferred_.b}}) {
        if (*guest != static_cast<int>(g)) continue;
        *guest = -1;
        *value = v;
        ra_.hold(v);
    }
}

// Writes `v` into the low `bits` of guest register g's host register (the
// rest stays), unless an op already computed it there.
void BlockCompiler::set_guest(unsigned g, const ir::Value& v, unsigned bits) {
    const Reg64 p = pinned(g);
    if (ra_.pinned_guest_of(v) == static_cast<int>(g)) {
        ra_.consume(v);  // computed in place, or already the guest's value
        return;
    }
    if (v.is_immediate()) {
        ra_.vacate(g);
        if (bits == 32) {
            c.mov(p.cvt32(), static_cast<std::uint32_t>(v.imm()));
        } else if (bits == 16) {
            c.mov(p.cvt16(), static_cast<std::uint16_t>(v.imm()));
        } else {
            c.mov(p.cvt8(), static_cast<std::uint8_t>(v.imm()));
        }
        return;
    }
    const Reg64 src = ra_.use(v);
    ra_.vacate(g);
    c.mov(sized(p, bits), sized(src, bits));
}

void BlockCompiler::emit_SetGpr8(ir::InstRef, const ir::Inst& inst) {
    const unsigned r8 = gpr_ref(inst);
    if (r8 < 4) {
        set_guest(r8, inst.args[1], 8);
        return;
    }
    // AH..BH: bits 8-15, merged without touching the rest.
    const unsigned g = r8 & 3;
    const Reg64 p = pinned(g);
    const ir::Value& v = inst.args[1];
    const Reg64 t = ra_.scratch();
    ra_.load_into(t, v);
    ra_.consume(v);
    ra_.vacate(g);
    c.movzx(t.cvt32(), t.cvt8());
    c.shl(t.cvt32(), 8);
    c.and_(p.cvt32(), 0xFFFF00FFu);
    c.or_(p.cvt32(), t.cvt32());
    host_flags_ = ir::kNoInst;
}

void BlockCompiler::emit_SetGpr16(ir::InstRef, const ir::Inst& inst) {
    set_guest(gpr_ref(inst), inst.args[1], 16);
}

void BlockCompiler::emit_SetGpr32(ir::InstRef, const ir::Inst& inst) {
    set_guest(gpr_ref(inst), inst.args[1], 32);
}

void BlockCompiler::emit_GetSegSelector(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 dst = ra_.define(i);
    c.movzx(dst.cvt32(), word[r15 + ctx_offset::kSeg + ctx_offset::kSegSize * gpr_ref(inst) +
                              ctx_offset::kSegSelector]);
}

void BlockCompiler::emit_GetSegBase(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 dst = ra_.define(i);
    c.mov(dst.cvt32(), dword[r15 + ctx_offset::kSeg + ctx_offset::kSegSize * gpr_ref(inst) +
                             ctx_offset::kSegBase]);
}

void BlockCompiler::emit_SetSegReal(ir::InstRef, const ir::Inst& inst) {
    const unsigned s = gpr_ref(inst);
    const std::size_t seg = ctx_offset::kSeg + ctx_offset::kSegSize * s;
    if (inst.args[1].is_immediate()) {
        const auto sel = static_cast<std::uint16_t>(inst.args[1].imm());
        c.mov(word[r15 + seg + ctx_offset::kSegSelector], sel);
        c.mov(dword[r15 + seg + ctx_offset::kSegBase], std::uint32_t{sel} << 4);
        return;
    }
    const Reg64 sel = ra_.use(inst.args[1]);
    const Reg64 base = ra_.scratch();
    c.mov(word[r15 + seg + ctx_offset::kSegSelector], sel.cvt16());
    c.movzx(base.cvt32(), sel.cvt16());
    c.shl(base.cvt32(), 4);
    c.mov(dword[r15 + seg + ctx_offset::kSegBase], base.cvt32());
}

void BlockCompiler::emit_SetEip(ir::InstRef i, const ir::Inst& inst) {
    if (inst.args[0].is_immediate()) {
        c.mov(dword[r15 + ctx_offset::kEip], static_cast<std::uint32_t>(inst.args[0].imm()));
        return;
    }
    const Reg64 v = ra_.use(inst.args[0]);
    c.mov(dword[r15 + ctx_offset::kEip], v.cvt32());
    if (static_cast<std::size_t>(i) + 1 == block_.insts().size() && jump_cache_exit_) {
        // The jump-cache lookup right after takes EIP from EAX (which
        // may hold an operand of the deferred record, stored first).
        store_record();
        c.mov(eax, v.cvt32());
        eip_in_eax_ = true;
    }
}

void BlockCompiler::emit_GetEflags(ir::InstRef i, const ir::Inst&) {
    materialize_flags();
    const Reg64 dst = ra_.define(i);
    const Reg64 status = ra_.scratch();
    c.mov(dst.cvt32(), dword[r15 + ctx_offset::kFlagsControl]);
    c.and_(dst.cvt32(), ~cpu::eflags::kArithmetic);
    c.mov(status.cvt32(), dword[r15 + ctx_offset::kFlagsStatus]);
    c.and_(status.cvt32(), cpu::eflags::kArithmetic);
    c.or_(dst.cvt32(), status.cvt32());
}

void BlockCompiler::emit_SetEflags(ir::InstRef, const ir::Inst& inst) {
    const Reg64 v = ra_.use(inst.args[0]);
    c.mov(dword[r15 + ctx_offset::kFlagsControl], v.cvt32());
    c.mov(dword[r15 + ctx_offset::kFlagsStatus], v.cvt32());
    drop_deferred_flags();
}

void BlockCompiler::emit_GetArithFlags(ir::InstRef i, const ir::Inst&) {
    materialize_flags();
    c.mov(ra_.define(i).cvt32(), dword[r15 + ctx_offset::kFlagsStatus]);
}

void BlockCompiler::emit_SetArithFlags(ir::InstRef, const ir::Inst& inst) {
    const auto mask = static_cast<std::uint32_t>(inst.args[1].imm());
    const ir::Value& flags = inst.args[0];
    const bool from_op =
        !flags.is_immediate() && block_.inst(flags.inst()).op == ir::Opcode::GetFlagsFromOp;
    flags_owner_ = ir::kNoInst;
    if (from_op && lazy_flags_[flags.inst()]) {
        // Deferred: its producer stored the operands (an INC/DEC's write
        // counts as all six: the host's CF was the guest's).
        flags_owner_ = block_.inst(flags.inst()).args[0].inst();
        ra_.consume(flags);
        return;
    }
    if (mask == cpu::eflags::kArithmetic) {
        // All six: the image as it is (its other bits are meaningless).
        c.mov(dword[r15 + ctx_offset::kFlagsStatus], ra_.use(flags).cvt32());
        drop_deferred_flags();
        if (from_op) flags_owner_ = block_.inst(flags.inst()).args[0].inst();
        return;
    }
    materialize_flags();
    host_flags_ = ir::kNoInst;  // the merge below changes them
    const Reg64 f = ra_.use_scratch(inst.args[0]);
    const Reg64 old = ra_.scratch();
    c.mov(old.cvt32(), dword[r15 + ctx_offset::kFlagsStatus]);
    c.and_(old.cvt32(), ~mask);
    c.and_(f.cvt32(), mask);
    c.or_(old.cvt32(), f.cvt32());
    c.mov(dword[r15 + ctx_offset::kFlagsStatus], old.cvt32());
}

void BlockCompiler::emit_GetFlagsFromOp(ir::InstRef i, const ir::Inst& inst) {
    // Defined by its producer (capture_flags), which the verifier requires to
    // be an op with flags, unless the producer deferred them.
    if (!ra_.is_defined(i) && !lazy_flags_[i] && !host_only_[i]) {
        throw std::logic_error(std::string("GetFlagsFromOp of an op without flags: ") +
                               std::string(ir::name(block_.inst(inst.args[0].inst()).op)));
    }
    ra_.consume(inst.args[0]);  // the flags are taken; the producer's value may die
}

void BlockCompiler::emit_FlagsFromU32(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 r = ra_.use_scratch(inst.args[0]);
    c.and_(r.cvt32(), cpu::eflags::kArithmetic);
    ra_.define_in(i, r);
}

void BlockCompiler::emit_FlagsToU32(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 r = ra_.use_scratch(inst.args[0]);
    c.and_(r.cvt32(), cpu::eflags::kArithmetic);
    ra_.define_in(i, r);
}

void BlockCompiler::setcc_from_host(unsigned cc, const Xbyak::Reg8& d) {
    switch (cc) {
        case 0:
            c.seto(d);
            break;
        case 1:
            c.setno(d);
            break;
        case 2:
            c.setb(d);
            break;
        case 3:
            c.setae(d);
            break;
        case 4:
            c.sete(d);
            break;
        case 5:
            c.setne(d);
            break;
        case 6:
            c.setbe(d);
            break;
        case 7:
            c.seta(d);
            break;
        case 8:
            c.sets(d);
            break;
        case 9:
            c.setns(d);
            break;
        case 10:
            c.setp(d);
            break;
        case 11:
            c.setnp(d);
            break;
        case 12:
            c.setl(d);
            break;
        case 13:
            c.setge(d);
            break;
        case 14:
            c.setle(d);
            break;
        default:
            c.setg(d);
            break;
    }
}

void BlockCompiler::jcc(unsigned cc, const Xbyak::Label& target) {
    constexpr auto kNear = Xbyak::CodeGenerator::T_NEAR;
    switch (cc & 15) {
        case 0:
            c.jo(target, kNear);
            break;
        case 1:
            c.jno(target, kNear);
            break;
        case 2:
            c.jb(target, kNear);
            break;
        case 3:
            c.jae(target, kNear);
            break;
        case 4:
            c.je(target, kNear);
            break;
        case 5:
            c.jne(target, kNear);
            break;
        case 6:
            c.jbe(target, kNear);
            break;
        case 7:
            c.ja(target, kNear);
            break;
        case 8:
            c.js(target, kNear);
            break;
        case 9:
            c.jns(target, kNear);
            break;
        case 10:
            c.jp(target, kNear);
            break;
        case 11:
            c.jnp(target, kNear);
            break;
        case 12:
            c.jl(target, kNear);
            break;
        case 13:
            c.jge(target, kNear);
            break;
        case 14:
            c.jle(target, kNear);
            break;
        default:
            c.jg(target, kNear);
            break;
    }
}

void BlockCompiler::emit_TestCond(ir::InstRef i, const ir::Inst& inst) {
    const auto cc = static_cast<unsigned>(inst.args[0].imm());
    const ir::Value& flags = inst.args[1];
    const bool from_op =
        !flags.is_immediate() && block_.inst(flags.inst()).op == ir::Opcode::GetFlagsFromOp;
    const ir::InstRef producer = from_op ? block_.inst(flags.inst()).args[0].inst() : ir::kNoInst;
    const bool deferred = from_op && lazy_flags_[flags.inst()];
    if (deferred && !(options_.host_flags && host_flags_ == producer)) {
        // Deferred, and the host's flags have changed since: the record is
        // still the producer's (find_lazy_flags); re-running it gives them.
        rerun_record(lazy_kind_[flags.inst()]);
        host_flags_ = producer;
    }
    if (from_op && host_only_[flags.inst()] && host_flags_ != producer) {
        throw std::logic_error("x64 backend: host-only flags were overwritten");
    }
    // The flags of the op that produced them are in the host's RFLAGS: one
    // SETcc.
    if ((options_.host_flags || deferred) && from_op && host_flags_ == producer) {
        ra_.consume(flags);
        if (carry_only_[i]) {  // CF already is the carry
            carry_in_cf_[i] = true;
            return;
        }
        if (read_by_jump_only(i)) {  // a JCC on the host's flags there
            branch_cond_ = i;
            branch_cc_ = cc;
            branch_producer_ = host_flags_;
            return;
        }
        const Reg64 dst = ra_.define(i);
        setcc_from_host(cc, dst.cvt8());
        c.movzx(dst.cvt32(), dst.cvt8());
        return;
    }
    // Otherwise from the flags image, bit by bit (EFLAGS positions: CF 0,
    // PF 2, ZF 6, SF 7, OF 11).
    host_flags_ = ir::kNoInst;
    const Reg64 f = ra_.use(flags);
    if (carry_only_[i]) {  // the carry goes into CF, for the ADC/SBB next
        c.bt(f.cvt32(), 0);
        carry_in_cf_[i] = true;
        return;
    }
    const Reg64 dst = ra_.define(i);
    const Xbyak::Reg8 d = dst.cvt8();
    const bool negate = cc & 1;
    auto bit = [&](int b) {
        c.bt(f.cvt32(), b);
        if (negate)
            c.setnc(d);
        else
            c.setc(d);
    };
    switch (cc >> 1) {
        case 0:
            bit(11);
            break;
        case 1:
            bit(0);
            break;
        case 2:
            bit(6);
            break;
        case 3:
            c.test(f.cvt32(), cpu::eflags::CF | cpu::eflags::ZF);
            if (negate)
                c.setz(d);
            else
                c.setnz(d);
            break;
        case 4:
            bit(7);
            break;
        case 5:
            bit(2);
            break;
        case 6: {  // SF != OF: bring OF (bit 11) onto SF (bit 7)
            const Reg64 t = ra_.scratch();
            c.mov(t.cvt32(), f.cvt32());
            c.shr(t.cvt32(), 4);
            c.xor_(t.cvt32(), f.cvt32());
            c.bt(t.cvt32(), 7);
            if (negate)
                c.setnc(d);
            else
                c.setc(d);
            break;
        }
        default: {  // ZF || SF != OF
            const Reg64 t = ra_.scratch();
            c.mov(t.cvt32(), f.cvt32());
            c.shr(t.cvt32(), 4);
            c.xor_(t.cvt32(), f.cvt32());
            c.and_(t.cvt32(), cpu::eflags::SF);
            c.bt(f.cvt32(), 6);
            c.adc(t.cvt32(), 0);  // nonzero iff SF != OF or ZF
            c.test(t.cvt32(), t.cvt32());
            if (negate)
                c.setz(d);
            else
                c.setnz(d);
            break;
        }
    }
    c.movzx(dst.cvt32(), d);
}

}  // namespace jitterbug::jit::x64
