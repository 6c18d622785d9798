/* system_paging: 32-bit paging with 4 KiB and 4 MiB pages, CR0.WP, U/S and
 * R/W, #PF error codes and CR2, accessed and dirty bits, INVLPG, CR3 reloads
 * and global pages, code changed through another linear page onto its
 * frame (in the block that stores, too), PAE with NX and 2 MiB pages (SDM
 * chapter 4); SYSENTER and SYSEXIT, the SYSENTER MSRs and an unknown one,
 * RDTSC under CR4.TSD, and the CPUID feature bits of all of these. */
#include "system.h"

#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_PS 0x080u
#define PTE_G 0x100u
#define PTE_XD (1ull << 63)

#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_TSD (1u << 2)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_EFER 0xC0000080
#define EFER_NXE (1u << 11)
#define MSR_UNKNOWN 0x12345678
#define MSR_MTRRCAP 0xFE
#define MSR_MISC_ENABLE 0x1A0
#define MSR_MTRR_PHYSBASE0 0x200
#define MSR_MTRR_PHYSMASK0 0x201
#define MSR_MTRR_FIX4K_C0000 0x268
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2FF

/* PF error code bits (SDM 4.7). */
#define PF_P 0x01
#define PF_W 0x02
#define PF_U 0x04
#define PF_RSVD 0x08
#define PF_ID 0x10

/* 32-bit paging: PD[0] is a page table identity-mapping 0-4 MiB (the
 * kernel), PD[1] a 4 MiB identity page, PD[2] the test page table at 8 MiB,
 * PD[3] a 4 MiB page at 12 MiB onto physical 4 MiB, PD[4] and PD[5] a second
 * test table through a read-only and a supervisor PDE, PD[6] a 4 MiB page
 * with a reserved bit set. */
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt_low[1024] __attribute__((aligned(4096)));
static uint32_t pt_test[1024] __attribute__((aligned(4096)));
static uint32_t pt_test2[1024] __attribute__((aligned(4096)));
static uint8_t frame_a[4096] __attribute__((aligned(4096)));
static uint8_t frame_b[4096] __attribute__((aligned(4096)));
static uint8_t frame_c[4096] __attribute__((aligned(4096)));
static uint8_t code_frame_smc[4096] __attribute__((aligned(4096)));

#define LIN(pde, pte) ((uint32_t)(pde) << 22 | (uint32_t)(pte) << 12)
#define T_NP LIN(2, 0)      /* not present */
#define T_RO LIN(2, 1)      /* read-only user page onto frame_a */
#define T_SUP LIN(2, 2)     /* supervisor page onto frame_a */
#define T_AD LIN(2, 3)      /* accessed/dirty page onto frame_b */
#define T_TLB LIN(2, 4)     /* remapped between frames */
#define T_GLOBAL LIN(2, 5)  /* a global page, remapped */
#define T_BIG LIN(3, 0)     /* 4 MiB page onto physical 4 MiB */
#define T_PDE_RO LIN(4, 0)  /* writable PTE under a read-only PDE */
#define T_PDE_SUP LIN(5, 0) /* user PTE under a supervisor PDE */
#define T_RSVD LIN(6, 0)    /* 4 MiB PDE with bit 21 set */
#define T_CODE LIN(2, 6)    /* onto code_frame_smc */
#define T_ALIAS LIN(2, 7)   /* the same frame again */
#define PHYS_4M 0x00400000u

#define PEEK(a) (*(volatile uint32_t*)(a))

static void* fault_site;
static volatile uint32_t sink;

