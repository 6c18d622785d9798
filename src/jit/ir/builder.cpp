#include "jit/ir/builder.hpp"

namespace jitterbug::ir {

Value Builder::zero_extend_32(Value v) {
    switch (v.type()) {
        case Type::U8:
            if (v.is_immediate()) return imm32(v.imm());
            return emit(Opcode::ZeroExtend8To32, {v});
        case Type::U16:
            if (v.is_immediate()) return imm32(v.imm());
            return emit(Opcode::ZeroExtend16To32, {v});
        default:
            return v;
    }
}

Value Builder::sign_extend_32(Value v) {
    switch (v.type()) {
        case Type::U8:
            if (v.is_immediate())
                return imm32(static_cast<std::uint32_t>(static_cast<std::int8_t>(v.imm())));
            return emit(Opcode::SignExtend8To32, {v});
        case Type::U16:
            if (v.is_immediate()) {
                return imm32(static_cast<std::uint32_t>(static_cast<std::int16_t>(v.imm())));
            }
            return emit(Opcode::SignExtend16To32, {v});
        default:
            return v;
    }
}

Value Builder::truncate(Value v, unsigned bits) {
    const unsigned from = width(v);
    if (from == bits) return v;
    if (v.is_immediate()) return imm_of_width(bits, v.imm());
    if (from == 64) {
        Value low = emit(Opcode::Truncate64To32, {v});
        return truncate(low, bits);
    }
    if (from == 32) return emit(bits == 8 ? Opcode::Truncate32To8 : Opcode::Truncate32To16, {v});
    return emit(Opcode::Truncate16To8, {v});
}

Value Builder::resize(Value v, unsigned bits) {
    const unsigned from = width(v);
    if (from == bits) return v;
    if (from > bits) return truncate(v, bits);
    if (bits == 32) return zero_extend_32(v);
    if (bits == 16) {
        if (v.is_immediate()) return imm16(v.imm());
        return emit(Opcode::ZeroExtend8To16, {v});
    }
    if (v.is_immediate()) return imm64(v.imm());
    return emit(Opcode::ZeroExtend32To64, {zero_extend_32(v)});
}

}  // namespace jitterbug::ir
