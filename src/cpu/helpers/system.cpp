// The system instructions: control and debug registers, the descriptor-
// table registers, LLDT/LTR, LMSW/CLTS, INVLPG, the access-rights queries
// (LAR, LSL, VERR, VERW, ARPL), RDMSR/WRMSR and SYSENTER/SYSEXIT (SDM Vol.
// 2 and Vol. 3A, chapters 2-5). The semantics check the CPL of the
// privileged ones at translation time (mode::kCplMask); these check the rest.
#include "cpu/helpers/helpers.hpp"

namespace jitterbug::cpu {

namespace {

// CR0 bits a write keeps (ET is fixed at 1 on P6 processors; the others are reserved).
constexpr std::uint32_t kCr0Writable = cr0::PE | cr0::MP | cr0::EM | cr0::TS | cr0::NE | cr0::WP |
                                       cr0::AM | cr0::NW | cr0::CD | cr0::PG;
// CR4 bits of the features CPUID reports (anything else is #GP(0)).
constexpr std::uint32_t kCr4Writable =
    cr4::TSD | cr4::DE | cr4::PSE | cr4::PAE | cr4::PGE | cr4::PCE | cr4::OSFXSR;

void set_zf(CpuState& st, bool zf) {
    st.flags_status = zf ? (st.flags_status | eflags::ZF) : (st.flags_status & ~eflags::ZF);
}

}  // namespace

bool configure_paging(CpuContext& ctx, const CpuState& st, bool cr3_load) {
    mmu::PagingConfig config;
    config.enabled = (st.cr0 & cr0::PG) && (st.cr0 & cr0::PE);
    config.pae = (st.cr4 & cr4::PAE) != 0;
    config.pse = (st.cr4 & cr4::PSE) != 0;
    config.pge = (st.cr4 & cr4::PGE) != 0;
    config.wp = (st.cr0 & cr0::WP) != 0;
    config.nxe = (st.msr.efer & efer::NXE) != 0;
    config.cr3 = st.cr3;
    return ctx.cpu->mmu().configure(config, cr3_load);
}

// MOV CRn, r32 (SDM Vol. 3A, 2.5; Vol. 2B, MOV—Move to/from Control Registers).
std::uint64_t helper_write_cr(CpuContext& ctx, std::uint32_t n, std::uint32_t value,
                              std::uint32_t) {
    CpuState& st = ctx.state;
    CpuState next = st;
    switch (n) {
        case 0:
            next.cr0 = (value & kCr0Writable) | cr0::ET;
            if (((next.cr0 & cr0::PG) && !(next.cr0 & cr0::PE)) ||
                ((next.cr0 & cr0::NW) && !(next.cr0 & cr0::CD))) {
                runtime::raise_fault(ctx, vector::GP, 0);
                return 0;
            }
            break;
        case 2:
            st.cr2 = value;
            return 0;
        case 3:
            next.cr3 = value;
            break;
        case 4:
            if (value & ~kCr4Writable) {
                runtime::raise_fault(ctx, vector::GP, 0);
                return 0;
            }
            next.cr4 = value;
            break;
        default:
            runtime::raise_fault(ctx, vector::UD);
            return 0;
    }
    if (!configure_paging(ctx, next, n == 3)) {
        runtime::raise_fault(ctx, vector::GP, 0);  // a PDPTE with reserved bits
        return 0;
    }
    st.cr0 = next.cr0;
    st.cr3 = next.cr3;
    st.cr4 = next.cr4;
    sync_segment_checks(ctx);  // (PE: the CPL and the segment checks)
    return 0;
}

std::uint64_t helper_read_cr(CpuContext& ctx, std::uint32_t n, std::uint32_t, std::uint32_t) {
    const CpuState& st = ctx.state;
    switch (n) {
        case 0:
            return st.cr0;
        case 2:
            return st.cr2;
        case 3:
            return st.cr3;
        case 4:
            return st.cr4;
        default:
            runtime::raise_fault(ctx, vector::UD);
            return 0;
    }
}

namespace {
// DR4 and DR5 name DR6 and DR7 unless CR4.DE, which makes them #UD (SDM
// Vol. 3A, 17.2.2); MOV DR with DR7.GD raises #DB with DR6.BD first
// (17.2.4).
bool debug_register_access(CpuContext& ctx, std::uint32_t& n) {
    CpuState& st = ctx.state;
    if ((n == 4 || n == 5) && (st.cr4 & cr4::DE)) {
        runtime::raise_fault(ctx, vector::UD);
        return false;
    }
    if (st.dr[7] & (1u << 13)) {
        st.dr[7] &= ~(1u << 13);
        st.dr[6] |= 1u << 13;
        runtime::raise_fault(ctx, vector::DB);
        return false;
    }
    if (n == 4 || n == 5) n += 2;
    return true;
}
}  // namespace

std::uint64_t helper_write_dr(CpuContext& ctx, std::uint32_t n, std::uint32_t value,
                              std::uint32_t) {
    if (!debug_register_access(ctx, n)) return 0;
    CpuState& st = ctx.state;
    switch (n) {
        case 6:
            st.dr[6] = (value & 0xE00F) | 0xFFFF0FF0u;
            break;
        case 7:
            st.dr[7] = (value & 0xFFFF27FFu) | 0x400;
            break;
        default:
            st.dr[n] = value;
            break;
    }
    return 0;
}

std::uint64_t helper_read_dr(CpuContext& ctx, std::uint32_t n, std::uint32_t, std::uint32_t) {
    if (!debug_register_access(ctx, n)) return 0;
    return ctx.state.dr[n];
}

// LGDT/LIDT (which: 0 GDTR, 1 IDTR; bit 31: 32-bit operand size) with the
// limit and base the semantics read. A 16-bit operand size keeps 24 bits of
// the base.
std::uint64_t helper_load_table_register(CpuContext& ctx, std::uint32_t which, std::uint32_t limit,
                                         std::uint32_t base) {
    DescriptorTableRegister& r = (which & 1) == 0 ? ctx.state.gdtr : ctx.state.idtr;
    r.limit = static_cast<std::uint16_t>(limit);
    r.base = (which & 0x80000000u) ? base : base & 0xFFFFFF;
    return 0;
}

// SGDT/SIDT/SLDT/STR: 0 GDTR base, 1 GDTR limit, 2 IDTR base, 3 IDTR limit,
// 4 LDTR selector, 5 TR selector.
std::uint64_t helper_read_table_register(CpuContext& ctx, std::uint32_t which, std::uint32_t,
                                         std::uint32_t) {
    const CpuState& st = ctx.state;
    switch (which) {
        case 0:
            return st.gdtr.base;
        case 1:
            return st.gdtr.limit;
        case 2:
            return st.idtr.base;
        case 3:
            return st.idtr.limit;
        case 4:
            return st.ldtr.selector;
        default:
            return st.tr.selector;
    }
}

// LLDT (SDM Vol. 2A, LLDT): a null selector leaves the LDTR unusable.
std::uint64_t helper_lldt(CpuContext& ctx, std::uint32_t selector, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    const auto sel = static_cast<std::uint16_t>(selector);
    if ((sel & 0xFFFC) == 0) {
        st.ldtr = SegmentRegister{0, 0, sel, 0};
        return 0;
    }
    if (sel & 4) {
        runtime::raise_fault(ctx, vector::GP, sel & 0xFFFC);
        return 0;
    }
    const std::optional<Descriptor> d = read_descriptor(ctx, sel);
    if (!d) return 0;
    if (!d->is_system() || d->type() != 2) {
        runtime::raise_fault(ctx, vector::GP, sel & 0xFFFC);
        return 0;
    }
    if (!d->present()) {
        runtime::raise_fault(ctx, vector::NP, sel & 0xFFFC);
        return 0;
    }
    st.ldtr = d->to_cache(sel);
    return 0;
}

// LTR (SDM Vol. 2A, LTR): an available TSS, marked busy.
std::uint64_t helper_ltr(CpuContext& ctx, std::uint32_t selector, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    const auto sel = static_cast<std::uint16_t>(selector);
    if ((sel & 0xFFFC) == 0) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return 0;
    }
    if (sel & 4) {
        runtime::raise_fault(ctx, vector::GP, sel & 0xFFFC);
        return 0;
    }
    std::optional<Descriptor> d = read_descriptor(ctx, sel);
    if (!d) return 0;
    if (!d->is_system() || (d->type() != 1 && d->type() != 9)) {
        runtime::raise_fault(ctx, vector::GP, sel & 0xFFFC);
        return 0;
    }
    if (!d->present()) {
        runtime::raise_fault(ctx, vector::NP, sel & 0xFFFC);
        return 0;
    }
    d->high |= 2u << 8;  // busy
    write_access_byte(ctx, sel, *d);
    if (ctx.abort_instruction) return 0;
    st.tr = d->to_cache(sel);
    return 0;
}

