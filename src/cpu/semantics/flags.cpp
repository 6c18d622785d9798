// CLC, STC, CMC, CLD, STD, CLI, STI.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

void clc(Emitter& e) {
    e.ir.set_arith_flags(e.ir.emit(Opcode::FlagsFromU32, {ir::imm32(0)}), eflags::CF);
}
void stc(Emitter& e) {
    e.ir.set_arith_flags(e.ir.emit(Opcode::FlagsFromU32, {ir::imm32(eflags::CF)}), eflags::CF);
}
void cmc(Emitter& e) {
    const Value f =
        e.ir.xor_(e.ir.emit(Opcode::FlagsToU32, {e.ir.get_arith_flags()}), ir::imm32(eflags::CF));
    e.ir.set_arith_flags(e.ir.emit(Opcode::FlagsFromU32, {f}), eflags::CF);
}

template <std::uint32_t kBit, bool set>
void change_eflags(Emitter& e) {
    const Value f = e.ir.get_eflags();
    e.ir.set_eflags(set ? e.ir.or_(f, ir::imm32(kBit)) : e.ir.and_(f, ir::imm32(~kBit)));
}

// CLI/STI: in protected mode the helper applies the IOPL rules (SDM Vol. 2A,
// CLI). STI holds interrupts off for one more instruction (the shadow), so
// the block ends and the dispatcher steps the next instruction alone.
void cli(Emitter& e) {
    if (e.location().protected_mode()) {
        e.ir.call(HelperId::cli);
        return;
    }
    change_eflags<eflags::IF, false>(e);
}

void sti(Emitter& e) {
    if (e.location().protected_mode()) {
        e.ir.call(HelperId::sti);
    } else {
        change_eflags<eflags::IF, true>(e);
        e.ir.call(HelperId::inhibit_interrupts, ir::imm32(0));
    }
    e.end_block();
}

// SALC (D6, undocumented): AL = CF ? 0xFF : 0; flags unchanged.
void salc(Emitter& e) {
    e.ir.set_gpr(8, 0, e.ir.select(e.ir.carry_flag(), ir::imm8(0xFF), ir::imm8(0)));
}

}  // namespace

void register_flags(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_CLC, clc);
    t.add(ZYDIS_MNEMONIC_STC, stc);
    t.add(ZYDIS_MNEMONIC_CMC, cmc);
    t.add(ZYDIS_MNEMONIC_CLD, change_eflags<eflags::DF, false>);
    t.add(ZYDIS_MNEMONIC_STD, change_eflags<eflags::DF, true>);
    t.add(ZYDIS_MNEMONIC_CLI, cli);
    t.add(ZYDIS_MNEMONIC_STI, sti);
    t.add(ZYDIS_MNEMONIC_SALC, salc);
}

}  // namespace jitterbug::cpu::semantics
