#include "jit/ir/opcode.hpp"

#include <initializer_list>

namespace jitterbug::ir {
namespace {

constexpr std::array<OpcodeInfo, kNumOpcodes> kInfo = {{
// The type names below expand to Type:: enumerators only inside this table.
#define OPCODE(name, result, ...)                                                          \
    OpcodeInfo{#name,                                                                      \
               result,                                                                     \
               static_cast<std::uint8_t>(std::initializer_list<Type>{__VA_ARGS__}.size()), \
               {__VA_ARGS__}},
#define U1 Type::U1
#define U8 Type::U8
#define U16 Type::U16
#define U32 Type::U32
#define U64 Type::U64
#define Flags Type::Flags
#define GprRef Type::GprRef
#define SegRef Type::SegRef
#define CondRef Type::CondRef
#define HelperRef Type::HelperRef
#define Opaque Type::Opaque
#define Void Type::Void
#include "jit/ir/opcodes.inc"
#undef Void
#undef Opaque
#undef HelperRef
#undef CondRef
#undef SegRef
#undef GprRef
#undef Flags
#undef U64
#undef U32
#undef U16
#undef U8
#undef U1
#undef OPCODE
}};

}  // namespace

const OpcodeInfo& info(Opcode op) { return kInfo[static_cast<std::size_t>(op)]; }

bool may_fault(Opcode op) {
    switch (op) {
        case Opcode::CheckSegment:
        case Opcode::ReadMem8:
        case Opcode::ReadMem16:
        case Opcode::ReadMem32:
        case Opcode::WriteMem8:
        case Opcode::WriteMem16:
        case Opcode::WriteMem32:
        case Opcode::CallHelper:
        case Opcode::ExitIf:  // not a fault, but guest state is seen there all the same
            return true;
        default:
            return false;
    }
}

bool has_side_effects(Opcode op) {
    if (may_fault(op)) return true;
    switch (op) {
        case Opcode::SetGpr8:
        case Opcode::SetGpr16:
        case Opcode::SetGpr32:
        case Opcode::SetSegReal:
        case Opcode::SetEip:
        case Opcode::SetEflags:
        case Opcode::SetArithFlags:
        case Opcode::BeginInstruction:
            return true;
        default:
            return false;
    }
}

}  // namespace jitterbug::ir
