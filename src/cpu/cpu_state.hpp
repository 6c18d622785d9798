// CpuState: the architectural state of a 32-bit x86 (P6 class), laid out for
// direct access by generated code. Names follow the Intel SDM.
#pragma once

#include <array>
#include <cstdint>

#include "cpu/x87/float80.hpp"

namespace jitterbug::cpu {

// General registers in their encoding order (SDM Vol. 2A, Table 2-2).
enum class Gpr : std::uint8_t { Eax, Ecx, Edx, Ebx, Esp, Ebp, Esi, Edi };
constexpr unsigned kNumGprs = 8;

// 8-bit registers in their encoding order: AL CL DL BL AH CH DH BH.
// Register r8 lives in GPR (r8 & 3), high byte when r8 >= 4.
constexpr Gpr gpr_of_byte_register(unsigned r8) { return static_cast<Gpr>(r8 & 3); }
constexpr bool is_high_byte_register(unsigned r8) { return r8 >= 4; }

// Segment registers in their encoding order (SDM Vol. 2A, 3.1.1.3, Sreg).
enum class SegReg : std::uint8_t { Es, Cs, Ss, Ds, Fs, Gs };
constexpr unsigned kNumSegRegs = 6;

namespace eflags {
constexpr std::uint32_t CF = 1u << 0;
constexpr std::uint32_t Fixed1 = 1u << 1;  // reads as 1
constexpr std::uint32_t PF = 1u << 2;
constexpr std::uint32_t AF = 1u << 4;
constexpr std::uint32_t ZF = 1u << 6;
constexpr std::uint32_t SF = 1u << 7;
constexpr std::uint32_t TF = 1u << 8;
constexpr std::uint32_t IF = 1u << 9;
constexpr std::uint32_t DF = 1u << 10;
constexpr std::uint32_t OF = 1u << 11;
constexpr std::uint32_t IOPL = 3u << 12;
constexpr std::uint32_t NT = 1u << 14;
constexpr std::uint32_t RF = 1u << 16;
constexpr std::uint32_t VM = 1u << 17;
constexpr std::uint32_t AC = 1u << 18;
constexpr std::uint32_t VIF = 1u << 19;
constexpr std::uint32_t VIP = 1u << 20;
constexpr std::uint32_t ID = 1u << 21;
// The six status flags ALU instructions produce.
constexpr std::uint32_t kArithmetic = CF | PF | AF | ZF | SF | OF;
}  // namespace eflags

namespace cr0 {
constexpr std::uint32_t PE = 1u << 0;
constexpr std::uint32_t MP = 1u << 1;
constexpr std::uint32_t EM = 1u << 2;
constexpr std::uint32_t TS = 1u << 3;
constexpr std::uint32_t ET = 1u << 4;
constexpr std::uint32_t NE = 1u << 5;
constexpr std::uint32_t WP = 1u << 16;
constexpr std::uint32_t AM = 1u << 18;
constexpr std::uint32_t NW = 1u << 29;
constexpr std::uint32_t CD = 1u << 30;
constexpr std::uint32_t PG = 1u << 31;
}  // namespace cr0

namespace cr4 {
constexpr std::uint32_t VME = 1u << 0;
constexpr std::uint32_t PVI = 1u << 1;
constexpr std::uint32_t TSD = 1u << 2;  // RDTSC privileged
constexpr std::uint32_t DE = 1u << 3;
constexpr std::uint32_t PSE = 1u << 4;
constexpr std::uint32_t PAE = 1u << 5;
constexpr std::uint32_t MCE = 1u << 6;
constexpr std::uint32_t PGE = 1u << 7;
constexpr std::uint32_t PCE = 1u << 8;
constexpr std::uint32_t OSFXSR = 1u << 9;  // FXSAVE/FXRSTOR (and SSE) in use
}  // namespace cr4

// DR6 status bits (SDM Vol. 3A, 17.2.3).
constexpr std::uint32_t kDr6SingleStep = 1u << 14;  // BS
constexpr std::uint32_t kDr6TaskSwitch = 1u << 15;  // BT

namespace efer {
constexpr std::uint64_t NXE = 1u << 11;
}  // namespace efer

// The model-specific registers the CPU has (SDM Vol. 4), by their state.
struct Msrs {
    std::uint64_t efer = 0;
    std::uint32_t sysenter_cs = 0;
    std::uint32_t sysenter_esp = 0;
    std::uint32_t sysenter_eip = 0;
    std::uint64_t apic_base = 0xFEE00900u;  // the bootstrap processor's, enabled
    std::uint64_t pat = 0x0007040600070406ull;
    std::uint64_t misc_enable = 1;  // fast strings
    std::uint64_t mtrr_def_type = 0;
    std::array<std::uint64_t, 11> mtrr_fixed{};
    std::array<std::uint64_t, 16> mtrr_variable{};  // base/mask pairs 0-7
    // TSC = instructions retired + tsc_offset (WRMSR to the TSC sets it).
    std::uint64_t tsc_offset = 0;
};

// Access-rights bits of a descriptor cache, in the layout of descriptor
// bytes 5 and 6 (SDM Vol. 3A, 3.4.5): type(3:0) S(4) DPL(6:5) P(7) AVL(12) L(13) D/B(14) G(15).
namespace seg_attr {
constexpr std::uint16_t kTypeMask = 0x000F;
constexpr std::uint16_t kAccessed = 0x0001;
constexpr std::uint16_t kWritable = 0x0002;    // data segments
constexpr std::uint16_t kReadable = 0x0002;    // code segments
constexpr std::uint16_t kExpandDown = 0x0004;  // data segments
constexpr std::uint16_t kConforming = 0x0004;  // code segments
constexpr std::uint16_t kCode = 0x0008;
constexpr std::uint16_t S = 0x0010;  // code or data (not system)
constexpr unsigned kDplShift = 5;
constexpr std::uint16_t kDplMask = 0x0060;
constexpr std::uint16_t P = 0x0080;
constexpr std::uint16_t AVL = 0x1000;
constexpr std::uint16_t L = 0x2000;
constexpr std::uint16_t DB = 0x4000;
constexpr std::uint16_t G = 0x8000;
// A present, writable, accessed data segment (what real mode and reset use).
constexpr std::uint16_t kRealModeData = P | S | kWritable | kAccessed;
// A present, readable, accessed code segment.
constexpr std::uint16_t kRealModeCode = P | S | kCode | kReadable | kAccessed;
}  // namespace seg_attr

// A segment register with its hidden descriptor cache (SDM Vol. 3A, 3.4.3).
struct SegmentRegister {
    std::uint32_t base = 0;
    std::uint32_t limit = 0;  // byte-granular effective limit
    std::uint16_t selector = 0;
    std::uint16_t attributes = 0;

