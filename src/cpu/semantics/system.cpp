// CPUID, RDTSC, UD0/UD1/UD2.
#include "cpu/semantics/common.hpp"

namespace jitterbug::cpu::semantics {
namespace {

void cpuid(Emitter& e) { e.ir.call(HelperId::cpuid); }
void rdtsc(Emitter& e) { e.ir.call(HelperId::rdtsc); }
void ud(Emitter& e) { e.raise(vector::UD); }

// WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set, else nothing to wait
// for (no x87 exceptions are ever pending yet).
void fwait(Emitter& e) { e.ir.call(HelperId::fwait); }

}  // namespace

void register_system(SemanticsTable& t) {
    t.add(ZYDIS_MNEMONIC_CPUID, cpuid);
    t.add(ZYDIS_MNEMONIC_RDTSC, rdtsc);
    t.add(ZYDIS_MNEMONIC_UD0, ud);
    t.add(ZYDIS_MNEMONIC_UD1, ud);
    t.add(ZYDIS_MNEMONIC_UD2, ud);
    t.add(ZYDIS_MNEMONIC_FWAIT, fwait);
}

}  // namespace jitterbug::cpu::semantics
