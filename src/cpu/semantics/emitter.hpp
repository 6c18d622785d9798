// Emitter: what a semantic function sees of the instruction it describes —
// its decoded form, operand access, the stack, and the ways to end a block.
// Semantic functions must perform every access that can fault before they
// write guest registers or flags, so that a fault leaves the guest state as
// it was before the instruction (precise exceptions).
#pragma once

#include <cstdint>

#include "cpu/cpu_state.hpp"
#include "cpu/decoder.hpp"
#include "cpu/event.hpp"
#include "jit/ir/builder.hpp"
#include "jit/location.hpp"

namespace jitterbug::cpu::semantics {

using ir::Value;

// Where an operand lives, resolved once for read-modify-write.
struct Place {
    OperandKind kind = OperandKind::None;
    unsigned bits = 0;
    unsigned reg = 0;  // Gpr: register number; Segment: SegReg
    SegReg seg = SegReg::Ds;
    Value offset;                // Memory: the effective address (U32)
    Value imm;                   // Immediate
    bool write_checked = false;  // Memory: the segment check for writing was done
};

class Emitter {
  public:
    Emitter(ir::Builder& builder, const Instruction& insn, const LocationDescriptor& location,
            std::uint32_t eip);

    ir::Builder& ir;
    const Instruction& insn;

    std::uint32_t eip() const { return eip_; }
    std::uint32_t next_eip() const;
    const LocationDescriptor& location() const { return location_; }
    unsigned operand_size() const { return insn.operand_size; }
    unsigned address_size() const { return insn.address_size; }
    bool stack32() const { return location_.stack32(); }
    bool real_addressing() const { return location_.real_addressing(); }

    // ---- Operands ----------------------------------------------------------------
    // Resolves operand i (computing a memory operand's effective address).
    Place place(unsigned i);
    // Reads a resolved operand; immediates come sign- or zero-extended as
    // encoded, at width `bits` (0: the operand's own width).
    Value read(const Place& p, unsigned bits = 0);
    void write(const Place& p, Value v);
    Value read(unsigned i, unsigned bits = 0) { return read(place(i), bits); }
    void write(unsigned i, Value v) { write(place(i), v); }
    // Checks that a memory place may be written (segment check), so that a
    // later write() of a read-modify-write cannot fault on the segment.
    void check_writable(Place& p);

    // ---- Memory ------------------------------------------------------------------
    Value effective_address(const MemoryOperand& m);
    Value linear(SegReg s, Value offset);
    // The segment check of an access, on its own (the access then uses
    // ir.read_mem/write_mem on linear()).
    void check_segment(SegReg s, Value offset, unsigned bits, bool write);
    Value load(SegReg s, Value offset, unsigned bits);
    void store(SegReg s, Value offset, unsigned bits, Value v);

    // ---- Stack -------------------------------------------------------------------
    Value stack_pointer();  // ESP or SP (zero-extended), per SS.B
    void set_stack_pointer(Value sp);
    // SP/ESP after moving it by `delta` bytes, wrapped to the stack width.
    Value adjust_stack_pointer(Value sp, std::int32_t delta);
    // PUSH: writes then updates the stack pointer.
    void push(Value v);
    // POP: reads; the caller commits the new stack pointer with set_stack_pointer.
    struct Popped {
        Value value;
        Value new_sp;
    };
    Popped pop(unsigned bits);

    // ---- Segment registers -------------------------------------------------------
    // Loads segment register `s` with `selector` (U16): by selector in real and
    // virtual-8086 mode, through the descriptor (checked by the runtime) in
    // protected mode. MOV SS and POP SS also hold interrupts off for one
    // instruction (`shadow`, SDM Vol. 3A, 6.8.3); the caller then ends the block.
    void load_segment(SegReg s, Value selector, bool shadow);

    // ---- Flags -------------------------------------------------------------------
    // Sets the status flags in `mask` from the flags of `op_result`.
    void set_flags_from(Value op_result, std::uint32_t mask = eflags::kArithmetic);

    // ---- Ending the block --------------------------------------------------------
    void jump(std::uint32_t target);  // continue at a constant EIP
    void branch(Value cond, std::uint32_t taken, std::uint32_t not_taken);
    void jump_indirect(Value target);  // EIP from a value
    void dispatch();                   // EIP (and maybe CS) already set by a helper
    void end_block();                  // continue at the next instruction, via the dispatcher
    void halt();
    void raise(std::uint8_t vector);  // a fault at this instruction
    void raise(std::uint8_t vector, std::uint32_t error_code);
    void software_interrupt(std::uint8_t vector);
    bool ended() const;
    // The instruction must be the block's last: the translator ends the block
    // after it (through the dispatcher) unless it ended the block itself.
    bool end_after() const { return end_after_; }

    // Masks an EIP value to the operand size (16-bit code wraps at 64 KiB).
    Value mask_eip(Value v);

  private:
    LocationDescriptor location_;
    std::uint32_t eip_;
    bool end_after_ = false;
};

using SemanticFn = void (*)(Emitter&);

// MOV to or from a control or debug register (system.cpp).
void mov_control_or_debug(Emitter& e);

// Registration of each family's mnemonics (one function per file).
class SemanticsTable;
void register_alu(SemanticsTable& t);
void register_data(SemanticsTable& t);
void register_stack(SemanticsTable& t);
void register_control(SemanticsTable& t);
void register_shift(SemanticsTable& t);
void register_bits(SemanticsTable& t);
void register_exchange(SemanticsTable& t);
void register_bcd(SemanticsTable& t);
void register_muldiv(SemanticsTable& t);
void register_string(SemanticsTable& t);
void register_flags(SemanticsTable& t);
void register_io(SemanticsTable& t);
void register_system(SemanticsTable& t);
void register_x87(SemanticsTable& t);

// The x87 escape opcodes D8-DF (x87.cpp).
void x87_escape(Emitter& e);

}  // namespace jitterbug::cpu::semantics
