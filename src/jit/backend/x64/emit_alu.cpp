// Integer arithmetic, shifts, multiplies, width changes and selection. Each
// ALU op runs as the same host instruction, whose flags are the guest's.
#include "jit/backend/x64/block_compiler.hpp"
#include "jit/ir/eval.hpp"

namespace jitterbug::jit::x64 {

using namespace Xbyak::util;
using Xbyak::Reg;

namespace {
// An immediate as xbyak wants it: in the signed range of the operand width.
std::uint32_t host_immediate(std::uint64_t v, unsigned bits) {
    return bits == 8    ? static_cast<std::uint32_t>(static_cast<std::int8_t>(v))
           : bits == 16 ? static_cast<std::uint32_t>(static_cast<std::int16_t>(v))
                        : static_cast<std::uint32_t>(v);
}
}  // namespace

template <typename F>
void BlockCompiler::binary_alu(ir::InstRef i, const ir::Inst& inst, unsigned bits, lazy::Op lazy_op,
                               F&& op) {
    const unsigned kind = lazy_op == lazy::kNone ? 0 : lazy::kind(lazy_op, bits);
    // A record this op's replaces lets its operands go first (no copies
    // to keep them).
    if (kind != 0 && lazy_ok_[i]) forget_record();
    const ir::Value& b = inst.args[1];
    const ir::Value result = ir::Value::result_of(ir::info(inst.op).result, i);
    if (lazy_op == lazy::kLogic && !b.is_immediate() && b == inst.args[0] &&
        (inst.op == ir::Opcode::Xor8 || inst.op == ir::Opcode::Xor16 ||
         inst.op == ir::Opcode::Xor32)) {
        // XOR of a value with itself: the zero idiom, nothing to load.
        ra_.consume(b);
        ra_.consume(b);
        const int target = target_gpr_[i];
        const Reg64 dst =
            target >= 0 ? ra_.define_in_guest(i, static_cast<unsigned>(target)) : ra_.define(i);
        c.xor_(sized(dst, bits), sized(dst, bits));
        capture_flags(i, kind, &dst, nullptr, 0, result);
        return;
    }
    const Reg64 dst = ra_.alu_dest(inst.args[0], target_gpr_[i], bits);
    if (b.is_immediate()) {
        const std::uint32_t imm = host_immediate(b.imm(), bits);
        op(sized(dst, bits), nullptr, imm);
        capture_flags(i, kind, &dst, nullptr, imm, result);
    } else {
        const Reg64 src = ra_.use(b);
        const Reg s = sized(src, bits);
        op(sized(dst, bits), &s, 0);
        // (Not deferred when the result overwrote the second operand.)
        capture_flags(i, src.getIdx() == dst.getIdx() ? 0 : kind, &dst, &src, 0, result, b);
    }
    ra_.define_in(i, dst);
}

template <typename F>
void BlockCompiler::unary_alu(ir::InstRef i, const ir::Inst& inst, unsigned bits, lazy::Op lazy_op,
                              F&& op) {
    const bool defer = lazy_op != lazy::kNone && lazy_ok_[i] && options_.lazy_flags;
    if (defer) {
        carry_into_host();  // (from the record this op's replaces)
        forget_record();
    }
    // (Only moves from here on: the host's CF stays.)
    const Reg64 dst = ra_.alu_dest(inst.args[0], target_gpr_[i], bits);
    op(sized(dst, bits));
    capture_flags(i, defer ? lazy::kind(lazy_op, bits) : 0, &dst, nullptr, 0,
                  ir::Value::result_of(ir::info(inst.op).result, i));
    ra_.define_in(i, dst);
}

// A 32-bit ADD (or SUB of a constant) nobody wants the flags of, into a
// new register or the guest register it is written to: one LEA, which also
// leaves the host's flags alone.
bool BlockCompiler::try_lea(ir::InstRef i, const ir::Inst& inst, bool subtract) {
    const ir::Value& a = inst.args[0];
    const ir::Value& b = inst.args[1];
    if (flags_of_[i] != ir::kNoInst || a.is_immediate()) return false;
    if (subtract && !b.is_immediate()) return false;
    const int target = target_gpr_[i];
    const auto define = [&] {
        return target >= 0 ? ra_.define_in_guest(i, static_cast<unsigned>(target)) : ra_.define(i);
    };
    // An operand SHL'd by 1-3 just before (find_scaled_indexes) is the
    // LEA's scaled index.
    const auto scaled = [&](const ir::Value& v) { return !v.is_immediate() && scaled_[v.inst()]; };
    const auto index = [&](const ir::Value& v) {
        const ir::Inst& shl = block_.inst(v.inst());
        ra_.consume(v);
        return ra_.use(shl.args[0]) * (1 << (shl.args[1].imm() & 31));
    };
    if (scaled(a) || scaled(b)) {
        const ir::Value& s = scaled(a) ? a : b;
        const ir::Value& other = scaled(a) ? b : a;
        const Xbyak::RegExp idx = index(s);
        if (other.is_immediate()) {
            const Reg64 dst = define();
            c.lea(dst.cvt32(), ptr[idx + static_cast<std::int32_t>(other.imm())]);
        } else {
            const Reg64 y = ra_.use(other);
            const Reg64 dst = define();
            c.lea(dst.cvt32(), ptr[y + idx]);
        }
    } else if (b.is_immediate()) {
        const Reg64 x = ra_.use(a);
        const auto u = static_cast<std::uint32_t>(b.imm());
        const auto k = static_cast<std::int32_t>(subtract ? 0u - u : u);
        const Reg64 dst = define();
        c.lea(dst.cvt32(), ptr[x + k]);
    } else {
        const Reg64 x = ra_.use(a);
        const Reg64 y = ra_.use(b);
        const Reg64 dst = define();
        c.lea(dst.cvt32(), ptr[x + y]);
    }
    host_flags_ = host_flags_before_;  // LEA changed nothing
    return true;
}

// A SUB or AND whose only reader is its flags: CMP or TEST, which leave
// the operands in place (no copy, no result register).
bool BlockCompiler::try_compare(ir::InstRef i, const ir::Inst& inst, unsigned bits, bool test) {
    const ir::Value& a = inst.args[0];
    const ir::Value& b = inst.args[1];
    if (inst.use_count != 1 || flags_of_[i] == ir::kNoInst || a.is_immediate()) return false;
    const unsigned kind = lazy::kind(test ? lazy::kTest : lazy::kCmp, bits);
    if (lazy_ok_[i]) forget_record();  // replaced
    const Reg64 x = ra_.use(a);
    if (b.is_immediate()) {
        const std::uint32_t imm = host_immediate(b.imm(), bits);
        if (test) {
            c.test(sized(x, bits), imm);
        } else {
            c.cmp(sized(x, bits), imm);
        }
        capture_flags(i, kind, &x, nullptr, imm, a);
    } else {
        const Reg64 y = ra_.use(b);
        if (test) {
            c.test(sized(x, bits), sized(y, bits));
        } else {
            c.cmp(sized(x, bits), sized(y, bits));
        }
        capture_flags(i, kind, &x, &y, 0, a, b);
    }
    return true;
}

#define BINARY(Name, host, kLazy)                                                                 \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) {                        \
        if ((ir::Opcode::Name == ir::Opcode::Add32 || ir::Opcode::Name == ir::Opcode::Sub32) &&   \
            (folded_[i] || try_lea(i, inst, ir::Opcode::Name == ir::Opcode::Sub32))) {            \
            return; /* (folded: the access next adds it up) */                                    \
        }                                                                                         \
        constexpr bool kSub = ir::Opcode::Name == ir::Opcode::Sub8 ||                             \
                              ir::Opcode::Name == ir::Opcode::Sub16 ||                            \
                              ir::Opcode::Name == ir::Opcode::Sub32;                              \
        constexpr bool kAnd = ir::Opcode::Name == ir::Opcode::And8 ||                             \
                              ir::Opcode::Name == ir::Opcode::And16 ||                            \
                              ir::Opcode::Name == ir::Opcode::And32;                              \
        if ((kSub || kAnd) && options_.in_place_alu && try_compare(i, inst, kBits, kAnd)) {       \
            return;                                                                               \
        }                                                                                         \
        binary_alu(i, inst, kBits, kLazy, [this](const Reg& d, const Reg* s, std::uint32_t imm) { \
            if (s) {                                                                              \
                c.host(d, *s);                                                                    \
            } else {                                                                              \
                c.host(d, imm);                                                                   \
            }                                                                                     \
        });                                                                                       \
    }

