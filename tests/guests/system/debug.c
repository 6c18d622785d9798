/* system_debug: debug exceptions (SDM chapter 17): TF single-stepping, an
 * INT n while stepping, instruction breakpoints (faults, RF to go on), data
 * write and read/write breakpoints (traps), INT3, and DR4/DR5 aliasing DR6
 * and DR7 while CR4.DE is clear. */
#include "system.h"

#define DR6_BS (1u << 14)
#define DR6_FIXED 0xFFFF0FF0u /* reserved bits read as 1 on a P6 (SDM 17.2.3) */

typedef void routine(void);
routine step_run, step_a, step_b, step_c, step_d, step_e, step_f, step_f1, step_f2, step_g,
    step_int_handler, ibp_run, ibp_target0, ibp_target1, dbp_run, dbp_after_write,
    dbp_after_partial_write, dbp_after_read, dbp_after_rw_write, int3_run, int3_after, rep_step_run,
    rep_step_movs, rep_step_after, rep_step_and, rep_step_popf, rep_step_ret, rep_watch_run,
    rep_watch_stos, rep_watch_after, io_watch_run, io_watch_after_out, io_watch_after_word, gd_run,
    gd_mov, mss_step_run, mss_site, mss_load, mss_next, mss_after, mss_and, mss_popf, mss_ret,
    mss_int_run, mss_int_handler;
extern volatile uint32_t mss_ss_value, mss_int_count;
extern volatile uint32_t watch[2], watch2[2], step_int_count, ibp_count;
extern volatile uint8_t rep_dst[4];
void write_dr5(uint32_t v);
uint32_t read_dr5(void);
void write_dr4(uint32_t v);
uint32_t read_dr4(void);

#define DEFINE_DR(n)                                               \
    static inline uint32_t read_dr##n(void) {                      \
        uint32_t v;                                                \
        __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));          \
        return v;                                                  \
    }                                                              \
    static inline void write_dr##n(uint32_t v) {                   \
        __asm__ volatile("mov %0, %%dr" #n : : "r"(v) : "memory"); \
    }
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
DEFINE_DR(7)

/* ---- the #DB hook: records EIP and DR6, clears DR6, goes on ---- */
static struct debug_event events[16];
static int event_count;

static int debug_hook(struct trap_frame* f) {
    const uint32_t dr6 = read_dr6();
    if (event_count < 16)
        events[event_count] = (struct debug_event){f->eip, dr6, f->eflags, f->ecx, 0};
    ++event_count;
    write_dr6(0);
    /* An instruction breakpoint is a fault: RF lets the instruction run
     * when it is restarted (SDM 17.3.1.1). */
    const uint32_t dr7 = read_dr7();
    for (int n = 0; n < 4; ++n) {
        if ((dr6 & (1u << n)) && ((dr7 >> (16 + 4 * n)) & 3) == 0) f->eflags |= EFLAGS_RF;
    }
    return 1;
}

static void check_event(const char* prefix, int i, routine* eip, uint32_t dr6) {
    check_debug_event(prefix, i, i < event_count ? &events[i] : 0, (const void*)eip, dr6, 0);
}

static void clear_breakpoints(void) {
    write_dr7(0);
    write_dr0(0);
    write_dr1(0);
    write_dr2(0);
    write_dr3(0);
    write_dr6(0);
}

static void check_single_step(void) {
    /* SDM 17.3.1.4: a trap after each instruction begun with TF set, none
     * after the POPF that sets it; INT n clears TF for its handler, and the
     * IRET back restores it, so the handler is not stepped and the next
     * trap comes after the instruction following the INT. DR6.BS. */
    idt_set_gate(0x41, SEL_CODE0, (uint32_t)step_int_handler, TYPE_INT_GATE32, 0);
    event_count = 0;
    check_fault("single-step-run", try_call(step_run), NO_FAULT, 0);
    const uint32_t bs = DR6_FIXED | DR6_BS;
    check_event("single-step", 0, step_b, bs);
    check_event("single-step", 1, step_c, bs);
    check_event("single-step", 2, step_d, bs);
    check_event("single-step", 3, step_f, bs);
    check_event("single-step", 4, step_f1, bs);
    check_event("single-step", 5, step_f2, bs);
    check_event("single-step", 6, step_g, bs);
    check_hex("single-step-count", (uint32_t)event_count, 7, 2);
    check_hex("single-step-int-handler-ran", step_int_count, 1, 2);
    check_hex("single-step-trap-rf", events[0].eflags & EFLAGS_RF, 0, 8);
}

