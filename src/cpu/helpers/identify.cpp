// CPUID, RDTSC and WAIT.
#include <array>
#include <cstring>

#include "cpu/helpers/helpers.hpp"

namespace jitterbug::cpu {

namespace {

// CPUID.1:EDX feature bits (SDM Vol. 2A, Table 3-11). Exactly what is
// implemented: the x87, debugging extensions, 4 MiB pages, the time-stamp
// counter, RDMSR/WRMSR, PAE, CMPXCHG8B, SYSENTER/SYSEXIT, MTRRs, global
// pages, CMOVcc, PAT, PSE-36 and FXSAVE/FXRSTOR. No local APIC, no SSE.
constexpr std::uint32_t kFeatureFpu = 1u << 0;
constexpr std::uint32_t kFeatureDe = 1u << 2;
constexpr std::uint32_t kFeaturePse = 1u << 3;
constexpr std::uint32_t kFeatureTsc = 1u << 4;
constexpr std::uint32_t kFeatureMsr = 1u << 5;
constexpr std::uint32_t kFeaturePae = 1u << 6;
constexpr std::uint32_t kFeatureCx8 = 1u << 8;
constexpr std::uint32_t kFeatureSep = 1u << 11;
constexpr std::uint32_t kFeatureMtrr = 1u << 12;
constexpr std::uint32_t kFeaturePge = 1u << 13;
constexpr std::uint32_t kFeatureCmov = 1u << 15;
constexpr std::uint32_t kFeaturePat = 1u << 16;
constexpr std::uint32_t kFeaturePse36 = 1u << 17;
constexpr std::uint32_t kFeatureFxsr = 1u << 24;
constexpr std::uint32_t kFeatures = kFeatureFpu | kFeatureFxsr | kFeatureDe | kFeaturePse |
                                    kFeatureTsc | kFeatureMsr | kFeaturePae | kFeatureCx8 |
                                    kFeatureSep | kFeatureMtrr | kFeaturePge | kFeatureCmov |
                                    kFeaturePat | kFeaturePse36;
// CPUID.80000001h:EDX: the execute-disable bit.
constexpr std::uint32_t kExtendedFeatureNx = 1u << 20;

constexpr std::uint32_t kMaxBasicLeaf = 2;
// CPUID.2: the cache and TLB descriptors of a Pentium II (family 6, model
// 3), one round (AL = 1): 01h/02h instruction TLBs (4 KiB and 4 MiB pages),
// 03h/04h data TLBs, 08h a 16 KiB 4-way L1 instruction cache, 0Ch a 16 KiB
// 4-way L1 data cache, 43h a 512 KiB 4-way L2 (SDM Vol. 2A, Table 3-12).
constexpr std::array<std::uint32_t, 4> kCacheDescriptors = {0x03020101, 0, 0, 0x0C040843};
constexpr std::uint32_t kMaxExtendedLeaf = 0x80000004;
constexpr char kBrand[49] = "jitterbug virtual P6 processor";

std::uint32_t chars(const char* s) {
    std::uint32_t v;
    std::memcpy(&v, s, 4);
    return v;
}

}  // namespace

std::uint64_t helper_cpuid(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    CpuState& st = ctx.state;
    std::uint32_t leaf = st.reg(Gpr::Eax);
    // Leaves beyond the maximum answer as the highest basic leaf, as Intel
    // processors do (SDM Vol. 2A, CPUID).
    const bool extended = leaf >= 0x80000000u;
    if ((!extended && leaf > kMaxBasicLeaf) || (extended && leaf > kMaxExtendedLeaf)) {
        leaf = kMaxBasicLeaf;
    }
    std::array<std::uint32_t, 4> r{};  // EAX, EBX, ECX, EDX
    switch (leaf) {
        case 0:
            r = {kMaxBasicLeaf, chars("Genu"), chars("ntel"), chars("ineI")};
            break;
        case 1:
            // Family 6, model 3, stepping 3: the signature EDX holds after reset.
            r = {0x00000633, 0, 0, kFeatures};
            break;
        case 2:
            r = kCacheDescriptors;
            break;
        case 0x80000000:
            r = {kMaxExtendedLeaf, 0, 0, 0};
            break;
        case 0x80000001:
            r = {0, 0, 0, kExtendedFeatureNx};
            break;
        default: {
            const unsigned part = leaf - 0x80000002u;
            for (unsigned i = 0; i < 4; ++i)
                r[i] = chars(kBrand + part * 16 + i * 4);
            break;
        }
    }
    st.reg(Gpr::Eax) = r[0];
    st.reg(Gpr::Ebx) = r[1];
    st.reg(Gpr::Ecx) = r[2];
    st.reg(Gpr::Edx) = r[3];
    return 0;
}

std::uint64_t helper_rdtsc(CpuContext& ctx, std::uint32_t, std::uint32_t, std::uint32_t) {
    if ((ctx.state.cr4 & cr4::TSD) && ctx.state.protected_mode() && ctx.state.cpl() != 0) {
        runtime::raise_fault(ctx, vector::GP, 0);
        return 0;
    }
    const std::uint64_t tsc = time_stamp_counter(*ctx.cpu);
    ctx.state.reg(Gpr::Eax) = static_cast<std::uint32_t>(tsc);
    ctx.state.reg(Gpr::Edx) = static_cast<std::uint32_t>(tsc >> 32);
    return 0;
}

}  // namespace jitterbug::cpu