#define kBits 8
BINARY(Add8, add, lazy::kAdd)
BINARY(Sub8, sub, lazy::kSub)
BINARY(And8, and_, lazy::kLogic)
BINARY(Or8, or_, lazy::kLogic)
BINARY(Xor8, xor_, lazy::kLogic)
#undef kBits
#define kBits 16
BINARY(Add16, add, lazy::kAdd)
BINARY(Sub16, sub, lazy::kSub)
BINARY(And16, and_, lazy::kLogic)
BINARY(Or16, or_, lazy::kLogic)
BINARY(Xor16, xor_, lazy::kLogic)
#undef kBits
#define kBits 32
BINARY(Add32, add, lazy::kAdd)
BINARY(Sub32, sub, lazy::kSub)
BINARY(And32, and_, lazy::kLogic)
BINARY(Or32, or_, lazy::kLogic)
BINARY(Xor32, xor_, lazy::kLogic)
#undef kBits
#undef BINARY

// ADC/SBB: the carry input goes into the host CF with BT. Deferred flags
// keep it in lazy_flags_c (SETC right before the op).
void BlockCompiler::with_carry(ir::InstRef i, const ir::Inst& inst, unsigned bits, bool adc) {
    const bool defer = lazy_ok_[i] && options_.lazy_flags;
    if (defer) forget_record();  // replaced
    const Reg64 dst = ra_.alu_dest(inst.args[0], target_gpr_[i], bits);
    const Reg64 src = ra_.use(inst.args[1]);
    const ir::Value& cin = inst.args[2];
    if (!cin.is_immediate() && carry_in_cf_[cin.inst()]) {
        ra_.consume(cin);  // the TestCond right before set CF
    } else {
        c.bt(ra_.use(cin).cvt32(), 0);
    }
    // (Not deferred when the result overwrites the second operand.)
    const bool keep = defer && src.getIdx() != dst.getIdx();
    if (keep) c.setc(byte[r15 + ctx_offset::kLazyC]);
    if (adc) {
        c.adc(sized(dst, bits), sized(src, bits));
    } else {
        c.sbb(sized(dst, bits), sized(src, bits));
    }
    if (keep) {
        const unsigned kind = lazy::kind(adc ? lazy::kAdc : lazy::kSbb, bits);
        const ir::Value result = ir::Value::result_of(ir::info(inst.op).result, i);
        const ir::Value& b = inst.args[1];
        if (b.is_immediate()) {
            capture_flags(i, kind, &dst, nullptr, host_immediate(b.imm(), bits), result);
        } else {
            capture_flags(i, kind, &dst, &src, 0, result, b);
        }
    } else {
        capture_flags(i);
    }
    ra_.define_in(i, dst);
}