/* ---- the operations the checks run (through try_call or try_user) ---- */
static void read_np(void) { sink = PEEK(T_NP); }
static void write_np(void) { PEEK(T_NP) = 1; }
static void write_ro(void) { PEEK(T_RO) = 0x0B0B0B0B; }
static void write_pde_ro(void) { PEEK(T_PDE_RO) = 0x0C0C0C0C; }
static void read_rsvd(void) { sink = PEEK(T_RSVD); }
static void user_read_sup(void) {
    sink = PEEK(T_SUP);
    user_return();
}
static void user_write_ro(void) {
    PEEK(T_RO) = 1;
    user_return();
}
static void user_read_np(void) {
    sink = PEEK(T_NP);
    user_return();
}
static void user_read_ro(void) {
    sink = PEEK(T_RO);
    user_return();
}
static void user_write_pde_ro(void) {
    PEEK(T_PDE_RO) = 1;
    user_return();
}
static void user_read_pde_sup(void) {
    sink = PEEK(T_PDE_SUP);
    user_return();
}

static void flush_tlb(void) { write_cr3(read_cr3()); }

/* ---- CPUID ---- */
static void check_cpuid(void) {
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    /* PSE, TSC, MSR, PAE, CX8, SEP, PGE, CMOV (SDM Vol. 2A, Table 3-11). */
    const uint32_t mask =
        1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 11 | 1u << 13 | 1u << 15;
    check_hex("cpuid-1-edx-masked", d & mask, mask, 8);
    cpuid(0x80000000, &a, &b, &c, &d);
    uint32_t nx = 0;
    if (a >= 0x80000001) {
        cpuid(0x80000001, &a, &b, &c, &d);
        nx = d & (1u << 20);
    }
    check_flag("cpuid-80000001-edx-nx", nx, 1);
}

/* ---- MSRs, SYSENTER/SYSEXIT, RDTSC ---- */
extern volatile uint32_t sysexit_seen[3], sysenter_seen[4];
void sysexit_round_trip(void);
void sysenter_entry(void);
void do_sysenter(void);
void do_sysexit(void);

static volatile uint32_t msr_lo, msr_hi;
static void rdmsr_unknown(void) {
    const uint64_t v = rdmsr(MSR_UNKNOWN);
    msr_lo = (uint32_t)v;
    msr_hi = (uint32_t)(v >> 32);
}
static void wrmsr_unknown(void) { wrmsr(MSR_UNKNOWN, 0); }
/* Memory type 2 is reserved (SDM Vol. 3A, 11.11 and 11.12.2). */
static void wrmsr_pat_reserved_type(void) { wrmsr(MSR_PAT, 0x0007040600070402ull); }
static void wrmsr_mtrr_reserved_type(void) { wrmsr(MSR_MTRR_DEF_TYPE, 0x802); }
static void wrmsr_mtrr_mask_reserved_bits(void) { wrmsr(MSR_MTRR_PHYSMASK0, 0x1); }
static void user_rdmsr(void) {
    msr_lo = (uint32_t)rdmsr(MSR_SYSENTER_CS);
    user_return();
}
static void user_wrmsr(void) {
    wrmsr(MSR_SYSENTER_CS, SEL_CODE0);
    user_return();
}
static void set_sysenter_cs_zero(void) {
    wrmsr(MSR_SYSENTER_CS, 0);
    do_sysenter();
}
static void user_sysexit(void) { do_sysexit(); }

/* Two reads of the TSC around a short loop: it must have moved on. */
static volatile uint32_t tsc_a, tsc_b, spin;
static void read_tsc_twice(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    tsc_a = lo;
    for (spin = 0; spin < 100; ++spin) {}
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    tsc_b = lo;
}
static void user_rdtsc(void) {
    read_tsc_twice();
    user_return();
}

