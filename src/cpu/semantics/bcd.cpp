// DAA, DAS, AAA, AAS, AAM, AAD: decimal arithmetic, in the runtime.
#include "cpu/bcd_op.hpp"
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

template <BcdOp op>
void adjust(Emitter& e) {
    const std::uint32_t imm = e.insn.operand_count > 0 ? e.insn.op(0).imm & 0xFF : 10;
    e.ir.call(HelperId::bcd_adjust, ir::imm32(static_cast<unsigned>(op)), ir::imm32(imm));
}

}  // namespace

void register_bcd(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_DAA, adjust<BcdOp::Daa>);
    t.add(ZYDIS_MNEMONIC_DAS, adjust<BcdOp::Das>);
    t.add(ZYDIS_MNEMONIC_AAA, adjust<BcdOp::Aaa>);
    t.add(ZYDIS_MNEMONIC_AAS, adjust<BcdOp::Aas>);
    t.add(ZYDIS_MNEMONIC_AAM, adjust<BcdOp::Aam>);
    t.add(ZYDIS_MNEMONIC_AAD, adjust<BcdOp::Aad>);
}

}  // namespace jitterbug::cpu::semantics