void BlockCompiler::emit_Adc8(ir::InstRef i, const ir::Inst& inst) { with_carry(i, inst, 8, true); }
void BlockCompiler::emit_Adc16(ir::InstRef i, const ir::Inst& inst) {
    with_carry(i, inst, 16, true);
}
void BlockCompiler::emit_Adc32(ir::InstRef i, const ir::Inst& inst) {
    with_carry(i, inst, 32, true);
}
void BlockCompiler::emit_Sbb8(ir::InstRef i, const ir::Inst& inst) {
    with_carry(i, inst, 8, false);
}
void BlockCompiler::emit_Sbb16(ir::InstRef i, const ir::Inst& inst) {
    with_carry(i, inst, 16, false);
}
void BlockCompiler::emit_Sbb32(ir::InstRef i, const ir::Inst& inst) {
    with_carry(i, inst, 32, false);
}

#define UNARY(Name, host, bits, kLazy)                                        \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) {    \
        unary_alu(i, inst, bits, kLazy, [this](const Reg& d) { c.host(d); }); \
    }
UNARY(Inc8, inc, 8, lazy::kInc)
UNARY(Inc16, inc, 16, lazy::kInc)
UNARY(Inc32, inc, 32, lazy::kInc)
UNARY(Dec8, dec, 8, lazy::kDec)
UNARY(Dec16, dec, 16, lazy::kDec)
UNARY(Dec32, dec, 32, lazy::kDec)
UNARY(Neg8, neg, 8, lazy::kNone)
UNARY(Neg16, neg, 16, lazy::kNone)
UNARY(Neg32, neg, 32, lazy::kNone)
UNARY(Not8, not_, 8, lazy::kNone)
UNARY(Not16, not_, 16, lazy::kNone)
UNARY(Not32, not_, 32, lazy::kNone)
#undef UNARY

// ---- Shifts and rotates -----------------------------------------------------------

