#include "jit/backend/x64/block_compiler.hpp"

#include "cpu/runtime.hpp"

namespace jitterbug::jit::x64 {

using namespace Xbyak::util;
using ir::Opcode;

namespace {
// IR operations whose host code never changes the host's flags (plain moves
// and their loads and stores); any other one ends what host_flags_ tracks.
bool keeps_host_flags(Opcode op) {
    switch (op) {
        case Opcode::GetGpr8:
        case Opcode::GetGpr16:
        case Opcode::GetGpr32:
        case Opcode::SetGpr8:
        case Opcode::SetGpr16:
        case Opcode::SetGpr32:
        case Opcode::GetSegSelector:
        case Opcode::GetSegBase:
        case Opcode::SetEip:
        case Opcode::GetArithFlags:
        case Opcode::SetArithFlags:  // resets it itself when it must merge
        case Opcode::GetFlagsFromOp:
        case Opcode::TestCond:  // resets it itself when it must compute
        case Opcode::ZeroExtend8To16:
        case Opcode::ZeroExtend8To32:
        case Opcode::ZeroExtend16To32:
        case Opcode::ZeroExtend32To64:
        case Opcode::SignExtend8To16:
        case Opcode::SignExtend8To32:
        case Opcode::SignExtend16To32:
        case Opcode::Truncate16To8:
        case Opcode::Truncate32To8:
        case Opcode::Truncate32To16:
        case Opcode::Truncate64To32:
        case Opcode::BeginInstruction:
            return true;
        default:
            return false;
    }
}

}  // namespace

BlockCompiler::BlockCompiler(Xbyak::CodeGenerator& code, const ir::Block& block,
                             const void* epilogue)
    : c(code),
      block_(block),
      epilogue_(epilogue),
      ra_(code, block),
      flags_of_(block.insts().size(), ir::kNoInst) {
    const auto& insts = block.insts();
    for (std::size_t i = 0; i < insts.size(); ++i) {
        if (insts[i].op == Opcode::GetFlagsFromOp) {
            flags_of_[insts[i].args[0].inst()] = static_cast<ir::InstRef>(i);
        }
    }
}

void BlockCompiler::compile() {
    // Entry: leave before doing anything if someone asked the CPU to stop or
    // the instruction budget is spent (checked once per block, chained or not).
    Xbyak::Label leave;
    c.cmp(dword[r15 + ctx_offset::kExitRequest], 0);
    c.jne(leave, Xbyak::CodeGenerator::T_NEAR);
    c.mov(rax, qword[r15 + ctx_offset::kInstructions]);
    c.cmp(rax, qword[r15 + ctx_offset::kInstructionLimit]);
    c.jae(leave, Xbyak::CodeGenerator::T_NEAR);

    const auto& insts = block_.insts();
    for (std::size_t n = 0; n < insts.size(); ++n) {
        const auto i = static_cast<ir::InstRef>(n);
        const ir::Inst& inst = insts[n];
        if (!keeps_host_flags(inst.op)) host_flags_ = ir::kNoInst;
        switch (inst.op) {
#define OPCODE(name, ...)     \
    case Opcode::name:        \
        emit_##name(i, inst); \
        break;
#include "jit/ir/opcodes.inc"
#undef OPCODE
        }
        ra_.end_inst();
    }
    emit_terminal();
    // Out-of-line code: slow paths, exits of aborted instructions, the
    // unstarted exit, the stubs of unlinked exits.
    for (std::size_t k = 0; k < slow_paths_.size(); ++k)
        slow_paths_[k]();
    for (auto& [index, exit] : abort_exits_) {
        c.L(exit.label);
        c.mov(dword[r15 + ctx_offset::kEip], exit.eip);
        count_instructions(index);
        emit_exit(ExitReason::Abort);
    }
    c.L(leave);
    c.mov(dword[r15 + ctx_offset::kEip], block_.location().eip);
    emit_exit(ExitReason::Next);
    for (auto& stub : link_stubs_)
        stub();
}

void BlockCompiler::emit_exit(ExitReason reason) {
    c.mov(eax, static_cast<std::uint32_t>(reason));
    c.jmp(epilogue_, Xbyak::CodeGenerator::T_NEAR);
}

void BlockCompiler::count_instructions(std::uint32_t n) {
    if (n != 0) c.add(qword[r15 + ctx_offset::kInstructions], n);
}

void BlockCompiler::emit_link(std::uint32_t eip) {
    auto* stub = &slow_labels_.emplace_back();
    const std::uintptr_t slot = reinterpret_cast<std::uintptr_t>(c.getCurr());
    c.jmp(*stub, Xbyak::CodeGenerator::T_NEAR);
    link_stubs_.push_back([this, stub, slot, eip] {
        c.L(*stub);
        c.mov(dword[r15 + ctx_offset::kEip], eip);
        c.mov(rax, slot);
        c.mov(qword[r15 + ctx_offset::kExitSlot], rax);
        emit_exit(ExitReason::Next);
    });
}

Xbyak::Label& BlockCompiler::abort_label() {
    const std::uint32_t index = started_ == 0 ? 0 : started_ - 1;
    auto [it, inserted] = abort_exits_.try_emplace(index);
    if (inserted) it->second.eip = insn_eip_;
    return it->second.label;
}

void BlockCompiler::check_abort() {
    c.cmp(byte[r15 + ctx_offset::kAbort], 0);
    c.jne(abort_label(), Xbyak::CodeGenerator::T_NEAR);
}

void BlockCompiler::call_runtime(const void* fn) {
    c.mov(rdi, r15);
    c.mov(rax, reinterpret_cast<std::uintptr_t>(fn));
    c.call(rax);
}

void BlockCompiler::capture_flags(ir::InstRef producer) {
    host_flags_ = producer;
    const ir::InstRef f = flags_of_[producer];
    if (f == ir::kNoInst) return;
    // The raw RFLAGS image: a Flags value's bits beyond the six status flags
    // are meaningless, and PUSHF/POP leave the host's flags alone.
    const Reg64 r = ra_.define(f);
    c.pushfq();
    c.pop(r);
}

Xbyak::Address BlockCompiler::gpr_addr(unsigned r, unsigned byte_offset) {
    return c.ptr[r15 + ctx_offset::kGpr + 4 * r + byte_offset];
}

Xbyak::Address BlockCompiler::seg_addr(unsigned s, std::size_t field) {
    return c.ptr[r15 + ctx_offset::kSeg + ctx_offset::kSegSize * s + field];
}

namespace {
void raise_event(cpu::CpuContext& ctx, const cpu::Event* event) {
    cpu::runtime::raise(ctx, *event);
}
}  // namespace

void BlockCompiler::emit_terminal() {
    const ir::Terminal& t = block_.terminal();
    switch (t.kind) {
        case ir::Terminal::Kind::None:
        case ir::Terminal::Kind::Dispatch:
            count_instructions(started_);
            emit_exit(ExitReason::Next);
            break;
        case ir::Terminal::Kind::Link:
            count_instructions(started_);
            emit_link(t.target);
            break;
        case ir::Terminal::Kind::Branch: {
            if (t.cond.is_immediate()) {
                count_instructions(started_);
                emit_link((t.cond.imm() & 1) ? t.target : t.fallthrough);
                break;
            }
            const Reg64 cond = ra_.use(t.cond);
            count_instructions(started_);  // ADD changes flags, not COND
            Xbyak::Label not_taken;
            c.test(cond.cvt32(), cond.cvt32());
            c.jz(not_taken, Xbyak::CodeGenerator::T_NEAR);
            emit_link(t.target);
            c.L(not_taken);
            emit_link(t.fallthrough);
            break;
        }
        case ir::Terminal::Kind::Halt:
            c.mov(dword[r15 + ctx_offset::kEip], t.target);
            count_instructions(started_);
            emit_exit(ExitReason::Halt);
            break;
        case ir::Terminal::Kind::Raise: {
            // The event is stored as data after the exit code.
            Xbyak::Label data;
            c.mov(dword[r15 + ctx_offset::kEip], t.target);
            c.lea(rsi, ptr[rip + data]);
            call_runtime(reinterpret_cast<const void*>(&raise_event));
            // Faults do not retire their instruction; traps and INT n do.
            const bool fault = t.event.kind == cpu::EventKind::Fault;
            count_instructions(fault && started_ > 0 ? started_ - 1 : started_);
            emit_exit(ExitReason::Abort);
            c.align(8);
            c.L(data);
            c.db(reinterpret_cast<const std::uint8_t*>(&t.event), sizeof(cpu::Event));
            break;
        }
    }
}

// ---- Markers -------------------------------------------------------------------

void BlockCompiler::emit_BeginInstruction(ir::InstRef, const ir::Inst& inst) {
    insn_eip_ = static_cast<std::uint32_t>(inst.args[0].imm());
    ++started_;
}

}  // namespace jitterbug::jit::x64