static void check_msrs(void) {
    wrmsr(MSR_SYSENTER_CS, SEL_CODE0);
    wrmsr(MSR_SYSENTER_ESP, (uint32_t)kernel_stack_top);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
    check_hex("rdmsr-sysenter-cs", (uint32_t)rdmsr(MSR_SYSENTER_CS), SEL_CODE0, 8);
    check_flag("rdmsr-sysenter-esp", rdmsr(MSR_SYSENTER_ESP) == (uint32_t)kernel_stack_top, 1);
    check_flag("rdmsr-sysenter-eip", rdmsr(MSR_SYSENTER_EIP) == (uint32_t)sysenter_entry, 1);
    /* SDM Vol. 2B RDMSR/WRMSR: an unimplemented MSR is #GP(0). QEMU's TCG
     * reads such an MSR as 0 and ignores writes to it; the SDM wins. */
    check_fault("rdmsr-unknown", try_call(rdmsr_unknown), VEC_GP, 0);
    check_fault("wrmsr-unknown", try_call(wrmsr_unknown), VEC_GP, 0);
    /* The memory-type MSRs a kernel programs (SDM Vol. 3A, 11.11-11.12):
     * they keep what is written and refuse reserved types and bits. */
    const uint64_t cap = rdmsr(MSR_MTRRCAP);
    check_hex("mtrrcap-variable-ranges-fixed-wc", (uint32_t)cap & 0x5FF, 0x508, 3);
    wrmsr(MSR_PAT, 0x0007010600070106ull);
    check_flag("pat-reads-back", rdmsr(MSR_PAT) == 0x0007010600070106ull, 1);
    check_fault("pat-reserved-type", try_call(wrmsr_pat_reserved_type), VEC_GP, 0);
    wrmsr(MSR_MTRR_PHYSBASE0, 0x00000006);
    wrmsr(MSR_MTRR_PHYSMASK0, 0xFF0000800ull);
    check_flag("mtrr-variable-reads-back",
               rdmsr(MSR_MTRR_PHYSBASE0) == 6 && rdmsr(MSR_MTRR_PHYSMASK0) == 0xFF0000800ull, 1);
    wrmsr(MSR_MTRR_FIX4K_C0000, 0x0505050505050505ull);
    check_flag("mtrr-fixed-reads-back", rdmsr(MSR_MTRR_FIX4K_C0000) == 0x0505050505050505ull, 1);
    wrmsr(MSR_MTRR_DEF_TYPE, 0xC06);
    check_hex("mtrr-def-type-reads-back", (uint32_t)rdmsr(MSR_MTRR_DEF_TYPE), 0xC06, 3);
    check_fault("mtrr-def-type-reserved-type", try_call(wrmsr_mtrr_reserved_type), VEC_GP, 0);
    check_fault("mtrr-mask-reserved-bits", try_call(wrmsr_mtrr_mask_reserved_bits), VEC_GP, 0);
    wrmsr(MSR_MISC_ENABLE, rdmsr(MSR_MISC_ENABLE));
    check_hex("misc-enable-fast-strings", (uint32_t)rdmsr(MSR_MISC_ENABLE) & 1, 1, 1);
    check_fault("rdmsr-ring3", try_user(user_rdmsr, 2), VEC_GP, 0);
    check_fault("wrmsr-ring3", try_user(user_wrmsr, 2), VEC_GP, 0);

    /* SYSEXIT to ring 3 (CS = SYSENTER_CS + 16 | 3, SS = + 24 | 3, EIP = EDX,
     * ESP = ECX), SYSENTER back (CS = SYSENTER_CS, SS = + 8, ESP and EIP
     * from the MSRs; IF, VM and RF cleared). SDM Vol. 2B SYSENTER/SYSEXIT. */
    check_fault("sysexit-sysenter", try_call(sysexit_round_trip), NO_FAULT, 0);
    check_hex("sysexit-cs", sysexit_seen[0], SEL_CODE3, 4);
    check_hex("sysexit-ss", sysexit_seen[1], SEL_DATA3, 4);
    check_flag("sysexit-esp-is-ecx", sysexit_seen[2] == (uint32_t)user_stack_top, 1);
    check_hex("sysenter-cs", sysenter_seen[0], SEL_CODE0, 4);
    check_hex("sysenter-ss", sysenter_seen[1], SEL_DATA0, 4);
    check_flag("sysenter-esp-is-msr", sysenter_seen[2] == (uint32_t)kernel_stack_top, 1);
    check_hex("sysenter-eflags", sysenter_seen[3], 0x00000002, 8);
    check_fault("sysexit-ring3", try_user(user_sysexit, 2), VEC_GP, 0);
    check_fault("sysenter-cs-null", try_call(set_sysenter_cs_zero), VEC_GP, 0);
    wrmsr(MSR_SYSENTER_CS, SEL_CODE0);

    /* RDTSC: CR4.TSD makes it privileged (SDM Vol. 2B RDTSC). */
    write_cr4(read_cr4() & ~CR4_TSD);
    check_fault("rdtsc-ring3-tsd0", try_user(user_rdtsc, 2), NO_FAULT, 0);
    check_flag("rdtsc-advances", tsc_b != tsc_a, 1);
    write_cr4(read_cr4() | CR4_TSD);
    check_fault("rdtsc-ring3-tsd1", try_user(user_rdtsc, 2), VEC_GP, 0);
    check_fault("rdtsc-ring0-tsd1", try_call(read_tsc_twice), NO_FAULT, 0);
    write_cr4(read_cr4() & ~CR4_TSD);
}