    bool big() const { return (attributes & seg_attr::DB) != 0; }
    unsigned dpl() const { return (attributes & seg_attr::kDplMask) >> seg_attr::kDplShift; }
};

struct DescriptorTableRegister {
    std::uint32_t base = 0;
    std::uint16_t limit = 0;
};

// The x87 FPU (SDM Vol. 1, 8.1): eight physical registers, ST(i) being
// R((TOP + i) mod 8), TOP in the status word.
struct X87State {
    std::array<x87::Float80, 8> regs{};
    std::uint16_t control = 0x0040;  // FCW at power-up (FNINIT: 037FH)
    std::uint16_t status = 0;        // FSW, TOP in bits 13-11
    std::uint8_t valid = 0xFF;       // per physical register: not empty (power-up: all zero)
    std::uint16_t opcode = 0;        // FOP: the last non-control instruction's, 11 bits
    std::uint32_t ip = 0;            // FIP, FCS: its address
    std::uint16_t cs = 0;
    std::uint32_t dp = 0;  // FDP, FDS: its memory operand's
    std::uint16_t ds = 0;
    std::uint32_t mxcsr = 0x1F80;  // (FXSAVE's image; SSE itself is not implemented)

    unsigned top() const { return (status >> 11) & 7; }
    void set_top(unsigned t) {
        status = static_cast<std::uint16_t>((status & ~0x3800u) | ((t & 7) << 11));
    }
    unsigned physical(unsigned i) const { return (top() + i) & 7; }
    bool operator==(const X87State&) const = default;
};

struct CpuState {
    std::array<std::uint32_t, kNumGprs> gpr{};
    std::uint32_t eip = 0;
    // EFLAGS is kept in two words, read and written through eflags() and
    // set_eflags(): the six status flags (their EFLAGS bit positions in
    // flags_status; its other bits are meaningless, so translated code can
    // store the host's flags there as they are) and everything else
    // (flags_control, whose status bits are meaningless).
    std::uint32_t flags_status = 0;
    std::uint32_t flags_control = eflags::Fixed1;
    std::array<SegmentRegister, kNumSegRegs> seg{};
    SegmentRegister ldtr;
    SegmentRegister tr;
    DescriptorTableRegister gdtr;
    DescriptorTableRegister idtr;
    std::uint32_t cr0 = 0;
    std::uint32_t cr2 = 0;
    std::uint32_t cr3 = 0;
    std::uint32_t cr4 = 0;
    std::array<std::uint32_t, 8> dr{};
    Msrs msr;
    X87State x87;

    std::uint32_t eflags() const {
        return (flags_control & ~eflags::kArithmetic) | (flags_status & eflags::kArithmetic) |
               eflags::Fixed1;
    }
    void set_eflags(std::uint32_t value) {
        flags_control = value;
        flags_status = value;
    }

    std::uint32_t& reg(Gpr r) { return gpr[static_cast<unsigned>(r)]; }
    std::uint32_t reg(Gpr r) const { return gpr[static_cast<unsigned>(r)]; }
    SegmentRegister& segment(SegReg s) { return seg[static_cast<unsigned>(s)]; }
    const SegmentRegister& segment(SegReg s) const { return seg[static_cast<unsigned>(s)]; }

    bool protected_mode() const { return (cr0 & cr0::PE) != 0; }
    bool paging() const { return (cr0 & cr0::PG) != 0; }
    bool v86_mode() const { return (flags_control & eflags::VM) != 0; }
    // Current privilege level: CS.RPL in protected mode (SDM Vol. 3A, 5.5), 3 in v86, 0 in real
    // mode.
    unsigned cpl() const {
        if (!protected_mode()) return 0;
        if (v86_mode()) return 3;
        return segment(SegReg::Cs).selector & 3;
    }
};

// The processor state after RESET (SDM Vol. 3A, 9.1.1, Table 9-1).
CpuState reset_state();

}  // namespace jitterbug::cpu