namespace {
enum ShiftKind { kShl, kShr, kSar, kRol, kRor };
}

void BlockCompiler::shift(ir::InstRef i, const ir::Inst& inst, unsigned bits, int kind) {
    if (scaled_[i]) return;  // the ADD next does it
    const ir::Value& count = inst.args[1];
    auto apply = [&](const Reg& d, auto&& amount) {
        switch (kind) {
            case kShl:
                c.shl(d, amount);
                break;
            case kShr:
                c.shr(d, amount);
                break;
            case kSar:
                c.sar(d, amount);
                break;
            case kRol:
                c.rol(d, amount);
                break;
            default:
                c.ror(d, amount);
                break;
        }
    };
    // Flags something reads come out of a last step by 1 (by_last_step).
    const bool flags_read = flags_of_[i] != ir::kNoInst;
    if (count.is_immediate()) {
        const unsigned n = static_cast<unsigned>(count.imm()) & 31;
        // SHL/SHR/SAR flags may be deferred as the operand and the count
        // (with sink-records, which keeps the operand alive).
        const lazy::Op op = kind == kShl   ? lazy::kShl
                            : kind == kShr ? lazy::kShr
                            : kind == kSar ? lazy::kSar
                                           : lazy::kNone;
        const bool defer = op != lazy::kNone && n != 0 && lazy_ok_[i] && options_.lazy_flags &&
                           options_.sink_records && !inst.args[0].is_immediate();
        if (defer) {
            forget_record();         // replaced
            ra_.hold(inst.args[0]);  // the op must not take the operand's register
        }
        const Reg64 dst = ra_.alu_dest(inst.args[0], target_gpr_[i], bits);
        // A deferred record re-runs the shift exactly itself; only what
        // reads the host's flags right here (a condition, or an INC/DEC's
        // carry past the operand size) needs the last step by 1.
        const bool host_read = tested_[i] || !defer || (bits < 32 && n >= bits);
        by_last_step(n, flags_read && host_read, [&](unsigned k) { apply(sized(dst, bits), k); });
        if (defer) {
            capture_flags(i, lazy::kind(op, bits), &dst, nullptr, n, inst.args[0]);
            ra_.release(inst.args[0]);  // (the record holds it now)
        } else {
            capture_flags(i);
        }
        ra_.define_in(i, dst);
        return;
    }
    ra_.use_fixed(count, rcx);
    const Reg64 dst = ra_.alu_dest(inst.args[0], target_gpr_[i], bits);
    if (flags_read) {
        split_by_cl(nullptr, [&](const auto& amount) { apply(sized(dst, bits), amount); });
    } else {
        apply(sized(dst, bits), cl);
    }
    capture_flags(i);
    ra_.define_in(i, dst);
}

template <typename F>
void BlockCompiler::split_by_cl(const Reg64* carry, F&& op) {
    // A count of 0 (the flags are then the old ones: the semantics select
    // them) is skipped; otherwise the op by CL - 1, then by 1. DEC and INC
    // keep CF, the carry RCL/RCR rotate through.
    Xbyak::Label skip;
    c.test(cl, 31);
    c.jz(skip);
    if (carry) c.bt(carry->cvt32(), 0);
    c.dec(ecx);
    op(cl);
    c.inc(ecx);
    op(1);
    c.L(skip);
}

#define SHIFT(Name, kind, bits)                                            \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) { \
        shift(i, inst, bits, kind);                                        \
    }
SHIFT(Shl8, kShl, 8)
SHIFT(Shl16, kShl, 16)
SHIFT(Shl32, kShl, 32)
SHIFT(Shr8, kShr, 8)
SHIFT(Shr16, kShr, 16)
SHIFT(Shr32, kShr, 32)
SHIFT(Sar8, kSar, 8)
SHIFT(Sar16, kSar, 16)
SHIFT(Sar32, kSar, 32)
SHIFT(Rol8, kRol, 8)
SHIFT(Rol16, kRol, 16)
SHIFT(Rol32, kRol, 32)
SHIFT(Ror8, kRor, 8)
SHIFT(Ror16, kRor, 16)
SHIFT(Ror32, kRor, 32)
#undef SHIFT

// ---- Rotates through carry: CF goes into the host's CF with BT -----------------