// LMSW: the low four bits of CR0; PE can be set but not cleared.
std::uint64_t helper_lmsw(CpuContext& ctx, std::uint32_t value, std::uint32_t, std::uint32_t) {
    const std::uint32_t cr0 = ctx.state.cr0;
    const std::uint32_t next = (cr0 & ~0xEu) | (value & 0xF) | (cr0 & cr0::PE);
    return helper_write_cr(ctx, 0, next, 0);
}

std::uint64_t helper_clts(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    ctx.state.cr0 &= ~cr0::TS;
    return 0;
}

std::uint64_t helper_invlpg(CpuContext& ctx, std::uint32_t linear, std::uint32_t, std::uint32_t) {
    ctx.cpu->mmu().invalidate_page(linear);
    return 0;
}

namespace {

// DPL >= CPL and DPL >= RPL, except for conforming code segments.
bool visible(const CpuState& st, const Descriptor& d, std::uint16_t sel) {
    if (d.is_code() && (d.type() & 4)) return true;
    return d.dpl() >= st.cpl() && d.dpl() >= (sel & 3u);
}

}  // namespace

// LAR (kind 0) and LSL (kind 1): ZF and the value, written to GPR `reg`
// (bits 8-15 of kind: operand size) when ZF is set (SDM Vol. 2A, LAR, LSL).
std::uint64_t helper_access_rights(CpuContext& ctx, std::uint32_t selector, std::uint32_t kind,
                                   std::uint32_t reg) {
    CpuState& st = ctx.state;
    const auto sel = static_cast<std::uint16_t>(selector);
    const std::optional<Descriptor> d =
        (sel & 0xFFFC) == 0 ? std::nullopt : find_descriptor(ctx, sel);
    if (ctx.abort_instruction) return 0;
    const bool lsl = (kind & 0xFF) == 1;
    const unsigned bits = kind >> 8;
    bool ok = d.has_value() && visible(st, *d, sel);
    if (ok && d->is_system()) {
        // Types with a segment: TSSs and LDTs; LAR also takes gates.
        const unsigned t = d->type();
        const bool segment = t == 1 || t == 2 || t == 3 || t == 9 || t == 11;
        const bool gate = t == 4 || t == 5 || t == 12;
        ok = segment || (!lsl && gate);
    }
    set_zf(st, ok);
    if (!ok) return 0;
    const std::uint32_t value = lsl ? d->limit() : d->high & 0x00FFFF00u;
    std::uint32_t& r = st.gpr[reg & 7];
    r = bits == 16 ? (r & 0xFFFF0000u) | (value & 0xFFFF) : value;
    return 0;
}