/* ---- 32-bit paging ---- */
static void build_tables(void) {
    for (uint32_t i = 0; i < 1024; ++i)
        pt_low[i] = i << 12 | PTE_P | PTE_RW | PTE_US;
    pd[0] = (uint32_t)pt_low | PTE_P | PTE_RW | PTE_US;
    pd[1] = PHYS_4M | PTE_PS | PTE_P | PTE_RW | PTE_US;
    pd[2] = (uint32_t)pt_test | PTE_P | PTE_RW | PTE_US;
    pd[3] = PHYS_4M | PTE_PS | PTE_P | PTE_RW | PTE_US;
    pd[4] = (uint32_t)pt_test2 | PTE_P | PTE_US;
    pd[5] = (uint32_t)pt_test2 | PTE_P | PTE_RW;
    pd[6] = PHYS_4M | 1u << 21 | PTE_PS | PTE_P | PTE_RW | PTE_US;
    pt_test[1] = (uint32_t)frame_a | PTE_P | PTE_US;
    pt_test[2] = (uint32_t)frame_a | PTE_P | PTE_RW;
    pt_test[3] = (uint32_t)frame_b | PTE_P | PTE_RW | PTE_US;
    pt_test[4] = (uint32_t)frame_a | PTE_P | PTE_RW | PTE_US;
    pt_test[5] = (uint32_t)frame_a | PTE_P | PTE_RW | PTE_US | PTE_G;
    pt_test2[0] = (uint32_t)frame_c | PTE_P | PTE_RW | PTE_US;
    pt_test[6] = (uint32_t)code_frame_smc | PTE_P | PTE_RW;
    pt_test[7] = (uint32_t)code_frame_smc | PTE_P | PTE_RW;
    PEEK(frame_a) = 0xAAAA0000;
    PEEK(frame_b) = 0xBBBB0000;
    PEEK(frame_c) = 0xCCCC0000;
    PEEK(PHYS_4M + 0x1234) = 0x4444AAAA;
}

/* Code run at T_CODE and changed through T_ALIAS, another linear page onto
 * the same frame: what runs next is what was stored, whichever page the
 * store went through, also when it changes the block that stores. */
typedef uint32_t code_fn(void);
static void put32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        p[i] = (uint8_t)(v >> (8 * i));
}
/* At `at`: MOV BYTE [target], value; MOV AL, 0; MOVZX EAX, AL; RET, where
 * the store's target is the MOV AL's immediate through linear page `via`. */
static void write_patching_block(uint32_t at, uint32_t via, uint8_t value) {
    uint8_t* p = code_frame_smc + at;
    p[0] = 0xC6;
    p[1] = 0x05;
    put32(p + 2, via + at + 8);
    p[6] = value;
    p[7] = 0xB0; /* MOV AL, imm8 (the immediate at at + 8) */
    p[8] = 0x00;
    p[9] = 0x0F; /* MOVZX EAX, AL */
    p[10] = 0xB6;
    p[11] = 0xC0;
    p[12] = 0xC3;
}