#define ROTATE_CARRY(Name, host, bits)                                                 \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) {             \
        const ir::Value& count = inst.args[1];                                         \
        const bool flags_read = flags_of_[i] != ir::kNoInst;                           \
        if (!count.is_immediate()) ra_.use_fixed(count, rcx);                          \
        const Reg64 dst = ra_.alu_dest(inst.args[0], target_gpr_[i], bits);            \
        const Reg64 carry = ra_.use(inst.args[2]);                                     \
        const auto op = [&](const auto& amount) { c.host(sized(dst, bits), amount); }; \
        if (count.is_immediate()) {                                                    \
            const unsigned n = static_cast<unsigned>(count.imm()) & 31;                \
            c.bt(carry.cvt32(), 0);                                                    \
            by_last_step(n, flags_read, op);                                           \
        } else if (flags_read) {                                                       \
            split_by_cl(&carry, op);                                                   \
        } else {                                                                       \
            c.bt(carry.cvt32(), 0);                                                    \
            op(cl);                                                                    \
        }                                                                              \
        capture_flags(i);                                                              \
        ra_.define_in(i, dst);                                                         \
    }
ROTATE_CARRY(Rcl8, rcl, 8)
ROTATE_CARRY(Rcl16, rcl, 16)
ROTATE_CARRY(Rcl32, rcl, 32)
ROTATE_CARRY(Rcr8, rcr, 8)
ROTATE_CARRY(Rcr16, rcr, 16)
ROTATE_CARRY(Rcr32, rcr, 32)
#undef ROTATE_CARRY

// ---- Double-precision shifts, bit scans, byte swap -----------------------------

// SHLD/SHRD. The host instruction's 32-bit result is exact, but its OF and
// AF past a count of 1, and the 16-bit forms' result and flags past a count
// of 16, are the vendor's own: where those can be seen, ir::eval's model
// runs instead (it is what the interpreter does on every host).
namespace {
template <unsigned Bits, bool Left>
std::uint64_t double_shift_reference(std::uint32_t a, std::uint32_t b, std::uint32_t count) {
    const unsigned n = count & 31;
    if (n == 0) return a & ir::eval::kMask<Bits>;  // (the semantics keep the old flags)
    const ir::eval::Out o = Left ? ir::eval::shld<Bits>(a, b, n) : ir::eval::shrd<Bits>(a, b, n);
    return o.value | (std::uint64_t{o.flags} << 32);
}
}  // namespace

bool BlockCompiler::host_double_shift_exact(ir::InstRef i, const ir::Inst& inst) const {
    const bool wide = inst.op == ir::Opcode::Shld32 || inst.op == ir::Opcode::Shrd32;
    return wide || (flags_of_[i] == ir::kNoInst && inst.args[2].is_immediate() &&
                    (inst.args[2].imm() & 31) <= 16);
}

void BlockCompiler::double_shift(ir::InstRef i, const ir::Inst& inst, unsigned bits, bool left) {
    if (!host_double_shift_exact(i, inst)) {
        const ReferenceFn fn =
            bits == 16
                ? (left ? double_shift_reference<16, true> : double_shift_reference<16, false>)
                : (left ? double_shift_reference<32, true> : double_shift_reference<32, false>);
        call_reference(i, fn, {inst.args[0], inst.args[1], inst.args[2]});
        return;
    }
    const ir::Value& count = inst.args[2];
    const auto op = [&](const Reg64& dst, const Reg64& src, const auto& amount) {
        if (left) {
            c.shld(sized(dst, bits), sized(src, bits), amount);
        } else {
            c.shrd(sized(dst, bits), sized(src, bits), amount);
        }
    };
    if (!count.is_immediate()) ra_.use_fixed(count, rcx);
    const Reg64 dst = ra_.use_scratch(inst.args[0]);
    const Reg64 src = ra_.use(inst.args[1]);
    if (!count.is_immediate()) {
        op(dst, src, cl);
    } else if (const unsigned n = static_cast<unsigned>(count.imm()) & 31; n != 0) {
        op(dst, src, n);
    }
    capture_flags(i);
    ra_.define_in(i, dst);
    const ir::InstRef f = flags_of_[i];
    if (f == ir::kNoInst) return;
    // The 32-bit result, CF, SF, ZF and PF are the SDM's; the image gets the
    // model's AF (set) and OF: MSB(result) XOR CF after SHLD, the XOR of the
    // result's two top bits after SHRD. (The host's OF is the vendor's, so
    // conditions read the image: host_only_ never holds these flags.)
    host_flags_ = ir::kNoInst;
    const Reg64 image(ra_.register_of(ir::Value::result_of(ir::Type::Flags, f)));
    const Reg64 t = ra_.scratch();
    c.mov(t.cvt32(), dst.cvt32());
    if (left) {
        c.shr(t.cvt32(), 31);
        c.xor_(t.cvt32(), image.cvt32());  // CF is bit 0
    } else {
        c.add(t.cvt32(), t.cvt32());
        c.xor_(t.cvt32(), dst.cvt32());
        c.shr(t.cvt32(), 31);  // bit 31 XOR bit 30 of the result
    }
    c.and_(t.cvt32(), 1);
    c.shl(t.cvt32(), 11);
    c.and_(image.cvt32(), ~cpu::eflags::OF);
    c.or_(image.cvt32(), cpu::eflags::AF);
    c.or_(image.cvt32(), t.cvt32());
}