static void check_instruction_breakpoints(void) {
    /* L0 and G1, R/W = 00 (execution), LEN = 00 (SDM 17.2.4): a fault with
     * EIP at the instruction, DR6.Bn; RF pushed as it was, 0 (17.3.1.1). */
    clear_breakpoints();
    write_dr0((uint32_t)ibp_target0);
    write_dr1((uint32_t)ibp_target1);
    write_dr7(0x00000009);
    event_count = 0;
    ibp_count = 0;
    check_fault("instruction-breakpoint-run", try_call(ibp_run), NO_FAULT, 0);
    clear_breakpoints();
    check_event("instruction-breakpoint", 0, ibp_target0, DR6_FIXED | 0x1);
    check_event("instruction-breakpoint", 1, ibp_target1, DR6_FIXED | 0x2);
    check_hex("instruction-breakpoint-count", (uint32_t)event_count, 2, 2);
    check_hex("instruction-breakpoint-rf-pushed", events[0].eflags & EFLAGS_RF, 0, 8);
    check_hex("instruction-breakpoint-each-ran-once", ibp_count, 2, 2);
}

static void check_data_breakpoints(void) {
    /* DR2: R/W = 01 (writes), LEN = 11 (4 bytes); DR3: R/W = 11 (reads and
     * writes), LEN = 01 (2 bytes). Traps after the access, DR6.Bn; any
     * byte of the access in the range counts (SDM 17.2.5, 17.3.1.2). */
    clear_breakpoints();
    write_dr2((uint32_t)watch);
    write_dr3((uint32_t)watch2);
    write_dr7(0x10u | 0x40u | (0x1u << 24) | (0x3u << 26) | (0x3u << 28) | (0x1u << 30));
    event_count = 0;
    check_fault("data-breakpoint-run", try_call(dbp_run), NO_FAULT, 0);
    clear_breakpoints();
    check_event("data-breakpoint", 0, dbp_after_write, DR6_FIXED | 0x4);
    check_event("data-breakpoint", 1, dbp_after_partial_write, DR6_FIXED | 0x4);
    check_event("data-breakpoint", 2, dbp_after_read, DR6_FIXED | 0x8);
    check_event("data-breakpoint", 3, dbp_after_rw_write, DR6_FIXED | 0x8);
    check_hex("data-breakpoint-count", (uint32_t)event_count, 4, 2);
    check_hex("data-breakpoint-written", watch[0], 0x02000001, 8);
}

static void check_rep_single_step(void) {
    /* A repeated string instruction single-steps by iteration: the trap
     * after each has EIP at the instruction while ECX is not 0, and RF set
     * in its image so that an instruction breakpoint there does not fault
     * again; the last iteration's trap is at the next instruction. */
    event_count = 0;
    check_fault("rep-single-step-run", try_call(rep_step_run), NO_FAULT, 0);
    const uint32_t bs = DR6_FIXED | DR6_BS;
    check_event("rep-single-step", 0, rep_step_movs, bs);
    check_event("rep-single-step", 1, rep_step_movs, bs);
    check_event("rep-single-step", 2, rep_step_movs, bs);
    check_event("rep-single-step", 3, rep_step_after, bs);
    check_event("rep-single-step", 4, rep_step_and, bs);
    check_event("rep-single-step", 5, rep_step_popf, bs);
    check_event("rep-single-step", 6, rep_step_ret, bs);
    check_hex("rep-single-step-count", (uint32_t)event_count, 7, 2);
    check_hex("rep-single-step-ecx", events[1].ecx << 16 | events[2].ecx << 8 | events[3].ecx,
              0x020100, 6);
    check_hex("rep-single-step-rf",
              (events[1].eflags & EFLAGS_RF) | (events[3].eflags & EFLAGS_RF) >> 1, EFLAGS_RF, 8);
    check_hex("rep-single-step-copied",
              rep_dst[0] | rep_dst[1] << 8 | rep_dst[2] << 16 | (uint32_t)rep_dst[3] << 24,
              0x00030201, 8);
}

static void check_rep_data_breakpoint(void) {
    /* The iteration that writes the watched dword traps, with EIP at the
     * REP STOSD and one element left (SDM 17.3.1.2); the rest follows
     * after the IRET. */
    clear_breakpoints();
    write_dr2((uint32_t)watch);
    write_dr7(0x10u | (0x1u << 24) | (0x3u << 26));
    event_count = 0;
    check_fault("rep-data-breakpoint-run", try_call(rep_watch_run), NO_FAULT, 0);
    clear_breakpoints();
    check_event("rep-data-breakpoint", 0, rep_watch_stos, DR6_FIXED | 0x4);
    check_hex("rep-data-breakpoint-count", (uint32_t)event_count, 1, 2);
    check_hex("rep-data-breakpoint-ecx-left", events[0].ecx, 1, 8);
    check_hex("rep-data-breakpoint-written", watch[1], 0x55555555, 8);
}