static void check_self_modifying_code(void) {
    uint8_t* p = code_frame_smc;
    p[0] = 0xB8; /* MOV EAX, imm32; RET */
    put32(p + 1, 0x11111111);
    p[5] = 0xC3;
    code_fn* fn = (code_fn*)T_CODE;
    check_hex("smc-first-run", fn(), 0x11111111, 8);
    PEEK(T_ALIAS + 1) = 0x22222222;
    check_hex("smc-store-through-alias-page", fn(), 0x22222222, 8);
    PEEK(T_CODE + 1) = 0x33333333;
    check_hex("smc-store-through-same-page", fn(), 0x33333333, 8);

    write_patching_block(0x100, T_CODE, 0x44);
    check_hex("smc-same-block", ((code_fn*)(T_CODE + 0x100))(), 0x44, 2);
    write_patching_block(0x200, T_ALIAS, 0x55);
    check_hex("smc-same-block-through-alias", ((code_fn*)(T_CODE + 0x200))(), 0x55, 2);
    /* Run again: the patched immediate is now in memory from the start. */
    PEEK(T_ALIAS + 0x200 + 6) = 0x66; /* the value the block stores */
    check_hex("smc-same-block-again", ((code_fn*)(T_CODE + 0x200))(), 0x66, 2);
}