#define DOUBLE_SHIFT(Name, bits, left)                                     \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) { \
        double_shift(i, inst, bits, left);                                 \
    }
DOUBLE_SHIFT(Shld16, 16, true)
DOUBLE_SHIFT(Shld32, 32, true)
DOUBLE_SHIFT(Shrd16, 16, false)
DOUBLE_SHIFT(Shrd32, 32, false)
#undef DOUBLE_SHIFT

void BlockCompiler::call_reference(ir::InstRef i, ReferenceFn fn,
                                   const std::vector<ir::Value>& args) {
    host_flags_ = ir::kNoInst;
    store_record();  // (its operands may be in registers the call clobbers)
    const ir::InstRef f = flags_of_[i];
    const Reg64 dst = ra_.define(i);
    const int flags_reg = f == ir::kNoInst ? -1 : ra_.define(f).getIdx();
    // Everything a call may clobber: live temporaries and the pinned guest
    // registers in R8-R11 (the other pinned registers are callee-saved).
    std::vector<Reg64> saved;
    for (const Reg64& r : ra_.live_caller_saved(dst.getIdx())) {
        if (r.getIdx() != flags_reg) saved.push_back(r);
    }
    for (unsigned g : kCallerSavedGuests)
        saved.push_back(pinned(g));
    for (const Reg64& r : saved)
        c.push(r);
    std::size_t pushed = saved.size() * 8;
    if (saved.size() % 2) {
        c.sub(rsp, 8);
        pushed += 8;
    }
    // The arguments through the stack, so no argument register is
    // overwritten before it is read.
    for (const ir::Value& v : args) {
        if (v.is_immediate()) {
            c.push(static_cast<std::uint32_t>(v.imm()));  // (sign-extended; 32 bits are read)
        } else if (const int r = ra_.register_of(v); r >= 0) {
            c.push(Reg64(r));
        } else {
            c.push(qword[rsp + RegAlloc::spill_offset_of(v) + pushed]);
        }
        pushed += 8;
        ra_.consume(v);
    }
    const Reg64 arg_regs[] = {rdi, rsi, rdx};
    for (std::size_t k = args.size(); k-- > 0;)
        c.pop(arg_regs[k]);
    c.mov(rax, reinterpret_cast<std::uintptr_t>(fn));
    c.call(rax);
    if (flags_reg >= 0 && flags_reg != rax.getIdx()) {
        c.mov(Reg64(flags_reg), rax);
        c.shr(Reg64(flags_reg), 32);
        c.mov(dst.cvt32(), eax);
    } else {
        c.mov(dst.cvt32(), eax);
        if (flags_reg >= 0) c.shr(rax, 32);
    }
    if (saved.size() % 2) c.add(rsp, 8);
    for (auto it = saved.rbegin(); it != saved.rend(); ++it)
        c.pop(*it);
}

// BSF/BSR leave the destination alone for a zero source: start from `old`.
// Only ZF is the host's to keep: the other flags are undefined, and differ
// between hosts (Intel and AMD), so when something reads them they become
// the model's (ir::eval: bsf): those of an AND giving 0 for a zero source
// (ZF, PF set) and result + 0x100 otherwise (ZF, SF clear; PF from the
// result).
#define BIT_SCAN(Name, host, bits)                                         \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) { \
        const Reg64 src = ra_.use(inst.args[0]);                           \
        const Reg64 dst = ra_.use_scratch(inst.args[1]);                   \
        c.host(sized(dst, bits), sized(src, bits));                        \
        if (flags_of_[i] != ir::kNoInst) {                                 \
            const Reg64 mask = ra_.scratch();                              \
            const Reg64 t = ra_.scratch();                                 \
            c.setz(mask.cvt8());                                           \
            c.movzx(mask.cvt32(), mask.cvt8());                            \
            c.dec(mask.cvt32()); /* 0 for a zero source, else all ones */  \
            c.lea(t.cvt32(), ptr[dst + 0x100]);                            \
            c.and_(sized(mask, bits), sized(t, bits));                     \
        }                                                                  \
        capture_flags(i);                                                  \
        ra_.define_in(i, dst);                                             \
    }
