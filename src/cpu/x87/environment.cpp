#include "cpu/x87/environment.hpp"

#include <array>

#include "cpu/runtime.hpp"
#include "cpu/x87/unit.hpp"
#include "util/bits.hpp"

namespace jitterbug::cpu::x87 {

namespace {

std::uint32_t get_le(const std::uint8_t* p, unsigned n) {
    return static_cast<std::uint32_t>(load_le_bytes(p, n));
}

// A control word as loaded: the masks, PC, RC and IC kept, bit 6 reading
// as 1, the reserved bits 7 and 13-15 as 0.
std::uint16_t control_word(std::uint32_t v) {
    return static_cast<std::uint16_t>((v & 0x1F3F) | 0x40);
}

// ES and B follow the exception flags the control word leaves unmasked.
void summarize(X87State& s) {
    if (s.status & ~s.control & exc::kAll) {
        s.status |= sw::ES | sw::B;
    } else {
        s.status &= static_cast<std::uint16_t>(~(sw::ES | sw::B));
    }
}

unsigned env_size(Form f) { return f == Form::Env16 ? 14 : 28; }

// FSTENV's image: control, status, tags, and the last instruction's
// pointers, laid out by operand size and mode.
//
// In real and virtual-8086 mode the pointers are linear addresses,
// selector * 16 + offset (SDM Vol. 1, figures 8-10 and 8-12); FLDENV there
// keeps them as offsets with a null selector, so that they store back alike.
void store_env(const CpuState& st, Form f, std::uint8_t* out) {
    X87State s = st.x87;
    const bool real = !st.protected_mode() || st.v86_mode();
    if (real) {
        s.ip += std::uint32_t{s.cs} << 4;
        s.dp += std::uint32_t{s.ds} << 4;
    }
    if (f == Form::Env16) {
        store_le_bytes(out, 2, s.control);
        store_le_bytes(out + 2, 2, s.status);
        store_le_bytes(out + 4, 2, tag_word(s));
        if (real) {
            store_le_bytes(out + 6, 2, s.ip);
            store_le_bytes(out + 8, 2, (s.ip >> 16 & 0xF) << 12 | (s.opcode & 0x7FF));
            store_le_bytes(out + 10, 2, s.dp);
            store_le_bytes(out + 12, 2, (s.dp >> 16 & 0xF) << 12);
        } else {
            store_le_bytes(out + 6, 2, s.ip);
            store_le_bytes(out + 8, 2, s.cs);
            store_le_bytes(out + 10, 2, s.dp);
            store_le_bytes(out + 12, 2, s.ds);
        }
        return;
    }
    store_le_bytes(out, 4, 0xFFFF0000u | s.control);
    store_le_bytes(out + 4, 4, 0xFFFF0000u | s.status);
    store_le_bytes(out + 8, 4, 0xFFFF0000u | tag_word(s));
    if (real) {
        store_le_bytes(out + 12, 4, 0xFFFF0000u | (s.ip & 0xFFFF));
        store_le_bytes(out + 16, 4, (s.ip >> 16) << 12 | (s.opcode & 0x7FF));
        store_le_bytes(out + 20, 4, 0xFFFF0000u | (s.dp & 0xFFFF));
        store_le_bytes(out + 24, 4, (s.dp >> 16) << 12);
    } else {
        store_le_bytes(out + 12, 4, s.ip);
        store_le_bytes(out + 16, 4, std::uint32_t{s.opcode & 0x7FFu} << 16 | s.cs);
        store_le_bytes(out + 20, 4, s.dp);
        store_le_bytes(out + 24, 4, 0xFFFF0000u | s.ds);
    }
}

void load_env(CpuState& st, Form f, const std::uint8_t* in) {
    X87State& s = st.x87;
    const bool real = !st.protected_mode() || st.v86_mode();
    std::uint16_t tags;
    if (f == Form::Env16) {
        s.control = control_word(get_le(in, 2));
        s.status = static_cast<std::uint16_t>(get_le(in + 2, 2));
        tags = static_cast<std::uint16_t>(get_le(in + 4, 2));
        if (real) {
            s.ip = get_le(in + 6, 2) | (get_le(in + 8, 2) >> 12) << 16;
            s.opcode = static_cast<std::uint16_t>(get_le(in + 8, 2) & 0x7FF);
            s.dp = get_le(in + 10, 2) | (get_le(in + 12, 2) >> 12) << 16;
        } else {
            s.ip = get_le(in + 6, 2);
            s.cs = static_cast<std::uint16_t>(get_le(in + 8, 2));
            s.dp = get_le(in + 10, 2);
            s.ds = static_cast<std::uint16_t>(get_le(in + 12, 2));
        }
    } else {
        s.control = control_word(get_le(in, 2));
        s.status = static_cast<std::uint16_t>(get_le(in + 4, 2));
        tags = static_cast<std::uint16_t>(get_le(in + 8, 2));
        if (real) {
            s.ip = (get_le(in + 12, 4) & 0xFFFF) | (get_le(in + 16, 4) >> 12 & 0xFFFF) << 16;
            s.opcode = static_cast<std::uint16_t>(get_le(in + 16, 4) & 0x7FF);
            s.dp = (get_le(in + 20, 4) & 0xFFFF) | (get_le(in + 24, 4) >> 12 & 0xFFFF) << 16;
        } else {
            s.ip = get_le(in + 12, 4);
            s.cs = static_cast<std::uint16_t>(get_le(in + 16, 4));
            s.opcode = static_cast<std::uint16_t>(get_le(in + 16, 4) >> 16 & 0x7FF);
            s.dp = get_le(in + 20, 4);
            s.ds = static_cast<std::uint16_t>(get_le(in + 24, 4));
        }
    }
    if (real) s.cs = s.ds = 0;
    // Only "empty" counts in the tags loaded (SDM Vol. 1, 8.1.7).
    s.valid = 0;
    for (unsigned r = 0; r < 8; ++r) {
        if (((tags >> (2 * r)) & 3) != 3) s.valid |= static_cast<std::uint8_t>(1u << r);
    }
    summarize(s);
}

void store_register(std::uint8_t* out, Float80 v) {
    store_le_bytes(out, 8, v.significand);
    store_le_bytes(out + 8, 2, v.sign_exponent);
}

Float80 load_register(const std::uint8_t* in) {
    return Float80{static_cast<std::uint64_t>(get_le(in, 4)) |
                       static_cast<std::uint64_t>(get_le(in + 4, 4)) << 32,
                   static_cast<std::uint16_t>(get_le(in + 8, 2))};
}

constexpr unsigned kFxSize = 512;
constexpr std::uint32_t kMxcsrMask = 0x0000FFBF;  // no DAZ

// FXSAVE and FXRSTOR take a 16-byte aligned area, whatever the segment:
// #GP(0) otherwise (SDM Vol. 2, FXSAVE).
bool aligned_area(CpuContext& ctx, const MemoryOperand& m) {
    if (((ctx.state.segment(m.segment).base + m.offset) & 15) == 0) return true;
    runtime::raise_fault(ctx, vector::GP, 0);
    return false;
}

bool fxsave(CpuContext& ctx, const MemoryOperand& m) {
    if (!aligned_area(ctx, m)) return false;
    const X87State& s = ctx.state.x87;
    std::array<std::uint8_t, 288> image{};  // (bytes 288-511 are left alone)
    store_le_bytes(&image[0], 2, s.control);
    store_le_bytes(&image[2], 2, s.status);
    store_le_bytes(&image[4], 1, s.valid);
    store_le_bytes(&image[6], 2, s.opcode);
    store_le_bytes(&image[8], 4, s.ip);
    store_le_bytes(&image[12], 2, s.cs);
    store_le_bytes(&image[16], 4, s.dp);
    store_le_bytes(&image[20], 2, s.ds);
    store_le_bytes(&image[24], 4, s.mxcsr);
    store_le_bytes(&image[28], 4, kMxcsrMask);
    for (unsigned i = 0; i < 8; ++i)
        store_register(&image[32 + 16 * i], s.regs[s.physical(i)]);
    if (!check_writable(ctx, m, kFxSize)) return false;
    return write_memory(ctx, m, static_cast<unsigned>(image.size()), image.data());
}

bool fxrstor(CpuContext& ctx, const MemoryOperand& m) {
    if (!aligned_area(ctx, m)) return false;
    std::array<std::uint8_t, 288> image{};
    if (!read_memory(ctx, m, static_cast<unsigned>(image.size()), image.data())) return false;
    const std::uint32_t mxcsr = get_le(&image[24], 4);
    if (mxcsr & ~kMxcsrMask) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return false;
    }
    X87State& s = ctx.state.x87;
    s.control = control_word(get_le(&image[0], 2));
    s.status = static_cast<std::uint16_t>(get_le(&image[2], 2));
    s.valid = image[4];
    s.opcode = static_cast<std::uint16_t>(get_le(&image[6], 2) & 0x7FF);
    s.ip = get_le(&image[8], 4);
    s.cs = static_cast<std::uint16_t>(get_le(&image[12], 2));
    s.dp = get_le(&image[16], 4);
    s.ds = static_cast<std::uint16_t>(get_le(&image[20], 2));
    s.mxcsr = mxcsr;
    for (unsigned i = 0; i < 8; ++i)
        s.regs[s.physical(i)] = load_register(&image[32 + 16 * i]);
    summarize(s);
    return true;
}

}  // namespace