static void check_32bit_paging(void) {
    build_tables();
    write_cr3((uint32_t)pd);
    write_cr4(read_cr4() | CR4_PSE);
    write_cr0(read_cr0() | CR0_PG);

    check_hex("pse-4m-read", PEEK(T_BIG + 0x1234), 0x4444AAAA, 8);
    check_hex("4k-read", PEEK(T_RO), 0xAAAA0000, 8);

    /* Error codes: P = protection (not not-present), W = write, U = CPL 3
     * (SDM 4.7); CR2 holds the linear address. */
    check_fault("pf-read-not-present", try_call(read_np), VEC_PF, 0);
    check_flag("pf-cr2", last_fault.cr2 == T_NP, 1);
    check_fault("pf-write-not-present", try_call(write_np), VEC_PF, PF_W);
    check_fault("pf-user-read-not-present", try_user(user_read_np, 2), VEC_PF, PF_U);
    check_fault("pf-user-read-supervisor", try_user(user_read_sup, 2), VEC_PF, PF_P | PF_U);
    check_fault("pf-user-write-read-only", try_user(user_write_ro, 2), VEC_PF, PF_P | PF_W | PF_U);
    check_fault("user-read-read-only", try_user(user_read_ro, 2), NO_FAULT, 0);
    /* The rights of a PDE and a PTE combine: the stricter wins (SDM 4.6.1). */
    check_fault("pf-user-write-pde-read-only", try_user(user_write_pde_ro, 2), VEC_PF,
                PF_P | PF_W | PF_U);
    check_fault("pf-user-read-pde-supervisor", try_user(user_read_pde_sup, 2), VEC_PF, PF_P | PF_U);

    /* CR0.WP = 0: supervisor writes ignore R/W (SDM 4.6.1). */
    write_cr0(read_cr0() & ~CR0_WP);
    check_fault("wp0-supervisor-write-read-only", try_call(write_ro), NO_FAULT, 0);
    check_hex("wp0-written", PEEK(frame_a), 0x0B0B0B0B, 8);
    check_fault("wp0-supervisor-write-pde-read-only", try_call(write_pde_ro), NO_FAULT, 0);
    check_hex("wp0-pde-written", PEEK(frame_c), 0x0C0C0C0C, 8);
    write_cr0(read_cr0() | CR0_WP);
    PEEK(frame_a) = 0xAAAA0000;
    check_fault("wp1-supervisor-write-read-only", try_call(write_ro), VEC_PF, PF_P | PF_W);
    check_fault("wp1-supervisor-write-pde-read-only", try_call(write_pde_ro), VEC_PF, PF_P | PF_W);
    check_hex("wp1-not-written", PEEK(frame_a), 0xAAAA0000, 8);

    /* A reserved bit (bit 21 of a 4 MiB PDE, SDM Table 4-5) is RSVD. */
    /* (QEMU 7.2 reports RSVD without P; the SDM says RSVD comes only with
     * P = 1, since reserved bits are checked only in present entries.) */
    check_fault("pf-reserved-bit-4m-pde", try_call(read_rsvd), VEC_PF, PF_P | PF_RSVD);
    check_flag("pf-reserved-cr2", last_fault.cr2 == T_RSVD, 1);

    /* Instruction fetches: no I/D bit in 32-bit paging (SDM 4.7). */
    fault_site = (void*)T_NP;
    check_fault_at("pf-fetch-not-present", try_call((void (*)(void))T_NP), VEC_PF, 0, fault_site);

    /* Accessed and dirty bits (SDM 4.8): a read sets A in the PDE and PTE, a
     * write sets D in the PTE (never in a PDE that references a table); a
     * 4 MiB PDE gets A and D itself. */
    pd[2] &= ~PTE_A;
    pt_test[3] &= ~(PTE_A | PTE_D);
    pd[3] &= ~(PTE_A | PTE_D);
    flush_tlb();
    sink = PEEK(T_AD);
    check_hex("ad-read-pte", pt_test[3] & 0xFFF, PTE_P | PTE_RW | PTE_US | PTE_A, 3);
    check_hex("ad-read-pde", pd[2] & 0xFFF, PTE_P | PTE_RW | PTE_US | PTE_A, 3);
    PEEK(T_AD) = 0xBBBB1111;
    check_hex("ad-write-pte", pt_test[3] & 0xFFF, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, 3);
    check_hex("ad-write-pde", pd[2] & 0xFFF, PTE_P | PTE_RW | PTE_US | PTE_A, 3);
    sink = PEEK(T_BIG);
    check_hex("ad-read-4m-pde", pd[3] & 0xFFF, PTE_PS | PTE_P | PTE_RW | PTE_US | PTE_A, 3);
    PEEK(T_BIG) = 1;
    check_hex("ad-write-4m-pde", pd[3] & 0xFFF, PTE_PS | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D,
              3);

    /* The TLB: after INVLPG, or a CR3 load for a non-global page, the new
     * PTE is used (SDM 4.10.4). What a stale entry gives before that is not
     * architectural, so it is not looked at. */
    check_hex("tlb-first", PEEK(T_TLB), 0xAAAA0000, 8);
    pt_test[4] = (uint32_t)frame_b | PTE_P | PTE_RW | PTE_US;
    invlpg((void*)T_TLB);
    check_hex("tlb-after-invlpg", PEEK(T_TLB), 0xBBBB1111, 8);
    pt_test[4] = (uint32_t)frame_c | PTE_P | PTE_RW | PTE_US;
    flush_tlb();
    check_hex("tlb-after-cr3-load", PEEK(T_TLB), 0x0C0C0C0C, 8);

    /* Global pages: INVLPG flushes them too, and so does a CR4.PGE toggle;
     * whether a CR3 load keeps one is up to the TLB, so it is not checked. */
    write_cr4(read_cr4() | CR4_PGE);
    check_hex("global-first", PEEK(T_GLOBAL), 0xAAAA0000, 8);
    pt_test[5] = (uint32_t)frame_b | PTE_P | PTE_RW | PTE_US | PTE_G;
    invlpg((void*)T_GLOBAL);
    check_hex("global-after-invlpg", PEEK(T_GLOBAL), 0xBBBB1111, 8);
    pt_test[5] = (uint32_t)frame_c | PTE_P | PTE_RW | PTE_US | PTE_G;
    write_cr4(read_cr4() & ~CR4_PGE);
    write_cr4(read_cr4() | CR4_PGE);
    check_hex("global-after-pge-toggle", PEEK(T_GLOBAL), 0x0C0C0C0C, 8);
    write_cr4(read_cr4() & ~CR4_PGE);

    check_self_modifying_code();

    write_cr0(read_cr0() & ~CR0_PG);
    write_cr4(read_cr4() & ~CR4_PSE);
}