BIT_SCAN(Bsf16, bsf, 16)
BIT_SCAN(Bsf32, bsf, 32)
BIT_SCAN(Bsr16, bsr, 16)
BIT_SCAN(Bsr32, bsr, 32)
#undef BIT_SCAN

void BlockCompiler::emit_Bswap32(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 r = ra_.use_scratch(inst.args[0]);
    c.bswap(r.cvt32());
    ra_.define_in(i, r);
}

// ---- Widening multiplies: the one-operand host MUL/IMUL (RDX:RAX) -------------

void BlockCompiler::multiply(ir::InstRef i, const ir::Inst& inst, unsigned bits, bool is_signed) {
    if (is_signed && bits == 32 && low_half_only_[i] && options_.in_place_alu) {
        // The low half only: IMUL r32, r/m32 (, imm32), whose CF and OF are
        // the widening form's; the product's high half is left zero.
        const ir::Value& a = inst.args[0];
        const ir::Value& b = inst.args[1];
        if (b.is_immediate() && !a.is_immediate()) {
            const Reg64 x = ra_.use(a);
            const Reg64 dst = ra_.define(i);
            c.imul(dst.cvt32(), x.cvt32(), static_cast<int>(static_cast<std::uint32_t>(b.imm())));
        } else {
            const Reg64 dst = ra_.use_scratch(a);
            const Reg64 y = ra_.use(b);
            c.imul(dst.cvt32(), y.cvt32());
            ra_.define_in(i, dst);
        }
        capture_flags(i);
        return;
    }
    if (bits != 8) ra_.reserve(rdx);
    ra_.use_fixed(inst.args[0], rax);
    const Reg64 src = ra_.use(inst.args[1]);
    const Reg s = sized(src, bits);
    if (is_signed) {
        c.imul(s);
    } else {
        c.mul(s);
    }
    capture_flags(i);
    if (bits == 32 && (split_[i].first != ir::kNoInst || split_[i].second != ir::kNoInst)) {
        // Read only by its halves: they are EAX and EDX as they are.
        if (split_[i].first != ir::kNoInst) ra_.define_in(split_[i].first, rax);
        if (split_[i].second != ir::kNoInst) ra_.define_in(split_[i].second, rdx);
        return;
    }
    // Assemble the double-width product in RAX, zero-extended.
    switch (bits) {
        case 8:
            c.movzx(eax, ax);
            break;
        case 16:
            c.movzx(eax, ax);
            c.shl(edx, 16);
            c.or_(eax, edx);
            break;
        default:
            c.mov(eax, eax);
            c.shl(rdx, 32);
            c.or_(rax, rdx);
            break;
    }
    ra_.define_in(i, rax);
}

void BlockCompiler::emit_Mul8(ir::InstRef i, const ir::Inst& inst) { multiply(i, inst, 8, false); }
void BlockCompiler::emit_Mul16(ir::InstRef i, const ir::Inst& inst) {
    multiply(i, inst, 16, false);
}
void BlockCompiler::emit_Mul32(ir::InstRef i, const ir::Inst& inst) {
    multiply(i, inst, 32, false);
}
void BlockCompiler::emit_Imul8(ir::InstRef i, const ir::Inst& inst) { multiply(i, inst, 8, true); }
void BlockCompiler::emit_Imul16(ir::InstRef i, const ir::Inst& inst) {
    multiply(i, inst, 16, true);
}
void BlockCompiler::emit_Imul32(ir::InstRef i, const ir::Inst& inst) {
    multiply(i, inst, 32, true);
}

// ---- Width changes ------------------------------------------------------------------

#define CONVERT(Name, body)                                                \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) { \
        const Reg64 r = ra_.use_scratch(inst.args[0]);                     \
        body;                                                              \
        ra_.define_in(i, r);                                               \
    }
