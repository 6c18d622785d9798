// IR value types.
#pragma once

#include <cstdint>
#include <string_view>

namespace jitterbug::ir {

enum class Type : std::uint8_t {
    Void,
    U1,
    U8,
    U16,
    U32,
    U64,
    Flags,      // an EFLAGS image holding only the status flags
    GprRef,     // immediate: a guest general register
    SegRef,     // immediate: a guest segment register
    CondRef,    // immediate: an x86 condition code 0-15
    HelperRef,  // immediate: a runtime helper
    Opaque,     // immediate-free reference to another instruction
};

std::string_view to_string(Type t);

// Width in bits of a value type (Flags count as 32).
constexpr unsigned bit_width(Type t) {
    switch (t) {
        case Type::U1:
            return 1;
        case Type::U8:
            return 8;
        case Type::U16:
            return 16;
        case Type::U32:
            return 32;
        case Type::Flags:
            return 32;
        case Type::U64:
            return 64;
        default:
            return 0;
    }
}

constexpr Type uint_type(unsigned bits) {
    switch (bits) {
        case 1:
            return Type::U1;
        case 8:
            return Type::U8;
        case 16:
            return Type::U16;
        case 32:
            return Type::U32;
        default:
            return Type::U64;
    }
}

}  // namespace jitterbug::ir