// VERR (write = 0) and VERW (write = 1): ZF.
std::uint64_t helper_verify_segment(CpuContext& ctx, std::uint32_t selector, std::uint32_t write,
                                    std::uint32_t) {
    CpuState& st = ctx.state;
    const auto sel = static_cast<std::uint16_t>(selector);
    const std::optional<Descriptor> d =
        (sel & 0xFFFC) == 0 ? std::nullopt : find_descriptor(ctx, sel);
    if (ctx.abort_instruction) return 0;
    bool ok = d.has_value() && !d->is_system() && visible(st, *d, sel);
    if (ok) {
        ok = write ? (!d->is_code() && (d->type() & 2)) : (!d->is_code() || (d->type() & 2));
    }
    set_zf(st, ok);
    return 0;
}

// ARPL: the destination selector with its RPL raised to the source's; ZF
// when it was lower.
std::uint64_t helper_arpl(CpuContext& ctx, std::uint32_t dest, std::uint32_t source,
                          std::uint32_t) {
    const bool lower = (dest & 3) < (source & 3);
    set_zf(ctx.state, lower);
    return lower ? (dest & 0xFFFC) | (source & 3) : dest & 0xFFFF;
}

namespace {

constexpr std::uint32_t kMsrTsc = 0x10;
constexpr std::uint32_t kMsrPlatformId = 0x17;
constexpr std::uint32_t kMsrApicBase = 0x1B;
constexpr std::uint32_t kMsrBiosSignId = 0x8B;
constexpr std::uint32_t kMsrMtrrCap = 0xFE;
constexpr std::uint32_t kMsrSysenterCs = 0x174;
constexpr std::uint32_t kMsrSysenterEsp = 0x175;
constexpr std::uint32_t kMsrSysenterEip = 0x176;
constexpr std::uint32_t kMsrMiscEnable = 0x1A0;
constexpr std::uint32_t kMsrMtrrVariable = 0x200;  // 0x200-0x20F
constexpr std::uint32_t kMsrPat = 0x277;
constexpr std::uint32_t kMsrMtrrDefType = 0x2FF;
constexpr std::uint32_t kMsrEfer = 0xC0000080u;
// Fixed-range MTRRs: 64K_00000, 16K_80000, 16K_A0000, 4K_C0000 ... 4K_F8000.
constexpr std::array<std::uint32_t, 11> kMsrMtrrFixed = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26A,
                                                         0x26B, 0x26C, 0x26D, 0x26E, 0x26F};
