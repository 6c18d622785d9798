#include "jit/backend/x64/trampoline.hpp"

#include <array>
#include <optional>

#include "cpu/cpu_context.hpp"
#include "jit/backend/x64/block_compiler.hpp"

namespace jitterbug::jit::x64 {
namespace {

using namespace Xbyak::util;

// The image's room while it is written (it is a few KiB).
constexpr std::size_t kMaxImage = std::size_t{64} << 10;

class TrampolineWriter {
  public:
    TrampolineWriter(TrampolineImage& image, bool direct_memory)
        : image_(image), direct_memory_(direct_memory) {
        image_.bytes.resize(kMaxImage);
        code_.emplace(kMaxImage, image_.bytes.data());
    }

    void write() {
        Xbyak::CodeGenerator& c = *code_;
        image_.enter = c.getSize();
        // enter(ctx, code): saves the callee-saved registers, sets R15 to
        // the context, loads the pinned guest registers and the instruction
        // count, reserves the spill frame and jumps to the block. Blocks
        // leave through the epilogue with the packed BlockExit in RAX.
        c.push(rbx);
        c.push(rbp);
        c.push(r12);
        c.push(r13);
        c.push(r14);
        c.push(r15);
        c.mov(r15, rdi);
        if (direct_memory_) {
            // GS based at the guest window while translated code runs.
            gs_base(false, rax);
            c.mov(c.qword[r15 + ctx_offset::kSavedGsBase], rax);
            c.mov(rax, c.qword[r15 + ctx_offset::kWindowBase]);
            gs_base(true, rax);
        }
        for (unsigned g = 0; g < kPinned.size(); ++g) {
            c.mov(pinned(g).cvt32(), c.dword[r15 + ctx_offset::kGpr + 4 * g]);
        }
        c.mov(Xbyak::Reg64(kCounter), c.qword[r15 + ctx_offset::kInstructions]);
        c.sub(rsp, kFrameSize);
        c.jmp(rsi);
        c.align(16);
        materialize_flags();
        image_.epilogue = c.getSize();
        flags_current();
        store_guests();
        c.mov(c.qword[r15 + ctx_offset::kInstructions], Xbyak::Reg64(kCounter));
        if (direct_memory_) {
            // (R11, EDI's, is free now: the guest registers are stored.)
            c.mov(r11, c.qword[r15 + ctx_offset::kSavedGsBase]);
            gs_base(true, r11);
        }
        c.add(rsp, kFrameSize);
        c.pop(r15);
        c.pop(r14);
        c.pop(r13);
        c.pop(r12);
        c.pop(rbp);
        c.pop(rbx);
        c.ret();
        c.align(16);
        image_.runtime_call = c.getSize();
        flags_current();
        store_guests();
        c.mov(rdi, r15);
        c.jmp(rax);
        c.align(16);
        image_.bytes.resize(c.getSize());
        image_.bytes.shrink_to_fit();
    }

  private:
    // Deferred flags: re-runs the operation recorded in the context (see
    // lazy) and stores the flags it gives into state.flags_status. The
    // table holds offsets from itself, so the code may lie anywhere.
    void materialize_flags() {
        using namespace ctx_offset;
        Xbyak::CodeGenerator& c = *code_;
        image_.materialize_flags = c.getSize();
        Xbyak::Label table, done;
        c.push(rax);
        c.push(rcx);
        c.movzx(eax, c.byte[r15 + kLazyOp]);
        c.lea(rcx, c.ptr[rip + table]);
        c.movsxd(rax, c.dword[rcx + rax * 4]);
        c.add(rax, rcx);
        c.jmp(rax);
        c.L(done);
        const std::uint8_t* done_at = c.getCurr();
        c.mov(c.byte[r15 + kLazyOp], 0);
        c.pop(rcx);
        c.pop(rax);
        c.ret();
        // The flags the re-run left in the host's, as an image.
        const auto store_image = [&](bool set_af) {
            const std::uint8_t* at = c.getCurr();
            c.lahf();
            c.seto(al);
            if (set_af) c.or_(ah, cpu::eflags::AF);
            c.movzx(ecx, ah);
            c.movzx(eax, al);
            c.shl(eax, 11);
            c.or_(ecx, eax);
            c.mov(c.dword[r15 + kFlagsStatus], ecx);
            c.jmp(done, Xbyak::CodeGenerator::T_NEAR);
            return at;
        };
        const std::uint8_t* capture = store_image(false);
        const std::uint8_t* capture_af = store_image(true);
        std::array<const std::uint8_t*, lazy::kKinds> entry{};
        entry.fill(done_at);
        for (unsigned op = lazy::kAdd; op <= lazy::kLast; ++op) {
            for (unsigned bits : {8u, 16u, 32u}) {
                const unsigned kind = lazy::kind(static_cast<lazy::Op>(op), bits);
                entry[kind] = c.getCurr();
                lazy::rerun(c, rax, kind);
                // (SHL/SHR/SAR: AF set, as ir::eval's model has it.)
                c.jmp(lazy::is_shift(op) ? capture_af : capture, Xbyak::CodeGenerator::T_NEAR);
            }
        }
        c.align(4);
        c.L(table);
        const std::uint8_t* table_at = c.getCurr();
        for (const std::uint8_t* e : entry)
            c.dd(static_cast<std::uint32_t>(static_cast<std::int32_t>(e - table_at)));
        c.align(16);
    }

    // Makes state.flags_status current (on the way out of translated code).
    void flags_current() {
        Xbyak::CodeGenerator& c = *code_;
        Xbyak::Label current;
        c.cmp(c.byte[r15 + ctx_offset::kLazyOp], 0);
        c.je(current);
        c.call(c.getCode() + image_.materialize_flags);
        c.L(current);
    }

    void store_guests() {
        Xbyak::CodeGenerator& c = *code_;
        for (unsigned g = 0; g < kPinned.size(); ++g) {
            c.mov(c.dword[r15 + ctx_offset::kGpr + 4 * g], pinned(g).cvt32());
        }
    }

    // RDGSBASE / WRGSBASE of a 64-bit register (xbyak has no mnemonic).
    void gs_base(bool write, const Xbyak::Reg64& r) {
        Xbyak::CodeGenerator& c = *code_;
        const int idx = r.getIdx();
        c.db(0xF3);
        c.db(0x48 | (idx >= 8 ? 1 : 0));
        c.db(0x0F);
        c.db(0xAE);
        c.db(0xC0 | ((write ? 3 : 1) << 3) | (idx & 7));
    }

    TrampolineImage& image_;
    const bool direct_memory_;
    std::optional<Xbyak::CodeGenerator> code_;
};

TrampolineImage make_image(bool direct_memory) {
    TrampolineImage image;
    TrampolineWriter(image, direct_memory).write();
    return image;
}

}  // namespace

const TrampolineImage& trampoline_image(bool direct_memory) {
    // (Magic statics: written once, by the first caller, then only read.)
    if (direct_memory) {
        static const TrampolineImage with_gs = make_image(true);
        return with_gs;
    }
    static const TrampolineImage without_gs = make_image(false);
    return without_gs;
}

}  // namespace jitterbug::jit::x64
