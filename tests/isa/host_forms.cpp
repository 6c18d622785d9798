#include "isa/host_forms.hpp"

#include <array>
#include <cstring>
#include <initializer_list>

#include "cpu/cpu_state.hpp"

namespace jitterbug::test::host {
namespace {

namespace fl = cpu::eflags;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint32_t kLogicUndefined = fl::AF;
constexpr std::uint32_t kMulUndefined = fl::SF | fl::ZF | fl::AF | fl::PF;
constexpr std::uint32_t kAllStatus = fl::kArithmetic;

enum Variants : unsigned { kReg = 1, kMem = 2, kBoth = 3 };

class Builder {
  public:
    explicit Builder(std::vector<Form>& out) : out_(out) {}

    // A ModRM form in its register and/or memory variants, at each size
    // (16 adds the operand-size prefix).
    void rm(const std::string& name, Bytes opcode, int digit, Imm imm,
            std::initializer_list<unsigned> sizes, std::uint32_t undefined = 0,
            std::uint32_t setups = 0, Undefined rule = Undefined::Fixed,
            unsigned variants = kBoth) {
        for (unsigned size : sizes) {
            for (unsigned v : {kReg, kMem}) {
                if (!(variants & v)) continue;
                Form f = base(name, opcode, size, imm, undefined, setups, rule);
                f.operands = v == kReg ? Operands::ModRmReg : Operands::ModRmMem;
                f.digit = digit;
                f.name += v == kReg ? " (reg)" : " (mem)";
                out_.push_back(std::move(f));
            }
        }
    }

    void plain(const std::string& name, Bytes opcode, Imm imm,
               std::initializer_list<unsigned> sizes, std::uint32_t undefined = 0,
               std::uint32_t setups = 0) {
        for (unsigned size : sizes)
            out_.push_back(base(name, opcode, size, imm, undefined, setups, Undefined::Fixed));
    }

    void opreg(const std::string& name, Bytes opcode, Imm imm,
               std::initializer_list<unsigned> sizes, std::uint32_t undefined = 0,
               std::uint32_t setups = 0) {
        for (unsigned size : sizes) {
            Form f = base(name, opcode, size, imm, undefined, setups, Undefined::Fixed);
            f.operands = Operands::OpcodeReg;
            out_.push_back(std::move(f));
        }
    }

  private:
    static Form base(const std::string& name, Bytes opcode, unsigned size, Imm imm,
                     std::uint32_t undefined, std::uint32_t setups, Undefined rule) {
        Form f;
        f.name = name;
        if (size == 16) {
            opcode.insert(opcode.begin() + static_cast<long>(prefix_count(opcode)), 0x66);
            f.name += " o16";
        } else if (size == 32) {
            f.name += " o32";
        }
        f.opcode = std::move(opcode);
        f.imm = imm;
        f.operand_size = size;
        f.undefined = undefined;
        f.setup = setups;
        f.rule = rule;
        return f;
    }
    // REP prefixes stay in front of the operand-size prefix (either order is
    // valid; this keeps names and encodings tidy).
    static std::size_t prefix_count(const Bytes& b) {
        std::size_t n = 0;
        while (n < b.size() && (b[n] == 0xF2 || b[n] == 0xF3))
            ++n;
        return n;
    }

