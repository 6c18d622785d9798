// MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS, with REP/REPE/REPNE. The runtime
// runs the element loop (in bulk where it can); it returns after at most a
// bounded number of elements so that interrupts are noticed, and the block
// then re-enters the same instruction until the count is exhausted.
#include "cpu/semantics/common.hpp"
#include "cpu/string_op.hpp"

namespace jitterbug::cpu::semantics {
namespace {

template <StringOpKind kind>
void string_instruction(Emitter& e) {
    if (e.insn.opcode_map != 0) {  // MOVSD/CMPSD of SSE share the mnemonic
        e.raise(vector::UD);
        return;
    }
    StringOp op;
    op.kind = kind;
    const unsigned bits = e.insn.operand_size;
    op.size = static_cast<std::uint8_t>(bits / 8);
    op.address32 = e.address_size() == 32;
    op.rep = e.insn.rep == RepPrefix::Rep ? 1 : e.insn.rep == RepPrefix::Repne ? 2 : 0;
    op.segment = e.insn.data_segment();
    const Value done = e.ir.call(HelperId::string_op, ir::imm32(op.pack()));
    if (op.rep == 0) {
        e.jump(e.next_eip());
        return;
    }
    const Value finished = e.ir.emit(Opcode::LogicalNot1, {e.ir.is_zero(e.ir.truncate(done, 32))});
    e.branch(finished, e.next_eip(), e.eip());
}

}  // namespace

void register_string(SemanticsTable& t) {
    for (auto m : {ZYDIS_MNEMONIC_MOVSB, ZYDIS_MNEMONIC_MOVSW, ZYDIS_MNEMONIC_MOVSD}) {
        t.add(m, string_instruction<StringOpKind::Movs>);
    }
    for (auto m : {ZYDIS_MNEMONIC_STOSB, ZYDIS_MNEMONIC_STOSW, ZYDIS_MNEMONIC_STOSD}) {
        t.add(m, string_instruction<StringOpKind::Stos>);
    }
    for (auto m : {ZYDIS_MNEMONIC_LODSB, ZYDIS_MNEMONIC_LODSW, ZYDIS_MNEMONIC_LODSD}) {
        t.add(m, string_instruction<StringOpKind::Lods>);
    }
    for (auto m : {ZYDIS_MNEMONIC_CMPSB, ZYDIS_MNEMONIC_CMPSW, ZYDIS_MNEMONIC_CMPSD}) {
        t.add(m, string_instruction<StringOpKind::Cmps>);
    }
    for (auto m : {ZYDIS_MNEMONIC_SCASB, ZYDIS_MNEMONIC_SCASW, ZYDIS_MNEMONIC_SCASD}) {
        t.add(m, string_instruction<StringOpKind::Scas>);
    }
    for (auto m : {ZYDIS_MNEMONIC_INSB, ZYDIS_MNEMONIC_INSW, ZYDIS_MNEMONIC_INSD}) {
        t.add(m, string_instruction<StringOpKind::Ins>);
    }
    for (auto m : {ZYDIS_MNEMONIC_OUTSB, ZYDIS_MNEMONIC_OUTSW, ZYDIS_MNEMONIC_OUTSD}) {
        t.add(m, string_instruction<StringOpKind::Outs>);
    }
}

}  // namespace jitterbug::cpu::semantics