/* ---- PAE paging with NX ---- */
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd[512] __attribute__((aligned(4096)));
static uint64_t pae_pt[512] __attribute__((aligned(4096)));
static uint8_t code_frame[4096] __attribute__((aligned(4096)));

#define P_XD_CODE 0x00800000u /* 4 KiB, XD, onto code_frame */
#define P_NP 0x00801000u      /* not present */
#define P_CODE 0x00802000u    /* 4 KiB, executable, onto code_frame */
#define P_BIG 0x00A00000u     /* 2 MiB onto physical 4 MiB */
#define P_BIG_XD 0x00C00000u  /* 2 MiB, XD, onto physical 4 MiB */

static void read_xd_page(void) { sink = PEEK(P_XD_CODE); }
static void user_fetch_xd(void) { ((void (*)(void))P_XD_CODE)(); }

static void check_pae_paging(void) {
    pdpt[0] = (uint32_t)pae_pd | PTE_P; /* PDPTEs have no R/W or U/S (SDM 4.4.1) */
    for (uint32_t i = 0; i < 4; ++i)
        pae_pd[i] = (uint64_t)i << 21 | PTE_PS | PTE_P | PTE_RW | PTE_US;
    pae_pd[4] = (uint32_t)pae_pt | PTE_P | PTE_RW | PTE_US;
    pae_pd[5] = PHYS_4M | PTE_PS | PTE_P | PTE_RW | PTE_US;
    pae_pd[6] = PHYS_4M | PTE_PS | PTE_P | PTE_RW | PTE_US | PTE_XD;
    pae_pt[0] = (uint32_t)code_frame | PTE_P | PTE_RW | PTE_US | PTE_XD;
    pae_pt[2] = (uint32_t)code_frame | PTE_P | PTE_RW | PTE_US;
    code_frame[0] = 0xC3; /* RET */
    *(volatile uint8_t*)PHYS_4M = 0xC3;
    PEEK(PHYS_4M + 0x1234) = 0x2222AAAA;

    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    write_cr3((uint32_t)pdpt);
    write_cr4(read_cr4() | CR4_PAE);
    write_cr0(read_cr0() | CR0_PG);

    check_hex("pae-2m-read", PEEK(P_BIG + 0x1234), 0x2222AAAA, 8);
    check_fault("pae-read-xd-page", try_call(read_xd_page), NO_FAULT, 0);
    check_fault("pae-fetch-executable-page", try_call((void (*)(void))P_CODE), NO_FAULT, 0);
    /* I/D is set for fetches with PAE and EFER.NXE (SDM 4.7). */
    fault_site = (void*)P_XD_CODE;
    check_fault_at("pae-fetch-xd-4k", try_call((void (*)(void))P_XD_CODE), VEC_PF, PF_P | PF_ID,
                   fault_site);
    check_flag("pae-fetch-xd-cr2", last_fault.cr2 == P_XD_CODE, 1);
    check_fault("pae-fetch-xd-2m", try_call((void (*)(void))P_BIG_XD), VEC_PF, PF_P | PF_ID);
    check_fault("pae-fetch-not-present", try_call((void (*)(void))P_NP), VEC_PF, PF_ID);
    check_fault("pae-user-fetch-xd", try_user(user_fetch_xd, 2), VEC_PF, PF_P | PF_U | PF_ID);
    check_hex("pae-ad-2m-pde", (uint32_t)pae_pd[5] & 0xFFF,
              PTE_PS | PTE_P | PTE_RW | PTE_US | PTE_A, 3);

    /* With EFER.NXE = 0 the XD bit is reserved (SDM 4.4.2): RSVD, and P
     * (QEMU 7.2 again leaves P clear). */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
    flush_tlb();
    check_fault("pae-xd-reserved-without-nxe", try_call(read_xd_page), VEC_PF, PF_P | PF_RSVD);

    write_cr0(read_cr0() & ~CR0_PG);
    write_cr4(read_cr4() & ~CR4_PAE);
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    check_cpuid();
    check_msrs();
    check_32bit_paging();
    check_pae_paging();
    finish("system_paging");
}