// MTRRcap: 8 variable ranges, fixed ranges, write combining.
constexpr std::uint64_t kMtrrCap = 0x508;

// A memory type (0, 1, 4, 5, 6) in each byte.
bool valid_memory_types(std::uint64_t v, bool pat) {
    for (unsigned i = 0; i < 8; ++i) {
        const unsigned t = (v >> (8 * i)) & 0xFF;
        if (!(t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7))) return false;
    }
    return true;
}

std::uint64_t* msr_slot(Msrs& m, std::uint32_t index) {
    switch (index) {
        case kMsrApicBase:
            return &m.apic_base;
        case kMsrPat:
            return &m.pat;
        case kMsrMiscEnable:
            return &m.misc_enable;
        case kMsrMtrrDefType:
            return &m.mtrr_def_type;
        case kMsrEfer:
            return &m.efer;
        default:
            break;
    }
    if (index >= kMsrMtrrVariable && index < kMsrMtrrVariable + 16)
        return &m.mtrr_variable[index - kMsrMtrrVariable];
    for (std::size_t i = 0; i < kMsrMtrrFixed.size(); ++i) {
        if (kMsrMtrrFixed[i] == index) return &m.mtrr_fixed[i];
    }
    return nullptr;
}

}  // namespace

std::uint64_t helper_rdmsr(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    const std::uint32_t index = st.reg(Gpr::Ecx);
    std::uint64_t value = 0;
    switch (index) {
        case kMsrTsc:
            value = time_stamp_counter(*ctx.cpu);
            break;
        case kMsrPlatformId:
        case kMsrBiosSignId:
            value = 0;
            break;
        case kMsrMtrrCap:
            value = kMtrrCap;
            break;
        case kMsrSysenterCs:
            value = st.msr.sysenter_cs;
            break;
        case kMsrSysenterEsp:
            value = st.msr.sysenter_esp;
            break;
        case kMsrSysenterEip:
            value = st.msr.sysenter_eip;
            break;
        default:
            if (const std::uint64_t* slot = msr_slot(st.msr, index)) {
                value = *slot;
                break;
            }
            runtime::raise_fault(ctx, vector::GP, 0);
            return 0;
    }
    st.reg(Gpr::Eax) = static_cast<std::uint32_t>(value);
    st.reg(Gpr::Edx) = static_cast<std::uint32_t>(value >> 32);
    return 0;
}