std::uint16_t tag_word(const X87State& s) {
    std::uint16_t tags = 0;
    for (unsigned r = 0; r < 8; ++r) {
        unsigned t;
        if (!((s.valid >> r) & 1)) {
            t = 3;
        } else {
            switch (classify(s.regs[r])) {
                case Class::Zero:
                    t = 1;
                    break;
                case Class::Normal:
                    t = 0;
                    break;
                default:
                    t = 2;
                    break;
            }
        }
        tags |= static_cast<std::uint16_t>(t << (2 * r));
    }
    return tags;
}

void control_instruction(CpuContext& ctx, const X87Instruction& x, const MemoryOperand& m) {
    CpuState& st = ctx.state;
    X87State& s = st.x87;
    std::uint8_t buffer[108];
    switch (x.op) {
        case Op::Ldcw:
            if (!read_memory(ctx, m, 2, buffer)) return;
            s.control = control_word(get_le(buffer, 2));
            summarize(s);
            return;
        case Op::Stcw:
        case Op::Stsw:
            store_le_bytes(buffer, 2, x.op == Op::Stcw ? s.control : s.status);
            if (check_writable(ctx, m, 2)) write_memory(ctx, m, 2, buffer);
            return;
        case Op::StswAx:
            st.reg(Gpr::Eax) = (st.reg(Gpr::Eax) & 0xFFFF0000u) | s.status;
            return;
        case Op::Ldenv:
            if (!read_memory(ctx, m, env_size(x.form), buffer)) return;
            load_env(st, x.form, buffer);
            return;
        case Op::Stenv: {
            const unsigned size = env_size(x.form);
            store_env(st, x.form, buffer);
            if (!check_writable(ctx, m, size) || !write_memory(ctx, m, size, buffer)) return;
            s.control |= exc::kAll;  // FSTENV masks every exception afterwards
            return;
        }
        case Op::Save: {
            const unsigned env = env_size(x.form);
            store_env(st, x.form, buffer);
            for (unsigned i = 0; i < 8; ++i)
                store_register(buffer + env + 10 * i, s.regs[s.physical(i)]);
            if (!check_writable(ctx, m, env + 80) || !write_memory(ctx, m, env + 80, buffer))
                return;
            initialize(s);
            return;
        }
        case Op::Rstor: {
            const unsigned env = env_size(x.form);
            if (!read_memory(ctx, m, env + 80, buffer)) return;
            load_env(st, x.form, buffer);
            for (unsigned i = 0; i < 8; ++i)
                s.regs[s.physical(i)] = load_register(buffer + env + 10 * i);
            return;
        }
        case Op::Fxsave:
        case Op::Fxrstor:
            if (linear_address(ctx, m) & 15) {
                runtime::raise_fault(ctx, vector::GP, 0);
                return;
            }
            if (x.op == Op::Fxsave) {
                fxsave(ctx, m);
            } else {
                fxrstor(ctx, m);
            }
            return;
        default:
            return;
    }
}

}  // namespace jitterbug::cpu::x87