    std::vector<Form>& out_;
};

void arithmetic(Builder& b) {
    const char* names[] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
    for (std::uint8_t op = 0; op < 8; ++op) {
        const std::string n = names[op];
        const std::uint32_t u = (op == 1 || op == 4 || op == 6) ? kLogicUndefined : 0;
        const std::uint8_t base = static_cast<std::uint8_t>(op * 8);
        b.rm(n + " r/m8,r8", {base}, -1, Imm::None, {8}, u);
        b.rm(n + " r/m,r", {static_cast<std::uint8_t>(base + 1)}, -1, Imm::None, {16, 32}, u);
        b.rm(n + " r8,r/m8", {static_cast<std::uint8_t>(base + 2)}, -1, Imm::None, {8}, u);
        b.rm(n + " r,r/m", {static_cast<std::uint8_t>(base + 3)}, -1, Imm::None, {16, 32}, u);
        b.plain(n + " al,imm8", {static_cast<std::uint8_t>(base + 4)}, Imm::I8, {8}, u);
        b.plain(n + " eax,imm", {static_cast<std::uint8_t>(base + 5)}, Imm::OperandSize, {16, 32},
                u);
        b.rm(n + " r/m8,imm8", {0x80}, op, Imm::I8, {8}, u);
        b.rm(n + " r/m8,imm8 (82)", {0x82}, op, Imm::I8, {8}, u);
        b.rm(n + " r/m,imm", {0x81}, op, Imm::OperandSize, {16, 32}, u);
        b.rm(n + " r/m,imm8", {0x83}, op, Imm::I8, {16, 32}, u);
    }
    b.opreg("inc r", {0x40}, Imm::None, {16, 32});
    b.opreg("dec r", {0x48}, Imm::None, {16, 32});
    b.rm("inc r/m8", {0xFE}, 0, Imm::None, {8});
    b.rm("dec r/m8", {0xFE}, 1, Imm::None, {8});
    b.rm("inc r/m", {0xFF}, 0, Imm::None, {16, 32});
    b.rm("dec r/m", {0xFF}, 1, Imm::None, {16, 32});
    b.rm("test r/m8,r8", {0x84}, -1, Imm::None, {8}, kLogicUndefined);
    b.rm("test r/m,r", {0x85}, -1, Imm::None, {16, 32}, kLogicUndefined);
    b.plain("test al,imm8", {0xA8}, Imm::I8, {8}, kLogicUndefined);
    b.plain("test eax,imm", {0xA9}, Imm::OperandSize, {16, 32}, kLogicUndefined);
    for (int digit : {0, 1}) {  // F6/F7 /1 is an undocumented alias of /0
        const std::string n = digit == 0 ? "test" : "test (/1)";
        b.rm(n + " r/m8,imm8", {0xF6}, digit, Imm::I8, {8}, kLogicUndefined);
        b.rm(n + " r/m,imm", {0xF7}, digit, Imm::OperandSize, {16, 32}, kLogicUndefined);
    }
    b.rm("not r/m8", {0xF6}, 2, Imm::None, {8});
    b.rm("not r/m", {0xF7}, 2, Imm::None, {16, 32});
    b.rm("neg r/m8", {0xF6}, 3, Imm::None, {8});
    b.rm("neg r/m", {0xF7}, 3, Imm::None, {16, 32});
    b.rm("mul r/m8", {0xF6}, 4, Imm::None, {8}, kMulUndefined);
    b.rm("mul r/m", {0xF7}, 4, Imm::None, {16, 32}, kMulUndefined);
    b.rm("imul r/m8", {0xF6}, 5, Imm::None, {8}, kMulUndefined);
    b.rm("imul r/m", {0xF7}, 5, Imm::None, {16, 32}, kMulUndefined);
    b.rm("div r/m8", {0xF6}, 6, Imm::None, {8}, kAllStatus, setup::kDivide);
    b.rm("div r/m", {0xF7}, 6, Imm::None, {16, 32}, kAllStatus, setup::kDivide);
    b.rm("idiv r/m8", {0xF6}, 7, Imm::None, {8}, kAllStatus, setup::kDivide);
    b.rm("idiv r/m", {0xF7}, 7, Imm::None, {16, 32}, kAllStatus, setup::kDivide);
    b.rm("imul r,r/m", {0x0F, 0xAF}, -1, Imm::None, {16, 32}, kMulUndefined);
    b.rm("imul r,r/m,imm", {0x69}, -1, Imm::OperandSize, {16, 32}, kMulUndefined);
    b.rm("imul r,r/m,imm8", {0x6B}, -1, Imm::I8, {16, 32}, kMulUndefined);
    b.plain("daa", {0x27}, Imm::None, {0}, fl::OF);
    b.plain("das", {0x2F}, Imm::None, {0}, fl::OF);
    b.plain("aaa", {0x37}, Imm::None, {0}, fl::OF | fl::SF | fl::ZF | fl::PF);
    b.plain("aas", {0x3F}, Imm::None, {0}, fl::OF | fl::SF | fl::ZF | fl::PF);
    b.plain("aam imm8", {0xD4}, Imm::I8, {0}, fl::OF | fl::AF | fl::CF);
    b.plain("aad imm8", {0xD5}, Imm::I8, {0}, fl::OF | fl::AF | fl::CF);
}

void shifts(Builder& b) {
    const char* names[] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
    for (int d = 0; d < 8; ++d) {
        const std::string n = names[d];
        const Undefined rule = d < 4 ? Undefined::Rotate : Undefined::Shift;
        b.rm(n + " r/m8,imm8", {0xC0}, d, Imm::I8, {8}, 0, setup::kCount, rule);
        b.rm(n + " r/m,imm8", {0xC1}, d, Imm::I8, {16, 32}, 0, setup::kCount, rule);
        b.rm(n + " r/m8,1", {0xD0}, d, Imm::None, {8}, 0, 0, rule);
        b.rm(n + " r/m,1", {0xD1}, d, Imm::None, {16, 32}, 0, 0, rule);
        b.rm(n + " r/m8,cl", {0xD2}, d, Imm::None, {8}, 0, setup::kCount, rule);
        b.rm(n + " r/m,cl", {0xD3}, d, Imm::None, {16, 32}, 0, setup::kCount, rule);
    }
    b.rm("shld r/m,r,imm8", {0x0F, 0xA4}, -1, Imm::I8, {16, 32}, 0, setup::kCount,
         Undefined::DoubleShift);
    b.rm("shld r/m,r,cl", {0x0F, 0xA5}, -1, Imm::None, {16, 32}, 0, setup::kCount,
         Undefined::DoubleShift);
    b.rm("shrd r/m,r,imm8", {0x0F, 0xAC}, -1, Imm::I8, {16, 32}, 0, setup::kCount,
         Undefined::DoubleShift);
    b.rm("shrd r/m,r,cl", {0x0F, 0xAD}, -1, Imm::None, {16, 32}, 0, setup::kCount,
         Undefined::DoubleShift);
}

void bits(Builder& b) {
    const std::uint32_t bt_undefined = fl::OF | fl::SF | fl::AF | fl::PF;
    const char* names[] = {"bt", "bts", "btr", "btc"};
    const std::uint8_t ops[] = {0xA3, 0xAB, 0xB3, 0xBB};
    for (int k = 0; k < 4; ++k) {
        const std::string n = names[k];
        b.rm(n + " r/m,r", {0x0F, ops[k]}, -1, Imm::None, {16, 32}, bt_undefined,
             setup::kBitOffset);
        b.rm(n + " r/m,imm8", {0x0F, 0xBA}, 4 + k, Imm::I8, {16, 32}, bt_undefined);
    }
    const std::uint32_t scan_undefined = fl::CF | fl::OF | fl::SF | fl::AF | fl::PF;
    b.rm("bsf r,r/m", {0x0F, 0xBC}, -1, Imm::None, {16, 32}, scan_undefined);
    b.rm("bsr r,r/m", {0x0F, 0xBD}, -1, Imm::None, {16, 32}, scan_undefined);
    b.opreg("bswap r", {0x0F, 0xC8}, Imm::None, {16, 32});
}

void moves(Builder& b) {
    b.rm("mov r/m8,r8", {0x88}, -1, Imm::None, {8});
    b.rm("mov r/m,r", {0x89}, -1, Imm::None, {16, 32});
    b.rm("mov r8,r/m8", {0x8A}, -1, Imm::None, {8});
    b.rm("mov r,r/m", {0x8B}, -1, Imm::None, {16, 32});
    b.rm("mov r/m8,imm8", {0xC6}, 0, Imm::I8, {8});
    b.rm("mov r/m,imm", {0xC7}, 0, Imm::OperandSize, {16, 32});
    b.opreg("mov r8,imm8", {0xB0}, Imm::I8, {8});
    b.opreg("mov r,imm", {0xB8}, Imm::OperandSize, {16, 32});
    b.plain("mov al,moffs", {0xA0}, Imm::Moffs, {8});
    b.plain("mov eax,moffs", {0xA1}, Imm::Moffs, {16, 32});
    b.plain("mov moffs,al", {0xA2}, Imm::Moffs, {8});
    b.plain("mov moffs,eax", {0xA3}, Imm::Moffs, {16, 32});
    for (int s = 0; s < 4; ++s)
        b.rm("mov r/m,sreg" + std::to_string(s), {0x8C}, s, Imm::None, {16, 32});
    b.rm("movzx r,r/m8", {0x0F, 0xB6}, -1, Imm::None, {16, 32});
    b.rm("movzx r,r/m16", {0x0F, 0xB7}, -1, Imm::None, {16, 32});
    b.rm("movsx r,r/m8", {0x0F, 0xBE}, -1, Imm::None, {16, 32});
    b.rm("movsx r,r/m16", {0x0F, 0xBF}, -1, Imm::None, {16, 32});
    b.rm("lea r,m", {0x8D}, -1, Imm::None, {16, 32}, 0, 0, Undefined::Fixed, kMem);
    b.rm("xchg r/m8,r8", {0x86}, -1, Imm::None, {8});
    b.rm("xchg r/m,r", {0x87}, -1, Imm::None, {16, 32});
    b.opreg("xchg eax,r", {0x90}, Imm::None, {16, 32});
    b.rm("xadd r/m8,r8", {0x0F, 0xC0}, -1, Imm::None, {8});
    b.rm("xadd r/m,r", {0x0F, 0xC1}, -1, Imm::None, {16, 32});
    b.rm("cmpxchg r/m8,r8", {0x0F, 0xB0}, -1, Imm::None, {8}, 0, setup::kCompare);
    b.rm("cmpxchg r/m,r", {0x0F, 0xB1}, -1, Imm::None, {16, 32}, 0, setup::kCompare);
    b.rm("cmpxchg8b m64", {0x0F, 0xC7}, 1, Imm::None, {0}, 0, setup::kCompare, Undefined::Fixed,
         kMem);
    b.plain("cbw/cwde", {0x98}, Imm::None, {16, 32});
    b.plain("cwd/cdq", {0x99}, Imm::None, {16, 32});
    b.plain("lahf", {0x9F}, Imm::None, {0});
    b.plain("sahf", {0x9E}, Imm::None, {0});
    b.plain("salc", {0xD6}, Imm::None, {0});
    b.plain("xlat", {0xD7}, Imm::None, {0}, 0, setup::kTable);
    for (std::uint8_t cc = 0; cc < 16; ++cc) {
        b.rm("cmov" + std::to_string(cc), {0x0F, static_cast<std::uint8_t>(0x40 + cc)}, -1,
             Imm::None, {16, 32});
        b.rm("set" + std::to_string(cc), {0x0F, static_cast<std::uint8_t>(0x90 + cc)}, 0, Imm::None,
             {8});
    }
    b.plain("nop", {0x90}, Imm::None, {0});
    b.plain("pause", {0xF3, 0x90}, Imm::None, {0});
    b.rm("nop r/m (0f 1f /0)", {0x0F, 0x1F}, 0, Imm::None, {16, 32});
    for (std::uint8_t op = 0x19; op <= 0x1E; ++op)
        b.rm("hint nop 0f " + std::to_string(op), {0x0F, op}, -1, Imm::None, {32});
}

void flags_and_system(Builder& b) {
    b.plain("cmc", {0xF5}, Imm::None, {0});
    b.plain("clc", {0xF8}, Imm::None, {0});
    b.plain("stc", {0xF9}, Imm::None, {0});
    b.plain("cld", {0xFC}, Imm::None, {0});
    b.plain("std", {0xFD}, Imm::None, {0});
    // Privileged at CPL 3 with IOPL 0: #GP(0) on both sides.
    b.plain("cli", {0xFA}, Imm::None, {0});
    b.plain("sti", {0xFB}, Imm::None, {0});
    b.plain("hlt", {0xF4}, Imm::None, {0});
    b.plain("in al,imm8", {0xE4}, Imm::I8, {0});
    b.plain("in eax,imm8", {0xE5}, Imm::I8, {16, 32});
    b.plain("out imm8,al", {0xE6}, Imm::I8, {0});
    b.plain("in al,dx", {0xEC}, Imm::None, {0});
    b.plain("out dx,eax", {0xEF}, Imm::None, {16, 32});
    b.plain("insb", {0x6C}, Imm::None, {0}, 0, setup::kString);
    b.plain("outsd", {0x6F}, Imm::None, {32}, 0, setup::kString);
    // Exceptions raised on purpose.
    b.plain("ud2", {0x0F, 0x0B}, Imm::None, {0});
    b.plain("int3", {0xCC}, Imm::None, {0});
    b.plain("into", {0xCE}, Imm::None, {0});
    b.plain("int1", {0xF1}, Imm::None, {0});
    b.rm("bound r,m", {0x62}, -1, Imm::None, {16, 32}, 0, 0, Undefined::Fixed, kMem);
}

void stack(Builder& b) {
    b.opreg("push r", {0x50}, Imm::None, {16, 32}, 0, setup::kStack);
    b.opreg("pop r", {0x58}, Imm::None, {16, 32}, 0, setup::kStack);
    b.plain("push imm8", {0x6A}, Imm::I8, {16, 32}, 0, setup::kStack);
    b.plain("push imm", {0x68}, Imm::OperandSize, {16, 32}, 0, setup::kStack);
    b.rm("push r/m", {0xFF}, 6, Imm::None, {16, 32}, 0, setup::kStack);
    b.rm("pop r/m", {0x8F}, 0, Imm::None, {16, 32}, 0, setup::kStack);
    b.plain("pusha", {0x60}, Imm::None, {16, 32}, 0, setup::kStack);
    b.plain("popa", {0x61}, Imm::None, {16, 32}, 0, setup::kStack);
    b.plain("pushf", {0x9C}, Imm::None, {16, 32}, 0, setup::kStack);
    b.plain("popf", {0x9D}, Imm::None, {16, 32}, 0, setup::kStack | setup::kPopFlags);
    b.plain("push es", {0x06}, Imm::None, {16, 32}, 0, setup::kStack | setup::kSegmentPush);
    b.plain("push cs", {0x0E}, Imm::None, {16, 32}, 0, setup::kStack | setup::kSegmentPush);
    b.plain("push ss", {0x16}, Imm::None, {16, 32}, 0, setup::kStack | setup::kSegmentPush);
    b.plain("push ds", {0x1E}, Imm::None, {16, 32}, 0, setup::kStack | setup::kSegmentPush);
    b.plain("enter imm16,imm8", {0xC8}, Imm::Enter, {16, 32}, 0, setup::kStack | setup::kFrame);
    b.plain("leave", {0xC9}, Imm::None, {16, 32}, 0, setup::kStack | setup::kFrame);
}

// Segment loads with Linux's user data selector (GS is left alone: the C
// library's thread pointer lives there).
void segment_loads(Builder& b) {
    const char* names[] = {"es", "cs", "ss", "ds", "fs"};
    for (int s : {0, 2, 3, 4})
        b.rm(std::string("mov ") + names[s] + ",r/m", {0x8E}, s, Imm::None, {16, 32}, 0,
             setup::kSelector);
    b.plain("pop es", {0x07}, Imm::None, {16, 32}, 0, setup::kStack | setup::kSelector);
    b.plain("pop ss", {0x17}, Imm::None, {16, 32}, 0, setup::kStack | setup::kSelector);
    b.plain("pop ds", {0x1F}, Imm::None, {16, 32}, 0, setup::kStack | setup::kSelector);
    b.plain("pop fs", {0x0F, 0xA1}, Imm::None, {16, 32}, 0, setup::kStack | setup::kSelector);
    b.rm("les r,m16:x", {0xC4}, -1, Imm::None, {16, 32}, 0, setup::kFarPointer, Undefined::Fixed,
         kMem);
    b.rm("lds r,m16:x", {0xC5}, -1, Imm::None, {16, 32}, 0, setup::kFarPointer, Undefined::Fixed,
         kMem);
    b.rm("lss r,m16:x", {0x0F, 0xB2}, -1, Imm::None, {16, 32}, 0, setup::kFarPointer,
         Undefined::Fixed, kMem);
    b.rm("lfs r,m16:x", {0x0F, 0xB4}, -1, Imm::None, {16, 32}, 0, setup::kFarPointer,
         Undefined::Fixed, kMem);
}

void control(Builder& b) {
    for (std::uint8_t cc = 0; cc < 16; ++cc) {
        b.plain("j" + std::to_string(cc) + " rel8", {static_cast<std::uint8_t>(0x70 + cc)},
                Imm::Rel8, {0});
        b.plain("j" + std::to_string(cc) + " rel32", {0x0F, static_cast<std::uint8_t>(0x80 + cc)},
                Imm::Rel32, {0});
    }
    b.plain("jmp rel8", {0xEB}, Imm::Rel8, {0});
    b.plain("jmp rel32", {0xE9}, Imm::Rel32, {0});
    b.plain("call rel32", {0xE8}, Imm::Rel32, {0}, 0, setup::kStack);
    b.rm("jmp r/m", {0xFF}, 4, Imm::None, {32}, 0, setup::kIndirect);
    b.rm("call r/m", {0xFF}, 2, Imm::None, {32}, 0, setup::kIndirect | setup::kStack);
    b.plain("ret", {0xC3}, Imm::None, {0}, 0, setup::kStack | setup::kReturn);
    b.plain("ret imm16", {0xC2}, Imm::I16, {0}, 0, setup::kStack | setup::kReturn);
    b.plain("loop rel8", {0xE2}, Imm::Rel8, {0}, 0, setup::kLoop);
    b.plain("loope rel8", {0xE1}, Imm::Rel8, {0}, 0, setup::kLoop);
    b.plain("loopne rel8", {0xE0}, Imm::Rel8, {0}, 0, setup::kLoop);
    b.plain("jecxz rel8", {0xE3}, Imm::Rel8, {0}, 0, setup::kLoop);
}

void strings(Builder& b) {
    struct S {
        const char* name;
        std::uint8_t byte_op;
        bool compares;
    };
    const S ops[] = {{"movs", 0xA4, false},
                     {"cmps", 0xA6, true},
                     {"stos", 0xAA, false},
                     {"lods", 0xAC, false},
                     {"scas", 0xAE, true}};
    for (const S& s : ops) {
        for (int rep = 0; rep < 3; ++rep) {
            Bytes prefix;
            std::string n = s.name;
            if (rep == 1) {
                prefix = {0xF3};
                n = (s.compares ? "repe " : "rep ") + n;
            }
            if (rep == 2) {
                prefix = {0xF2};
                n = (s.compares ? "repne " : "repne(rep) ") + n;
            }
            Bytes byte_form = prefix;
            byte_form.push_back(s.byte_op);
            Bytes wide_form = prefix;
            wide_form.push_back(static_cast<std::uint8_t>(s.byte_op + 1));
            b.plain(n + "b", byte_form, Imm::None, {8}, 0, setup::kString);
            b.plain(n, wide_form, Imm::None, {16, 32}, 0, setup::kString);
            Bytes seg = {0x26};  // ES override on the source
            seg.insert(seg.end(), byte_form.begin(), byte_form.end());
            if (s.byte_op == 0xA4 || s.byte_op == 0xA6 || s.byte_op == 0xAC) {
                b.plain(n + "b es:", seg, Imm::None, {8}, 0, setup::kString);
            }
        }
    }
}

// Register values: half the time an edge case.
std::uint32_t value(std::mt19937& rng) {
    static constexpr std::array<std::uint32_t, 16> kEdges = {
        0,      1,          2,          0x7F,       0x80,       0xFF,       0x7FFF,     0x8000,
        0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 0x00010000, 0x80008080, 0x0F0F0F0F};
    if (rng() % 2 == 0)
        return kEdges[rng() % kEdges.size()] ^ ((rng() % 4 == 0) ? (rng() & 0xFF00FF00u) : 0);
    return rng();
}

void put32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace

std::vector<Form> all_forms() {
    std::vector<Form> forms;
    Builder b(forms);
    arithmetic(b);
    shifts(b);
    bits(b);
    moves(b);
    flags_and_system(b);
    stack(b);
    control(b);
    strings(b);
    segment_loads(b);
    return forms;
}

Case make_case(const Form& form, std::uint32_t index, std::mt19937& rng) {
    Case c;
    hd_case& n = c.native;
    for (std::uint32_t& r : n.regs)
        r = value(rng);
    for (std::uint8_t& byte : n.data)
        byte = static_cast<std::uint8_t>(rng());
    const std::uint32_t status = fl::CF | fl::PF | fl::AF | fl::ZF | fl::SF | fl::OF | fl::DF;
    n.eflags = (rng() & status) | fl::Fixed1 | fl::IF;
    n.regs[4] = HD_DATA_BASE + 0x800 - (rng() % 16) * 4;  // ESP

    const unsigned size = form.operand_size;
    const std::uint32_t count = index % 64;
    c.count = count;

    // Instruction bytes.
    std::vector<std::uint8_t> code = form.opcode;
    int reg_field = form.digit >= 0 ? form.digit : static_cast<int>(rng() % 8);
    int rm = static_cast<int>(rng() % 8);
    if ((form.setup & setup::kIndirect) && rm == 4) rm = 0;  // not ESP
    // The memory operand's base is EBX: a register set up below must not be it.
    if (form.operands == Operands::ModRmMem && (form.setup & setup::kBitOffset) && reg_field == 3)
        reg_field = 0;
    if (form.operands == Operands::OpcodeReg)
        code.back() = static_cast<std::uint8_t>(code.back() + rng() % 8);
    std::uint32_t mem_address = 0;
    if (form.operands == Operands::ModRmReg) {
        code.push_back(static_cast<std::uint8_t>(0xC0 | reg_field << 3 | rm));
    } else if (form.operands == Operands::ModRmMem) {
        // [EBX + disp8], EBX in the middle of the data area.
        code.push_back(static_cast<std::uint8_t>(0x40 | reg_field << 3 | 3));
        const auto disp = static_cast<std::int8_t>(rng());
        code.push_back(static_cast<std::uint8_t>(disp));
        n.regs[3] = HD_DATA_BASE + 0x400;
        mem_address = n.regs[3] + static_cast<std::uint32_t>(static_cast<std::int32_t>(disp));
    }
    auto immediate = [&](unsigned bytes, std::uint32_t v) {
        for (unsigned i = 0; i < bytes; ++i)
            code.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    const bool counted = (form.setup & setup::kCount) != 0;
    switch (form.imm) {
        case Imm::None:
            break;
        case Imm::I8:
            immediate(1, counted ? count : value(rng));
            break;
        case Imm::I16:
            immediate(2, form.opcode[0] == 0xC2 ? (rng() % 16) * 2 : value(rng));
            break;
        case Imm::I32:
            immediate(4, value(rng));
            break;
        case Imm::OperandSize:
            immediate(size == 16 ? 2 : 4, value(rng));
            break;
        case Imm::Enter:
            immediate(2, rng() % 64);
            immediate(1, index % 32);
            break;
        case Imm::Moffs:
            immediate(4, HD_DATA_BASE + rng() % (HD_DATA_SIZE - 8));
            break;
        case Imm::Rel8:
        case Imm::Rel32: {
            const unsigned bytes = form.imm == Imm::Rel8 ? 1 : 4;
            const std::uint32_t end =
                HD_CODE_BASE + static_cast<std::uint32_t>(code.size()) + bytes;
            immediate(bytes, HD_LANDING1 - end);
            break;
        }
    }
    std::memcpy(n.code, code.data(), code.size());
    n.code_len = static_cast<std::uint32_t>(code.size());

    // Setups.
    if (counted) n.regs[1] = (n.regs[1] & ~0xFFu) | count;
    if (form.setup & setup::kString) {
        n.regs[6] = HD_DATA_BASE + 0x300 + rng() % 64;  // ESI
        n.regs[7] = HD_DATA_BASE + 0xB00 + rng() % 64;  // EDI
        n.regs[1] = rng() % 17;                         // ECX
        if (rng() % 4 == 0)
            std::memcpy(n.data + 0xB00, n.data + 0x300, 0x100);  // equal runs for REPE
    }
    if (form.setup & setup::kBitOffset) {
        const std::int32_t offset = static_cast<std::int32_t>(rng() % 4096) - 2048;
        n.regs[reg_field] = static_cast<std::uint32_t>(offset);
    }
    if (form.setup & setup::kIndirect) {
        if (form.operands == Operands::ModRmReg) {
            n.regs[rm] = HD_LANDING1;
        } else {
            put32(n.data + (mem_address - HD_DATA_BASE), HD_LANDING1);
        }
    }
    if (form.setup & setup::kReturn) put32(n.data + (n.regs[4] - HD_DATA_BASE), HD_LANDING1);
    if (form.setup & setup::kFrame) n.regs[5] = HD_DATA_BASE + 0xA00 + (rng() % 32) * 4;  // EBP
    if (form.setup & setup::kLoop) {
        const std::uint32_t choices[] = {0, 1, 2, value(rng)};
        n.regs[1] = choices[rng() % 4];
    }
    if (form.setup & setup::kDivide) {
        const std::uint32_t choice = rng() % 4;
        if (choice == 1 || choice == 2) {
            // A dividend whose high half is small enough for a quotient that fits.
            if (size == 8) {
                n.regs[0] = (n.regs[0] & 0xFFFF00FFu) | ((rng() % 4) << 8);
            } else {
                n.regs[2] = (n.regs[2] & (size == 16 ? 0xFFFF0000u : 0)) | (rng() % 4);
            }
        } else if (choice == 3) {
            // The high half the sign extension of the low half (CBW/CWD/CDQ):
            // signed quotients of either sign that fit, divisor -1 included.
            if (size == 8) {
                const std::uint32_t ah = (n.regs[0] & 0x80) ? 0xFF00u : 0;
                n.regs[0] = (n.regs[0] & 0xFFFF00FFu) | ah;
            } else if (size == 16) {
                const std::uint32_t dx = (n.regs[0] & 0x8000) ? 0xFFFFu : 0;
                n.regs[2] = (n.regs[2] & 0xFFFF0000u) | dx;
            } else {
                n.regs[2] = (n.regs[0] & 0x80000000u) ? 0xFFFFFFFFu : 0;
            }
        }
    }
    if ((form.setup & setup::kCompare) && rng() % 2) {
        if (form.operands == Operands::ModRmReg) {
            n.regs[0] = n.regs[rm];
        } else {
            std::memcpy(n.data + (mem_address - HD_DATA_BASE), &n.regs[0], 4);
            if (form.opcode.back() == 0xC7)
                std::memcpy(n.data + (mem_address - HD_DATA_BASE) + 4, &n.regs[2], 4);
        }
    }
    if (form.setup & setup::kPopFlags) n.data[n.regs[4] - HD_DATA_BASE + 1] &= ~0x01;  // TF
    if (form.setup & setup::kTable) n.regs[3] = HD_DATA_BASE + 0x400 + rng() % 256;
    // Selectors to load: user data, user code (readable: valid for DS, ES
    // and FS, #GP for SS), null (#GP for SS), and now and then a random one
    // past the first 16 GDT entries (or in the LDT, which neither side has):
    // entries 6-15 of the host's GDT are Linux's own (64-bit user code, TLS,
    // the per-CPU segment, whose limit depends on the CPU running the test),
    // which the emulated GDT does not copy.
    const std::uint16_t selectors[] = {kUserData, kUserData, kUserCode, 0,
                                       static_cast<std::uint16_t>(rng() | 0x80)};
    const std::uint16_t selector = selectors[rng() % 5];
    if (form.setup & setup::kSelector) {
        if (form.operands == Operands::ModRmReg) {
            n.regs[rm] = (n.regs[rm] & 0xFFFF0000u) | selector;
        } else if (form.operands == Operands::ModRmMem) {
            std::memcpy(n.data + (mem_address - HD_DATA_BASE), &selector, 2);
        } else {
            std::memcpy(n.data + (n.regs[4] - HD_DATA_BASE), &selector, 2);
        }
    }
    if (form.setup & setup::kFarPointer) {
        std::memcpy(n.data + (mem_address - HD_DATA_BASE) + size / 8, &selector, 2);
    }
    return c;
}

std::uint32_t undefined_flags(const Form& form, const Case& c) {
    const unsigned count = c.count & 31;
    switch (form.rule) {
        case Undefined::Fixed:
            return form.undefined;
        case Undefined::Shift: {
            const bool is_one = form.opcode.back() == 0xD0 || form.opcode.back() == 0xD1;
            const unsigned n = is_one ? 1 : count;
            if (n == 0) return 0;
            std::uint32_t u = fl::AF;
            if (n != 1) u |= fl::OF;
            if (n >= form.operand_size && form.operand_size < 32) u |= fl::CF;
            return u;
        }
        case Undefined::Rotate: {
            const bool is_one = form.opcode.back() == 0xD0 || form.opcode.back() == 0xD1;
            const unsigned n = is_one ? 1 : count;
            return n == 0 || n == 1 ? 0 : fl::OF;
        }
        case Undefined::DoubleShift:
            if (count == 0) return 0;
            if (count > form.operand_size) return fl::kArithmetic;
            return count == 1 ? fl::AF : (fl::AF | fl::OF);
    }
    return 0;
}

bool undefined_result(const Form& form, const Case& c) {
    if (form.rule == Undefined::DoubleShift) return (c.count & 31) > form.operand_size;
    return form.name.rfind("bswap", 0) == 0 && form.operand_size == 16;
}

}  // namespace jitterbug::test::host