// (Of an 8- or 16-bit load that zero-extended already: nothing to do.)
#define ZERO_EXTEND(Name, narrow)                                                          \
    CONVERT(Name, if (inst.args[0].is_immediate() || !zero_extended_[inst.args[0].inst()]) \
                      c.movzx(r.cvt32(), narrow))
ZERO_EXTEND(ZeroExtend8To16, r.cvt8())
ZERO_EXTEND(ZeroExtend8To32, r.cvt8())
ZERO_EXTEND(ZeroExtend16To32, r.cvt16())
#undef ZERO_EXTEND
CONVERT(ZeroExtend32To64, c.mov(r.cvt32(), r.cvt32()))
CONVERT(SignExtend8To16, c.movsx(r.cvt32(), r.cvt8()))
CONVERT(SignExtend8To32, c.movsx(r.cvt32(), r.cvt8()))
CONVERT(SignExtend16To32, c.movsx(r.cvt32(), r.cvt16()))
CONVERT(Truncate16To8, (void)0)
CONVERT(Truncate32To8, (void)0)
CONVERT(Truncate32To16, (void)0)
#undef CONVERT

// The halves of a 64-bit value; of a split product (split_), defined at the
// multiply already.
void BlockCompiler::emit_Truncate64To32(ir::InstRef i, const ir::Inst& inst) {
    if (ra_.is_defined(i)) {
        ra_.consume(inst.args[0]);
        return;
    }
    const Reg64 r = ra_.use_scratch(inst.args[0]);
    // (A two- or three-operand IMUL's result is zero-extended already.)
    if (inst.args[0].is_immediate() || !low_half_only_[inst.args[0].inst()]) {
        c.mov(r.cvt32(), r.cvt32());
    }
    ra_.define_in(i, r);
}

void BlockCompiler::emit_High32Of64(ir::InstRef i, const ir::Inst& inst) {
    if (ra_.is_defined(i)) {
        ra_.consume(inst.args[0]);
        return;
    }
    const Reg64 r = ra_.use_scratch(inst.args[0]);
    c.shr(r, 32);
    ra_.define_in(i, r);
}

void BlockCompiler::emit_Pack32To64(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 hi = ra_.use_scratch(inst.args[1]);
    const Reg64 lo = ra_.use(inst.args[0]);
    c.shl(hi, 32);
    const Reg64 t = ra_.scratch();
    c.mov(t.cvt32(), lo.cvt32());
    c.or_(hi, t);
    ra_.define_in(i, hi);
}

// ---- Tests and selection ---------------------------------------------------------

#define IS_ZERO(Name, bits)                                                \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) { \
        const Reg64 src = ra_.use(inst.args[0]);                           \
        const Reg64 dst = ra_.define(i);                                   \
        c.test(sized(src, bits), sized(src, bits));                        \
        c.setz(dst.cvt8());                                                \
        c.movzx(dst.cvt32(), dst.cvt8());                                  \
    }
IS_ZERO(IsZero8, 8)
IS_ZERO(IsZero16, 16)
IS_ZERO(IsZero32, 32)
#undef IS_ZERO

void BlockCompiler::emit_LogicalNot1(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 r = ra_.use_scratch(inst.args[0]);
    c.xor_(r.cvt32(), 1);
    ra_.define_in(i, r);
}

void BlockCompiler::emit_LogicalAnd1(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 r = ra_.use_scratch(inst.args[0]);
    c.and_(r.cvt32(), ra_.use(inst.args[1]).cvt32());
    ra_.define_in(i, r);
}

void BlockCompiler::emit_LogicalOr1(ir::InstRef i, const ir::Inst& inst) {
    const Reg64 r = ra_.use_scratch(inst.args[0]);
    c.or_(r.cvt32(), ra_.use(inst.args[1]).cvt32());
    ra_.define_in(i, r);
}

#define SELECT(Name)                                                       \
    void BlockCompiler::emit_##Name(ir::InstRef i, const ir::Inst& inst) { \
        const Reg64 cond = ra_.use(inst.args[0]);                          \
        const Reg64 a = ra_.use(inst.args[1]);                             \
        const Reg64 dst = ra_.use_scratch(inst.args[2]);                   \
        c.test(cond.cvt32(), cond.cvt32());                                \
        c.cmovnz(dst.cvt32(), a.cvt32());                                  \
        ra_.define_in(i, dst);                                             \
    }
SELECT(Select8)
SELECT(Select16)
SELECT(Select32)
SELECT(SelectFlags)
#undef SELECT

}  // namespace jitterbug::jit::x64
