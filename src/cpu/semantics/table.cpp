#include "cpu/semantics/table.hpp"

namespace jitterbug::cpu::semantics {

const SemanticsTable& semantics_table() {
    static const SemanticsTable table = [] {
        SemanticsTable t;
        register_alu(t);
        register_data(t);
        register_stack(t);
        register_control(t);
        register_shift(t);
        register_bits(t);
        register_exchange(t);
        register_bcd(t);
        register_muldiv(t);
        register_string(t);
        register_flags(t);
        register_io(t);
        register_system(t);
        register_x87(t);
        return t;
    }();
    return table;
}

}  // namespace jitterbug::cpu::semantics
