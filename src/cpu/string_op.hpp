// The descriptor of a string instruction, passed to the string_op helper.
#pragma once

#include <cstdint>

namespace jitterbug::cpu {

enum class StringOpKind : std::uint8_t { Movs, Stos, Lods, Cmps, Scas, Ins, Outs };

struct StringOp {
    StringOpKind kind = StringOpKind::Movs;
    std::uint8_t size = 1;     // element size in bytes: 1, 2 or 4
    bool address32 = true;     // (E)SI/(E)DI/(E)CX by address size
    std::uint8_t rep = 0;      // 0 none, 1 REP/REPE, 2 REPNE
    std::uint8_t segment = 3;  // source segment (DS unless overridden)

    constexpr std::uint32_t pack() const {
        const std::uint32_t size_log2 = size == 1 ? 0 : size == 2 ? 1 : 2;
        return static_cast<std::uint32_t>(kind) | size_log2 << 3 | (address32 ? 1u : 0u) << 5 |
               std::uint32_t{rep} << 6 | std::uint32_t{segment} << 8;
    }
    static constexpr StringOp unpack(std::uint32_t v) {
        StringOp op;
        op.kind = static_cast<StringOpKind>(v & 7);
        op.size = static_cast<std::uint8_t>(1u << ((v >> 3) & 3));
        op.address32 = (v >> 5) & 1;
        op.rep = static_cast<std::uint8_t>((v >> 6) & 3);
        op.segment = static_cast<std::uint8_t>((v >> 8) & 7);
        return op;
    }
};

}  // namespace jitterbug::cpu