std::uint64_t helper_wrmsr(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    const std::uint32_t index = st.reg(Gpr::Ecx);
    const std::uint64_t value = (std::uint64_t{st.reg(Gpr::Edx)} << 32) | st.reg(Gpr::Eax);
    const auto fail = [&] {
        runtime::raise_fault(ctx, vector::GP, 0);
        return 0;
    };
    // Physical addresses have 36 bits: higher ones are reserved.
    constexpr std::uint64_t kHighReserved =
        ~((std::uint64_t{1} << mmu::kMaxPhysicalAddressBits) - 1);
    switch (index) {
        case kMsrTsc:
            st.msr.tsc_offset += value - time_stamp_counter(*ctx.cpu);
            return 0;
        case kMsrBiosSignId:
            return 0;  // (microcode updates: nothing to update)
        case kMsrSysenterCs:
            st.msr.sysenter_cs = static_cast<std::uint32_t>(value);
            return 0;
        case kMsrSysenterEsp:
            st.msr.sysenter_esp = static_cast<std::uint32_t>(value);
            return 0;
        case kMsrSysenterEip:
            st.msr.sysenter_eip = static_cast<std::uint32_t>(value);
            return 0;
        case kMsrEfer: {
            // Only NXE is implemented (no long mode, no SYSCALL).
            if (value & ~efer::NXE) return fail();
            CpuState next = st;
            next.msr.efer = value;
            if (!configure_paging(ctx, next, false)) return fail();
            st.msr.efer = value;
            return 0;
        }
        case kMsrApicBase:
            // Bit 8 (BSP) reads as it is; bits 11 (enable) and 35:12 (base) are kept.
            if (value & (kHighReserved | 0x6FF)) return fail();
            st.msr.apic_base = (value & ~std::uint64_t{0x100}) | (st.msr.apic_base & 0x100);
            return 0;
        case kMsrPat:
            if (!valid_memory_types(value, true)) return fail();
            st.msr.pat = value;
            return 0;
        case kMsrMtrrDefType:
            if ((value & ~std::uint64_t{0xCFF}) || !valid_memory_types(value & 0xFF, false))
                return fail();
            st.msr.mtrr_def_type = value;
            return 0;
        default:
            break;
    }
    std::uint64_t* slot = msr_slot(st.msr, index);
    if (!slot) return fail();
    if (index >= kMsrMtrrVariable && index < kMsrMtrrVariable + 16) {
        // Base: type in 7:0, 11:8 reserved; mask: valid in bit 11, 10:0 reserved.
        const bool mask = (index & 1) != 0;
        if ((value & kHighReserved) || (mask ? (value & 0x7FF) : (value & 0xF00)) ||
            (!mask && !valid_memory_types(value & 0xFF, false))) {
            return fail();
        }
    } else if (index != kMsrMiscEnable && !valid_memory_types(value, false)) {
        return fail();  // a fixed-range MTRR: a memory type in each byte
    }
    *slot = value;
    return 0;
}

namespace {
// The flat segments SYSENTER and SYSEXIT load (SDM Vol. 2B, SYSENTER).
SegmentRegister flat_segment(std::uint16_t selector, bool code, unsigned dpl) {
    const std::uint16_t type = code ? (seg_attr::kCode | seg_attr::kReadable | seg_attr::kAccessed)
                                    : (seg_attr::kWritable | seg_attr::kAccessed);
    return SegmentRegister{
        0, 0xFFFFFFFFu, selector,
        static_cast<std::uint16_t>(type | seg_attr::S | seg_attr::P | (dpl << seg_attr::kDplShift) |
                                   seg_attr::DB | seg_attr::G)};
}
}  // namespace

std::uint64_t helper_sysenter(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    const std::uint32_t cs = st.msr.sysenter_cs;
    if (!st.protected_mode() || (cs & 0xFFFC) == 0) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return 0;
    }
    st.set_eflags(st.eflags() & ~(eflags::VM | eflags::IF | eflags::RF));
    st.segment(SegReg::Cs) = flat_segment(static_cast<std::uint16_t>(cs & 0xFFFC), true, 0);
    st.segment(SegReg::Ss) = flat_segment(static_cast<std::uint16_t>((cs + 8) & 0xFFFC), false, 0);
    st.reg(Gpr::Esp) = st.msr.sysenter_esp;
    st.eip = st.msr.sysenter_eip;
    sync_segment_checks(ctx);
    return 0;
}

std::uint64_t helper_sysexit(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    const std::uint32_t cs = st.msr.sysenter_cs;
    if (!st.protected_mode() || st.cpl() != 0 || (cs & 0xFFFC) == 0) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return 0;
    }
    st.segment(SegReg::Cs) = flat_segment(static_cast<std::uint16_t>((cs + 16) | 3), true, 3);
    st.segment(SegReg::Ss) = flat_segment(static_cast<std::uint16_t>((cs + 24) | 3), false, 3);
    st.reg(Gpr::Esp) = st.reg(Gpr::Ecx);
    st.eip = st.reg(Gpr::Edx);
    sync_segment_checks(ctx);
    return 0;
}

}  // namespace jitterbug::cpu