static void check_io_breakpoints(void) {
    /* With CR4.DE, R/W = 10 watches ports (SDM 17.2.4): a trap after the
     * IN or OUT, for any byte of it in the range. */
    write_cr4(read_cr4() | (1u << 3));
    clear_breakpoints();
    write_dr0(0x80);
    write_dr7(0x2u | (0x2u << 16));
    event_count = 0;
    check_fault("io-breakpoint-run", try_call(io_watch_run), NO_FAULT, 0);
    clear_breakpoints();
    check_event("io-breakpoint", 0, io_watch_after_out, DR6_FIXED | 0x1);
    check_event("io-breakpoint", 1, io_watch_after_word, DR6_FIXED | 0x1);
    check_hex("io-breakpoint-count", (uint32_t)event_count, 2, 2);
    /* DR4 and DR5 are reserved with CR4.DE: #UD (SDM 17.2.2). */
    exception_hooks[VEC_DB] = 0;
    check_fault("dr4-with-cr4-de", try_call((routine*)read_dr4), VEC_UD, 0);
    check_fault("dr5-with-cr4-de", try_call((routine*)read_dr5), VEC_UD, 0);
    exception_hooks[VEC_DB] = debug_hook;
    write_cr4(read_cr4() & ~(1u << 3));
}

static void check_mov_ss(void) {
    /* MOV SS holds debug exceptions off until after the next instruction
     * (SDM 6.8.3): single-stepping gives no trap after it, the next one
     * traps (DR6.BS once); a data breakpoint met by MOV SS before an INT n
     * raises #DB once the INT is delivered, at the handler's first
     * instruction (the case of CVE-2018-8897). */
    event_count = 0;
    check_fault("mov-ss-single-step-run", try_call(mss_step_run), NO_FAULT, 0);
    const uint32_t bs = DR6_FIXED | DR6_BS;
    check_event("mov-ss-single-step", 0, mss_site, bs);
    check_event("mov-ss-single-step", 1, mss_load, bs);
    check_event("mov-ss-single-step", 2, mss_after, bs);
    check_event("mov-ss-single-step", 3, mss_and, bs);
    check_event("mov-ss-single-step", 4, mss_popf, bs);
    check_event("mov-ss-single-step", 5, mss_ret, bs);
    check_hex("mov-ss-single-step-count", (uint32_t)event_count, 6, 2);

    idt_set_gate(0x42, SEL_CODE0, (uint32_t)mss_int_handler, TYPE_INT_GATE32, 0);
    clear_breakpoints();
    write_dr0((uint32_t)&mss_ss_value);
    write_dr7(0x2u | (0x3u << 16) | (0x1u << 18));
    event_count = 0;
    mss_int_count = 0;
    check_fault("mov-ss-int-run", try_call(mss_int_run), NO_FAULT, 0);
    clear_breakpoints();
    check_event("mov-ss-int-db-in-handler", 0, mss_int_handler, DR6_FIXED | 0x1);
    check_hex("mov-ss-int-db-count", (uint32_t)event_count, 1, 2);
    check_hex("mov-ss-int-handler-ran", mss_int_count, 1, 2);
}

static void check_general_detect(void) {
    /* DR7.GD: the next MOV DR is a #DB fault at that instruction, with
     * DR6.BD set and GD cleared for the handler (SDM 17.2.4). */
    exception_hooks[VEC_DB] = 0;
    check_fault_at("general-detect", try_call(gd_run), VEC_DB, 0, (const void*)gd_mov);
    exception_hooks[VEC_DB] = debug_hook;
    check_hex("general-detect-dr6-bd", read_dr6() & (1u << 13), 1u << 13, 8);
    check_hex("general-detect-gd-cleared", read_dr7() & (1u << 13), 0, 8);
    clear_breakpoints();
}

static void check_int3(void) {
    /* INT3 is a trap: EIP after it (SDM 6.15, #BP). */
    check_fault_at("int3", try_call(int3_run), VEC_BP, 0, (const void*)int3_after);
}

static void check_dr4_dr5(void) {
    /* With CR4.DE = 0, DR4 and DR5 are DR6 and DR7 (SDM 17.2.2). DR7 bit
     * 10 and the reserved DR6 bits read as 1. */
    write_cr4(read_cr4() & ~(1u << 3));
    write_dr5(0x00000100); /* LE only: no breakpoint enabled */
    check_hex("dr5-write-reads-as-dr7", read_dr7(), 0x00000500, 8);
    write_dr7(0x00000200);
    check_hex("dr5-read-is-dr7", read_dr5(), 0x00000600, 8);
    write_dr7(0);
    write_dr6(0x0000000F);
    check_hex("dr4-read-is-dr6", read_dr4(), DR6_FIXED | 0xF, 8);
    write_dr4(0);
    check_hex("dr4-write-reads-as-dr6", read_dr6(), DR6_FIXED, 8);
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    exception_hooks[VEC_DB] = debug_hook;
    clear_breakpoints();
    check_single_step();
    check_instruction_breakpoints();
    check_data_breakpoints();
    check_rep_single_step();
    check_rep_data_breakpoint();
    check_io_breakpoints();
    check_mov_ss();
    check_general_detect();
    check_int3();
    check_dr4_dr5();
    finish("system_debug");
}
