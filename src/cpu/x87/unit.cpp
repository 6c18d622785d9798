#include "cpu/x87/unit.hpp"

#include <array>
#include <cstring>

#include "cpu/cpu.hpp"
#include "cpu/runtime.hpp"
#include "cpu/x87/environment.hpp"
#include "cpu/x87/memory.hpp"
#include "cpu/x87/transcendental.hpp"
#include "util/bits.hpp"

namespace jitterbug::cpu::x87 {

namespace {

// The constants of FLD1 ... FLDZ (by their ModR/M rm), to 128 bits, rounded
// by the rounding control when loaded (SDM Vol. 1, 8.3.8).
struct Constant {
    std::uint16_t exponent;  // biased; 0: zero
    std::uint64_t hi, lo;
};
constexpr std::array<Constant, 7> kConstants = {{
    {0x3FFF, 0x8000000000000000ull, 0},                      // 1
    {0x4000, 0xd49a784bcd1b8afeull, 0x492bf6ff4dafdb4cull},  // log2(10)
    {0x3FFF, 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull},  // log2(e)
    {0x4000, 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull},  // pi
    {0x3FFD, 0x9a209a84fbcff798ull, 0x8f8959ac0b7c9178ull},  // log10(2)
    {0x3FFE, 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull},  // ln(2)
    {0, 0, 0},                                               // +0
}};

class Unit {
  public:
    explicit Unit(CpuContext& ctx) : ctx_(ctx), s_(ctx.state.x87) { env_.control = s_.control; }

    // ---- the stack ----
    unsigned phys(unsigned i) const { return s_.physical(i); }
    bool empty(unsigned i) const { return !((s_.valid >> phys(i)) & 1); }
    Float80 st(unsigned i) const { return s_.regs[phys(i)]; }
    void set_st(unsigned i, Float80 v) {
        s_.regs[phys(i)] = v;
        s_.valid |= static_cast<std::uint8_t>(1u << phys(i));
    }
    void pop() {
        s_.valid &= static_cast<std::uint8_t>(~(1u << phys(0)));
        s_.set_top(s_.top() + 1);
    }
    bool push_overflows() const { return (s_.valid >> phys(7)) & 1; }
    void push(Float80 v) {
        s_.set_top(s_.top() - 1);
        set_st(0, v);
    }

    // ---- status ----
    Env& env() { return env_; }
    void set_conditions(std::uint16_t bits) {
        s_.status = static_cast<std::uint16_t>((s_.status & ~sw::kConditions) | bits);
    }
    void set_c1(bool c1) {
        s_.status = static_cast<std::uint16_t>((s_.status & ~sw::C1) | (c1 ? sw::C1 : 0));
    }
    // The exceptions raised (env's), and ES/B when one is unmasked.
    void report() {
        s_.status |= env_.flags;
        if (env_.flags & ~s_.control & exc::kAll) s_.status |= sw::ES | sw::B;
    }
    // Stack underflow (C1 = 0) or overflow (C1 = 1): IE with SF. Returns
    // whether the masked response (the indefinite as the result) applies.
    bool stack_fault(bool overflow) {
        env_.flags |= exc::IE;
        s_.status |= sw::SF;
        set_c1(overflow);
        return env_.masked(exc::IE);
    }
    // An unmasked exception that stores nothing (IE, DE, ZE).
    bool stopped() const {
        return env_.unmasked(exc::IE) || env_.unmasked(exc::DE) || env_.unmasked(exc::ZE);
    }

    CpuContext& ctx() { return ctx_; }
    X87State& state() { return s_; }

