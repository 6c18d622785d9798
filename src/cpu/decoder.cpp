#include "cpu/decoder.hpp"

#include <Zydis/Zydis.h>

#include "cpu/cpu_state.hpp"

namespace jitterbug::cpu {

struct Decoder::Impl {
    ZydisDecoder decoder16;
    ZydisDecoder decoder32;
};

namespace {

// GPR number of a Zydis register (any width), or -1.
int gpr_number(ZydisRegister r) {
    if (r == ZYDIS_REGISTER_NONE) return -1;
    switch (ZydisRegisterGetClass(r)) {
        case ZYDIS_REGCLASS_GPR8:
        case ZYDIS_REGCLASS_GPR16:
        case ZYDIS_REGCLASS_GPR32:
            return ZydisRegisterGetId(r);
        default:
            return -1;
    }
}

std::uint8_t segment_number(ZydisRegister r) {
    switch (r) {
        case ZYDIS_REGISTER_ES:
            return 0;
        case ZYDIS_REGISTER_CS:
            return 1;
        case ZYDIS_REGISTER_SS:
            return 2;
        case ZYDIS_REGISTER_FS:
            return 4;
        case ZYDIS_REGISTER_GS:
            return 5;
        default:
            return 3;
    }
}

Operand convert_register(const ZydisDecodedOperand& z) {
    Operand op;
    op.bits = z.size;
    const ZydisRegister r = z.reg.value;
    switch (ZydisRegisterGetClass(r)) {
        case ZYDIS_REGCLASS_GPR8:
        case ZYDIS_REGCLASS_GPR16:
        case ZYDIS_REGCLASS_GPR32:
            op.kind = OperandKind::Gpr;
            op.reg = static_cast<std::uint8_t>(ZydisRegisterGetId(r));
            break;
        case ZYDIS_REGCLASS_SEGMENT:
            op.kind = OperandKind::Segment;
            op.reg = segment_number(r);
            op.bits = 16;
            break;
        case ZYDIS_REGCLASS_CONTROL:
            op.kind = OperandKind::Control;
            op.reg = static_cast<std::uint8_t>(ZydisRegisterGetId(r));
            break;
        case ZYDIS_REGCLASS_DEBUG:
            op.kind = OperandKind::Debug;
            op.reg = static_cast<std::uint8_t>(ZydisRegisterGetId(r));
            break;
        default:
            op.kind = OperandKind::Other;
            break;
    }
    return op;
}

Operand convert_memory(const ZydisDecodedOperand& z) {
    Operand op;
    op.kind = OperandKind::Memory;
    op.bits = z.size;
    op.mem.segment = segment_number(z.mem.segment);
    op.mem.base = static_cast<std::int8_t>(gpr_number(z.mem.base));
    op.mem.index = static_cast<std::int8_t>(gpr_number(z.mem.index));
    op.mem.scale = z.mem.scale == 0 ? 1 : z.mem.scale;
    op.mem.displacement = static_cast<std::uint32_t>(z.mem.disp.value);
    return op;
}

}  // namespace

Decoder::Decoder() : impl_(std::make_unique<Impl>()) {
    ZydisDecoderInit(&impl_->decoder16, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
    ZydisDecoderInit(&impl_->decoder32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    // A P6 knows none of the later meanings of old prefixes and opcodes:
    // 3E before an indirect branch is DS (not NOTRACK), F2 is REPNE (not BND),
    // F3 0F BC/BD are BSF/BSR (not TZCNT/LZCNT).
    for (ZydisDecoder* d : {&impl_->decoder16, &impl_->decoder32}) {
        for (ZydisDecoderMode m :
             {ZYDIS_DECODER_MODE_CET, ZYDIS_DECODER_MODE_MPX, ZYDIS_DECODER_MODE_TZCNT,
              ZYDIS_DECODER_MODE_LZCNT, ZYDIS_DECODER_MODE_WBNOINVD, ZYDIS_DECODER_MODE_CLDEMOTE,
              ZYDIS_DECODER_MODE_KNC, ZYDIS_DECODER_MODE_AMD_BRANCHES}) {
            ZydisDecoderEnableMode(d, m, ZYAN_FALSE);
        }
    }
}

Decoder::~Decoder() = default;

DecodeStatus Decoder::decode(std::span<const std::uint8_t> bytes, bool code32, std::uint32_t eip,
                             Instruction& out) const {
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand zops[ZYDIS_MAX_OPERAND_COUNT];
    const ZydisDecoder* d = code32 ? &impl_->decoder32 : &impl_->decoder16;
    const ZyanStatus status = ZydisDecoderDecodeFull(d, bytes.data(), bytes.size(), &zi, zops);
    if (!ZYAN_SUCCESS(status)) {
        // The bytes ran out before the instruction did: more may follow in
        // the next page. Anything else is an invalid encoding.
        if (status == ZYDIS_STATUS_NO_MORE_DATA && bytes.size() < ZYDIS_MAX_INSTRUCTION_LENGTH) {
            return DecodeStatus::NeedMoreBytes;
        }
        return DecodeStatus::Invalid;
    }
    if (zi.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY &&
        zi.encoding != ZYDIS_INSTRUCTION_ENCODING_3DNOW) {
        return DecodeStatus::Invalid;  // VEX/EVEX/XOP are not part of a P6
    }

    out = Instruction{};
    out.mnemonic = static_cast<Mnemonic>(zi.mnemonic);
    out.length = zi.length;
    out.operand_size = zi.operand_width;
    out.address_size = zi.address_width;
    out.opcode = zi.opcode;
    out.opcode_map = static_cast<std::uint8_t>(zi.opcode_map);
    out.has_modrm = (zi.attributes & ZYDIS_ATTRIB_HAS_MODRM) != 0;
    out.modrm_reg = zi.raw.modrm.reg;
    out.modrm_rm = zi.raw.modrm.rm;
    out.modrm_mod = zi.raw.modrm.mod;
    out.lock = (zi.attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0;
    if (zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE)) out.rep = RepPrefix::Rep;
    if (zi.attributes & ZYDIS_ATTRIB_HAS_REPNE) out.rep = RepPrefix::Repne;
    // The last segment prefix wins (SDM Vol. 2A, 2.1.1).
    for (int i = zi.raw.prefix_count - 1; i >= 0; --i) {
        const std::uint8_t p = zi.raw.prefixes[i].value;
        const int seg = p == 0x26   ? 0
                        : p == 0x2E ? 1
                        : p == 0x36 ? 2
                        : p == 0x3E ? 3
                        : p == 0x64 ? 4
                        : p == 0x65 ? 5
                                    : -1;
        if (seg >= 0) {
            out.has_segment_override = true;
            out.segment_override = static_cast<std::uint8_t>(seg);
            break;
        }
    }

    const unsigned opsize_mask = out.operand_size == 16 ? 0xFFFF : 0xFFFFFFFF;
    unsigned n = 0;
    for (unsigned i = 0; i < zi.operand_count_visible && n < out.operands.size(); ++i) {
        const ZydisDecodedOperand& z = zops[i];
        Operand op;
        switch (z.type) {
            case ZYDIS_OPERAND_TYPE_REGISTER:
                op = convert_register(z);
                break;
            case ZYDIS_OPERAND_TYPE_MEMORY:
                op = convert_memory(z);
                break;
            case ZYDIS_OPERAND_TYPE_POINTER:
                op.kind = OperandKind::FarPointer;
                op.bits = z.size;
                op.selector = z.ptr.segment;
                op.imm = z.ptr.offset;
                break;
            case ZYDIS_OPERAND_TYPE_IMMEDIATE:
                op.kind = OperandKind::Immediate;
                op.bits = z.size;
                if (z.imm.is_relative) {
                    out.relative = true;
                    out.branch_target =
                        (eip + zi.length + static_cast<std::uint32_t>(z.imm.value.u)) & opsize_mask;
                }
                op.imm = static_cast<std::uint32_t>(z.imm.value.u);
                break;
            default:
                op.kind = OperandKind::Other;
                break;
        }
        out.operands[n++] = op;
    }
    out.operand_count = static_cast<std::uint8_t>(n);
    return DecodeStatus::Ok;
}

const char* mnemonic_name(Mnemonic m) {
    const char* s = ZydisMnemonicGetString(static_cast<ZydisMnemonic>(m));
    return s ? s : "?";
}

}  // namespace jitterbug::cpu