  private:
    CpuContext& ctx_;
    X87State& s_;
    Env env_;
};

// ---- memory operands ----

unsigned size_of(Form f) {
    switch (f) {
        case Form::F32:
        case Form::I32:
            return 4;
        case Form::F64:
        case Form::I64:
            return 8;
        case Form::F80:
        case Form::Bcd:
            return 10;
        case Form::I16:
        case Form::Word:
            return 2;
        default:
            return 0;
    }
}

Float80 from_bcd(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (unsigned i = 9; i-- > 0;)
        v = v * 100 + (p[i] >> 4) * 10 + (p[i] & 0xF);
    Float80 r = from_int64(static_cast<std::int64_t>(v));
    if (p[9] & 0x80) r = negate(r);
    return r;
}

// A memory operand as a value (loads convert; an SNaN or denormal raises
// IE or DE in env).
Float80 decode(Form f, const std::uint8_t* p, bool operand, Env& env) {
    switch (f) {
        case Form::F32:
            return from_float32(static_cast<std::uint32_t>(load_le_bytes(p, 4)), env, operand);
        case Form::F64:
            return from_float64(load_le_bytes(p, 8), env, operand);
        case Form::F80:
            return Float80{load_le_bytes(p, 8),
                           static_cast<std::uint16_t>(load_le_bytes(p + 8, 2))};
        case Form::I16:
            return from_int64(static_cast<std::int16_t>(load_le_bytes(p, 2)));
        case Form::I32:
            return from_int64(static_cast<std::int32_t>(load_le_bytes(p, 4)));
        case Form::I64:
            return from_int64(static_cast<std::int64_t>(load_le_bytes(p, 8)));
        case Form::Bcd:
            return from_bcd(p);
        default:
            return {};
    }
}

// FBSTP's conversion: to an integer by the rounding control (as FIST: no
// DE for a denormal), 18 digits.
void to_bcd(Float80 v, Env& env, std::uint8_t* out) {
    const Class c = classify(v);
    std::uint64_t m = 0;
    bool ok = c == Class::Zero;
    if (c == Class::Normal || c == Class::Denormal) {
        Env probe = env;  // (out of FIST's range is out of BCD's too: IE below)
        const std::int64_t n = to_int(v, 64, false, probe);
        const std::uint64_t magnitude =
            n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
        ok = !(probe.flags & exc::IE) && magnitude < 1000000000000000000ull;
        if (ok) {
            env = probe;
            m = magnitude;
        }
    }
    if (!ok) {
        env.flags |= exc::IE;
        // The packed BCD indefinite (SDM Vol. 1, Table 4-5).
        static constexpr std::uint8_t kIndefiniteBcd[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
        std::memcpy(out, kIndefiniteBcd, 10);
        return;
    }
    for (unsigned i = 0; i < 9; ++i) {
        const unsigned two = static_cast<unsigned>(m % 100);
        m /= 100;
        out[i] = static_cast<std::uint8_t>((two / 10) << 4 | (two % 10));
    }
    out[9] = v.sign() ? 0x80 : 0;
}

// ST(0) (or a masked stack underflow's indefinite) in a memory format.
// Returns false when an unmasked exception stores nothing.
bool encode(Unit& u, Form f, Float80 v, std::uint8_t* out) {
    Env& env = u.env();
    switch (f) {
        case Form::F32:
            store_le_bytes(out, 4, to_float32(v, env));
            break;
        case Form::F64:
            store_le_bytes(out, 8, to_float64(v, env));
            break;
        case Form::F80:
            store_le_bytes(out, 8, v.significand);
            store_le_bytes(out + 8, 2, v.sign_exponent);
            break;
        case Form::I16:
        case Form::I32:
        case Form::I64: {
            const unsigned bits = f == Form::I16 ? 16 : f == Form::I32 ? 32 : 64;
            store_le_bytes(out, bits / 8, static_cast<std::uint64_t>(to_int(v, bits, false, env)));
            break;
        }
        case Form::Bcd:
            to_bcd(v, env, out);
            break;
        default:
            break;
    }
    return !(env.unmasked(exc::IE) || env.unmasked(exc::OE) || env.unmasked(exc::UE));
}

// ---- the operations ----

Float80 arithmetic(Op op, Float80 a, Float80 b, Env& env) {
    switch (op) {
        case Op::Add:
            return add(a, b, env);
        case Op::Mul:
            return mul(a, b, env);
        case Op::Sub:
            return sub(a, b, env);
        case Op::SubR:
            return sub(b, a, env);
        case Op::Div:
            return div(a, b, env);
        default:  // DivR
            return div(b, a, env);
    }
}

// FADD ... FDIVR: ST(d) = ST(d) op source, source memory or ST(i).
void do_arithmetic(Unit& u, const X87Instruction& x, const Float80* memory) {
    const unsigned dest = x.to_sti ? x.sti : 0;
    const unsigned other = x.to_sti ? 0 : x.sti;
    Float80 r;
    if (u.empty(dest) || (!memory && u.empty(other))) {
        if (!u.stack_fault(false)) return;
        r = kIndefinite;
    } else {
        const Float80 b = memory ? *memory : u.st(other);
        r = arithmetic(x.op, u.st(dest), b, u.env());
        if (u.stopped()) return;
        u.set_c1(u.env().rounded_up);
    }
    u.set_st(dest, r);
    if (x.pop) u.pop();
}

std::uint16_t conditions_of(Order order) {
    switch (order) {
        case Order::Greater:
            return 0;
        case Order::Less:
            return sw::C0;
        case Order::Equal:
            return sw::C3;
        default:
            return sw::C3 | sw::C2 | sw::C0;
    }
}

void set_eflags_of(CpuContext& ctx, Order order) {
    // ZF PF CF as FCOMI sets them; OF, SF and AF cleared (SDM Vol. 2A, FCOMI).
    std::uint32_t bits = 0;
    if (order == Order::Less) bits = eflags::CF;
    if (order == Order::Equal) bits = eflags::ZF;
    if (order == Order::Unordered) bits = eflags::ZF | eflags::PF | eflags::CF;
    CpuState& st = ctx.state;
    st.flags_status = (st.flags_status & ~eflags::kArithmetic) | bits;
}

void do_compare(Unit& u, const X87Instruction& x, const Float80* memory) {
    const bool quiet = x.op == Op::UCom || x.op == Op::UComP || x.op == Op::UComPP ||
                       x.op == Op::UComI || x.op == Op::UComIP;
    const bool to_eflags =
        x.op == Op::ComI || x.op == Op::ComIP || x.op == Op::UComI || x.op == Op::UComIP;
    const unsigned pops =
        (x.op == Op::ComPP || x.op == Op::UComPP)                                            ? 2
        : (x.op == Op::ComP || x.op == Op::UComP || x.op == Op::ComIP || x.op == Op::UComIP) ? 1
                                                                                             : 0;
    const unsigned other = (x.op == Op::ComPP || x.op == Op::UComPP) ? 1 : x.sti;
    // The condition codes are set even when an unmasked exception stops
    // the pops (a stack underflow gives "unordered").
    Order order = Order::Unordered;
    if (u.empty(0) || (!memory && x.op != Op::Tst && u.empty(other))) {
        u.stack_fault(false);
    } else {
        const Float80 b = x.op == Op::Tst ? zero(false) : memory ? *memory : u.st(other);
        order = compare(u.st(0), b, quiet, u.env());
    }
    if (to_eflags) {
        set_eflags_of(u.ctx(), order);
    } else {
        const bool c1 = (u.state().status & sw::C1) != 0;
        u.set_conditions(conditions_of(order) | (c1 ? sw::C1 : 0));
    }
    if (u.env().unmasked(exc::IE) || u.env().unmasked(exc::DE)) return;
    for (unsigned i = 0; i < pops; ++i)
        u.pop();
}

void do_xam(Unit& u) {
    std::uint16_t cc;
    if (u.empty(0)) {
        cc = sw::C3 | sw::C0;
    } else {
        switch (classify(u.st(0))) {
            case Class::Unsupported:
                cc = 0;
                break;
            case Class::QuietNaN:
            case Class::SignalingNaN:
                cc = sw::C0;
                break;
            case Class::Normal:
                cc = sw::C2;
                break;
            case Class::Infinity:
                cc = sw::C2 | sw::C0;
                break;
            case Class::Zero:
                cc = sw::C3;
                break;
            default:  // denormal
                cc = sw::C3 | sw::C2;
                break;
        }
    }
    u.set_conditions(cc | (u.st(0).sign() ? sw::C1 : 0));
}

void do_load(Unit& u, const X87Instruction& x, const Float80* memory) {
    Float80 v;
    if (memory) {
        v = *memory;
        // (A denormal loaded raises DE, unless the stack overflows; even
        // unmasked, the load is made.)
        if (u.env().denormal_operand && !u.push_overflows()) u.env().flags |= exc::DE;
        if (u.env().unmasked(exc::IE)) return;  // an SNaN, unmasked
    } else if (x.op == Op::LdConst) {
        // (Rounded without PE or C1: a constant is not an inexact result.)
        const Constant& k = kConstants[x.sti];
        Env rounding = u.env();
        v = k.exponent ? round_wide(false, k.exponent, k.hi, k.lo, rounding) : zero(false);
    } else if (u.empty(x.sti)) {
        // Underflow: the indefinite is pushed (C1 = 0: no overflow check).
        if (u.stack_fault(false)) u.push(kIndefinite);
        return;
    } else {
        v = u.st(x.sti);
    }
    if (u.push_overflows()) {
        if (!u.stack_fault(true)) return;
        v = kIndefinite;
    } else {
        u.set_c1(false);
    }
    u.push(v);
}

bool do_store(Unit& u, const X87Instruction& x, const MemoryOperand* m) {
    const bool pop = x.op == Op::StP || x.op == Op::IstTP;
    Float80 v = u.st(0);
    if (u.empty(0)) {
        if (!u.stack_fault(false)) return true;
        v = kIndefinite;
    }
    if (!m) {  // to ST(i)
        u.set_st(x.sti, v);
    } else {
        std::uint8_t bytes[10] = {};
        const unsigned size = size_of(x.form);
        if (x.op == Op::IstTP) {
            const unsigned bits = size * 8;
            store_le_bytes(bytes, size, static_cast<std::uint64_t>(to_int(v, bits, true, u.env())));
            if (u.env().unmasked(exc::IE)) return true;
        } else if (!encode(u, x.form, v, bytes)) {
            return true;
        }
        if (!check_writable(u.ctx(), *m, size)) return false;
        if (!write_memory(u.ctx(), *m, size, bytes)) return false;
        u.set_c1(u.env().rounded_up);
    }
    if (pop) u.pop();
    return true;
}

void do_exchange(Unit& u, unsigned i) {
    if (u.empty(0) || u.empty(i)) {
        if (!u.stack_fault(false)) return;
        if (u.empty(0)) u.set_st(0, kIndefinite);
        if (u.empty(i)) u.set_st(i, kIndefinite);
    } else {
        u.set_c1(false);
    }
    const Float80 t = u.st(0);
    u.set_st(0, u.st(i));
    u.set_st(i, t);
}

bool condition_holds(const CpuState& st, unsigned condition) {
    const std::uint32_t f = st.eflags();
    bool c;
    switch (condition & 3) {
        case 0:
            c = f & eflags::CF;
            break;
        case 1:
            c = f & eflags::ZF;
            break;
        case 2:
            c = f & (eflags::CF | eflags::ZF);
            break;
        default:
            c = f & eflags::PF;
            break;
    }
    return (condition & 4) ? !c : c;
}

void do_cmov(Unit& u, const X87Instruction& x) {
    if (u.empty(0) || u.empty(x.sti)) {
        if (!u.stack_fault(false)) return;
        u.set_st(0, kIndefinite);
        return;
    }
    if (condition_holds(u.ctx().state, static_cast<unsigned>(x.form))) u.set_st(0, u.st(x.sti));
}

// One-operand arithmetic on ST(0).
void do_unary(Unit& u, Op op) {
    if (u.empty(0)) {
        if (!u.stack_fault(false)) return;
        u.set_st(0, kIndefinite);
        return;
    }
    Float80 r;
    switch (op) {
        case Op::Chs:
            r = negate(u.st(0));
            break;
        case Op::Abs:
            r = absolute(u.st(0));
            break;
        case Op::Sqrt:
            r = sqrt(u.st(0), u.env());
            break;
        default:  // Rndint
            r = round_to_integer(u.st(0), u.env());
            break;
    }
    if (u.stopped()) return;
    u.set_c1(u.env().rounded_up);
    u.set_st(0, r);
}

void do_scale(Unit& u) {
    if (u.empty(0) || u.empty(1)) {
        if (!u.stack_fault(false)) return;
        u.set_st(0, kIndefinite);
        return;
    }
    const Float80 r = scale(u.st(0), u.st(1), u.env());
    if (u.stopped()) return;
    u.set_c1(u.env().rounded_up);
    u.set_st(0, r);
}

void do_extract(Unit& u) {
    if (u.empty(0)) {
        // Underflow: both results are the indefinite, pushed whatever the
        // register below holds.
        if (!u.stack_fault(false)) return;
        u.set_st(0, kIndefinite);
        u.push(kIndefinite);
        return;
    }
    if (u.push_overflows()) {
        if (!u.stack_fault(true)) return;
        u.set_st(0, kIndefinite);
        u.push(kIndefinite);
        return;
    }
    Float80 exponent, significand;
    extract(u.st(0), u.env(), exponent, significand);
    if (u.stopped()) return;
    u.set_c1(false);
    u.set_st(0, exponent);
    u.push(significand);
}

// F2XM1 (ST(0) = f(ST(0))); FYL2X, FYL2XP1, FPATAN (ST(1) = f(ST(1),
// ST(0)), then a pop).
void do_transcendental(Unit& u, Op op) {
    const bool binary = op != Op::F2xm1;
    if (u.empty(0) || (binary && u.empty(1))) {
        if (!u.stack_fault(false)) return;
        u.set_st(binary ? 1 : 0, kIndefinite);
        if (binary) u.pop();
        return;
    }
    Float80 r;
    switch (op) {
        case Op::F2xm1:
            r = f2xm1(u.st(0), u.env());
            break;
        case Op::Yl2x:
            r = yl2x(u.st(1), u.st(0), u.env());
            break;
        case Op::Yl2xp1:
            r = yl2xp1(u.st(1), u.st(0), u.env());
            break;
        default:  // Patan
            r = atan2(u.st(1), u.st(0), u.env());
            break;
    }
    if (u.stopped()) return;
    u.set_c1(u.env().rounded_up);
    u.set_st(binary ? 1 : 0, r);
    if (binary) u.pop();
}

// FSIN, FCOS (ST(0) = f(ST(0))), FPTAN (the same, then a push of 1) and
// FSINCOS (ST(0) = sine, then a push of the cosine). C2: the operand was
// out of range (|x| >= 2^63) and is left.
void do_trigonometric(Unit& u, Op op) {
    const bool pushes = op == Op::Ptan || op == Op::Sincos;
    u.set_conditions(u.state().status & (sw::C0 | sw::C3));
    if (u.empty(0)) {
        if (!u.stack_fault(false)) return;
        u.set_st(0, kIndefinite);
        if (pushes) u.push(kIndefinite);
        return;
    }
    if (pushes && u.push_overflows()) {
        if (!u.stack_fault(true)) return;
        u.set_st(0, kIndefinite);
        u.push(kIndefinite);
        return;
    }
    const Float80 x = u.st(0);
    Float80 r, second;
    bool in_range = true;
    switch (op) {
        case Op::Sin:
            in_range = sine(x, u.env(), r);
            break;
        case Op::Cos:
            in_range = cosine(x, u.env(), r);
            break;
        case Op::Ptan:
            in_range = tangent(x, u.env(), r);
            second = make(false, kBias, kIntegerBit);
            break;
        default:  // Sincos
            in_range = sine(x, u.env(), r);
            if (in_range) in_range = cosine(x, u.env(), second);
            break;
    }
    if (!in_range) {
        u.set_conditions((u.state().status & (sw::C0 | sw::C3)) | sw::C2);
        return;
    }
    if (u.stopped()) return;
    u.set_c1(u.env().rounded_up);
    u.set_st(0, r);
    if (!pushes) return;
    // A NaN or invalid operand gives the same NaN to both.
    if (op == Op::Ptan && is_nan(r)) second = r;
    u.push(second);
}

void do_remainder(Unit& u, bool ieee) {
    // Whatever stops the instruction (an empty register, an invalid or NaN
    // operand, masked or not) leaves C0 and C3 and clears C1 and C2.
    u.set_conditions(u.state().status & (sw::C0 | sw::C3));
    if (u.empty(0) || u.empty(1)) {
        if (!u.stack_fault(false)) return;
        u.set_st(0, kIndefinite);
        return;
    }
    unsigned q = 0;
    bool partial = false;
    const Float80 r = remainder(u.st(0), u.st(1), ieee, u.env(), q, partial);
    if (u.stopped()) return;
    u.set_st(0, r);
    if (is_nan(r)) return;
    // C2: incomplete; otherwise C0, C3, C1 = Q2, Q1, Q0.
    std::uint16_t cc = partial ? sw::C2 : 0;
    if (!partial) {
        if (q & 4) cc |= sw::C0;
        if (q & 2) cc |= sw::C3;
        if (q & 1) cc |= sw::C1;
    }
    u.set_conditions(cc);
}

// C1 is 0 after an instruction unless it says otherwise (rounded up,
// overflow), except after these, which leave it but for a stack fault: FNOP,
// FCMOVcc and FCOMI/FUCOMI(P) (the hardware's behaviour; the SDM calls C1
// undefined for FCMOVcc and has FCOMI clear it).
bool keeps_c1(Op op) {
    switch (op) {
        case Op::Nop:
        case Op::Cmov:
        case Op::ComI:
        case Op::ComIP:
        case Op::UComI:
        case Op::UComIP:
            return true;
        default:
            return false;
    }
}

bool non_control(Op op) {
    switch (op) {
        case Op::Init:
        case Op::Clex:
        case Op::Ldcw:
        case Op::Stcw:
        case Op::Stsw:
        case Op::StswAx:
        case Op::Ldenv:
        case Op::Stenv:
        case Op::Save:
        case Op::Rstor:
        case Op::Fxsave:
        case Op::Fxrstor:
            return false;
        default:
            return true;
    }
}

// The instructions that do not check for a pending exception first (the
// FN... forms; SDM Vol. 1, 8.3.11).
bool non_waiting(Op op) {
    switch (op) {
        case Op::Init:
        case Op::Clex:
        case Op::Stcw:
        case Op::Stsw:
        case Op::StswAx:
        case Op::Stenv:
        case Op::Save:
        case Op::Fxsave:
        case Op::Fxrstor:
            return true;
        default:
            return false;
    }
}

// A waiting instruction finding an unmasked exception pending (ES): #MF
// with CR0.NE; without, the PC way (SDM Vol. 1, D.2.1.3): FERR# goes up
// and the instruction freezes until an interrupt (IRQ 13's handler) comes,
// unless IGNNE# lets it go on. True when the instruction must not run.
bool pending_exception(CpuContext& ctx) {
    if (!(ctx.state.x87.status & sw::ES)) return false;
    if (ctx.state.cr0 & cr0::NE) {
        runtime::raise_fault(ctx, vector::MF);
        return true;
    }
    ctx.cpu->set_ferr(true);
    if (ctx.ignne) return false;
    ctx.freeze_for_interrupt = true;
    ctx.abort_instruction = 1;
    return true;
}

// FERR# follows ES down (FNCLEX, FNINIT, FLDENV, FRSTOR, FXRSTOR).
void follow_error_summary(CpuContext& ctx) {
    if (ctx.ferr && !(ctx.state.x87.status & sw::ES)) ctx.cpu->set_ferr(false);
}

void execute_operation(CpuContext& ctx, const X87Instruction& x, std::uint32_t offset,
                       std::uint32_t eip);

}  // namespace

void initialize(X87State& s) {
    s.control = 0x037F;
    s.status = 0;
    s.valid = 0;
    s.opcode = 0;
    s.ip = s.dp = 0;
    s.cs = s.ds = 0;
}

void wait(CpuContext& ctx) {
    const std::uint32_t cr0 = ctx.state.cr0;
    if ((cr0 & cr0::MP) && (cr0 & cr0::TS)) {
        runtime::raise_fault(ctx, vector::NM);
        return;
    }
    pending_exception(ctx);
}

void execute(CpuContext& ctx, const X87Instruction& x, std::uint32_t offset, std::uint32_t eip) {
    CpuState& st = ctx.state;
    const bool fx = x.op == Op::Fxsave || x.op == Op::Fxrstor;
    if (st.cr0 & cr0::EM) {
        runtime::raise_fault(ctx, fx ? vector::UD : vector::NM);
        return;
    }
    if (st.cr0 & cr0::TS) {
        runtime::raise_fault(ctx, vector::NM);
        return;
    }
    if (!non_waiting(x.op) && pending_exception(ctx)) return;
    // A fault (of a memory access) leaves the x87 as it was.
    const X87State saved = st.x87;
    execute_operation(ctx, x, offset, eip);
    if (ctx.abort_instruction) {
        st.x87 = saved;
        return;
    }
    follow_error_summary(ctx);
}

namespace {

void execute_operation(CpuContext& ctx, const X87Instruction& x, std::uint32_t offset,
                       std::uint32_t eip) {
    CpuState& st = ctx.state;
    const bool memory = x.form != Form::Register && !(x.op == Op::Cmov);
    MemoryOperand m{static_cast<SegReg>(x.segment), offset};
    // Operands are read before anything changes (a fault leaves the state).
    Unit u(ctx);
    Float80 operand;
    const bool reads = memory && (x.op == Op::Add || x.op == Op::Mul || x.op == Op::Sub ||
                                  x.op == Op::SubR || x.op == Op::Div || x.op == Op::DivR ||
                                  x.op == Op::Com || x.op == Op::ComP || x.op == Op::Ld);
    if (reads) {
        std::uint8_t bytes[10];
        if (!read_memory(ctx, m, size_of(x.form), bytes)) return;
        operand = decode(x.form, bytes, x.op != Op::Ld, u.env());
    }
    // Environment and state instructions do their own accesses.
    switch (x.op) {
        case Op::Init:
            initialize(st.x87);
            return;
        case Op::Clex:
            st.x87.status &= static_cast<std::uint16_t>(~(exc::kAll | sw::SF | sw::ES | sw::B));
            return;
        case Op::Ldcw:
        case Op::Stcw:
        case Op::Stsw:
        case Op::StswAx:
        case Op::Ldenv:
        case Op::Stenv:
        case Op::Save:
        case Op::Rstor:
        case Op::Fxsave:
        case Op::Fxrstor:
            control_instruction(ctx, x, m);
            return;
        default:
            break;
    }
    const Float80* source = reads ? &operand : nullptr;
    if (!keeps_c1(x.op)) u.set_c1(false);
    bool done = true;
    switch (x.op) {
        case Op::Add:
        case Op::Mul:
        case Op::Sub:
        case Op::SubR:
        case Op::Div:
        case Op::DivR:
            do_arithmetic(u, x, source);
            break;
        case Op::Com:
        case Op::ComP:
        case Op::ComPP:
        case Op::UCom:
        case Op::UComP:
        case Op::UComPP:
        case Op::ComI:
        case Op::ComIP:
        case Op::UComI:
        case Op::UComIP:
        case Op::Tst:
            do_compare(u, x, source);
            break;
        case Op::Xam:
            do_xam(u);
            break;
        case Op::Ld:
        case Op::LdConst:
            do_load(u, x, source);
            break;
        case Op::St:
        case Op::StP:
        case Op::IstTP:
            done = do_store(u, x, memory ? &m : nullptr);
            break;
        case Op::Xch:
            do_exchange(u, x.sti);
            break;
        case Op::Cmov:
            do_cmov(u, x);
            break;
        case Op::Chs:
        case Op::Abs:
        case Op::Sqrt:
        case Op::Rndint:
            do_unary(u, x.op);
            break;
        case Op::Free:
        case Op::FreeP:
            st.x87.valid &= static_cast<std::uint8_t>(~(1u << u.phys(x.sti)));
            if (x.op == Op::FreeP) u.pop();
            break;
        case Op::IncStp:
        case Op::DecStp:
            st.x87.set_top(st.x87.top() + (x.op == Op::IncStp ? 1 : 7));
            u.set_c1(false);
            break;
        case Op::Nop:
            break;
        case Op::Scale:
            do_scale(u);
            break;
        case Op::Xtract:
            do_extract(u);
            break;
        case Op::Prem:
        case Op::Prem1:
            do_remainder(u, x.op == Op::Prem1);
            break;
        case Op::F2xm1:
        case Op::Yl2x:
        case Op::Yl2xp1:
        case Op::Patan:
            do_transcendental(u, x.op);
            break;
        case Op::Sin:
        case Op::Cos:
        case Op::Ptan:
        case Op::Sincos:
            do_trigonometric(u, x.op);
            break;
        default:
            break;
    }
    if (!done) return;  // a fault storing: the caller restores
    u.report();
    if (non_control(x.op)) {
        st.x87.opcode = x.fop;
        st.x87.ip = eip;
        st.x87.cs = st.segment(SegReg::Cs).selector;
        if (memory) {
            st.x87.dp = offset;
            st.x87.ds = st.segment(m.segment).selector;
        }
    }
}

}  // namespace
}  // namespace jitterbug::cpu::x87
