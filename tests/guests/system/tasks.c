/* system_tasks: hardware task switching (SDM chapter 7): LTR and the busy
 * bit, JMP to a TSS (state saved into the old TSS, registers, CR3 and LDTR
 * loaded from the new one), CALL through a task gate (NT, back link) and
 * IRET back, the faults of switches to busy, short and absent TSSes, and IDT
 * task gates: the classic double fault on a stack overflow, and INT n. */
#include "system.h"

enum {
    G_TSS_B = 6,
    G_TSS_C,
    G_GATE_C,
    G_LDT_B,
    G_TSS_DF,
    G_TSS_INT,
    G_TSS_SHORT,
    G_TSS_NP,
    G_TSS_S
};
#define SEL(index) ((uint16_t)((index) << 3))
#define VEC_TASK_INT 0x40
#define CR0_TS (1u << 3)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define PDE_4M 0x83u /* P, R/W, PS */

/* ---- the assembly side (tasks.asm) ---- */
typedef void routine(void);
extern volatile uint32_t a_regs[7], b_regs[8], b_seen[8], c_seen[5], df_seen[5], int_seen[3];
routine task_jmp_to_b, task_a_resumed, task_b_entry, task_b_after_jmp, task_call_c, task_c_entry,
    task_iret_nt, jmp_busy_tss, call_busy_tss, jmp_short_tss, jmp_absent_tss, ltr_busy,
    stack_overflow, task_df_entry, task_int, task_int_entry, step_call_s, step_back, step_and,
    step_popf, step_ret, call_s, task_s_entry, task_s_resume;
volatile uint32_t s_runs, s_seen;

static struct tss tss_b __attribute__((aligned(128)));
static struct tss tss_c __attribute__((aligned(128)));
static struct tss tss_df __attribute__((aligned(128)));
static struct tss tss_int __attribute__((aligned(128)));
static struct tss tss_short __attribute__((aligned(128)));
static uint64_t ldt_b[2] __attribute__((aligned(8)));
static uint32_t ldt_data[1024] __attribute__((aligned(4096)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static uint8_t stack_c[4096] __attribute__((aligned(16)));
static uint8_t stack_df[4096] __attribute__((aligned(16)));
static uint8_t stack_int[4096] __attribute__((aligned(16)));
static struct tss tss_s __attribute__((aligned(128)));
static uint8_t stack_s[4096] __attribute__((aligned(16)));

/* Page directories of tasks A and B: the same 16 MiB of 4 MiB identity
 * pages, except that 4-8 MiB goes through a table with a not-present guard
 * page at 4 MiB, and that B sees physical 12 MiB at 8 MiB. */
static uint32_t pd_a[1024] __attribute__((aligned(4096)));
static uint32_t pd_b[1024] __attribute__((aligned(4096)));
static uint32_t pt_guard[1024] __attribute__((aligned(4096)));
#define MARK_A 0xAAAA8000u
#define MARK_B 0xBBBBC000u
#define MARK_LDT 0x1D7D47Au

static void build_paging(void) {
    for (uint32_t i = 0; i < 4; ++i)
        pd_a[i] = pd_b[i] = i << 22 | PDE_4M;
    for (uint32_t i = 1; i < 1024; ++i)
        pt_guard[i] = (0x00400000u + (i << 12)) | 0x3;
    pd_a[1] = pd_b[1] = (uint32_t)pt_guard | 0x3;
    pd_b[2] = 0x00C00000u | PDE_4M;
    *(volatile uint32_t*)0x00800000 = MARK_A;
    *(volatile uint32_t*)0x00C00000 = MARK_B;
    write_cr3((uint32_t)pd_a);
    write_cr4(read_cr4() | CR4_PSE);
    write_cr0(read_cr0() | CR0_PG);
}

static void init_task(struct tss* t, routine* entry, uint8_t* stack, uint32_t cr3) {
    memset(t, 0, sizeof *t);
    t->eip = (uint32_t)entry;
    t->esp = (uint32_t)stack + 4096;
    t->eflags = 2;
    t->cs = SEL_CODE0;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA0;
    t->cr3 = cr3;
    t->iomap_base = sizeof(struct tss); /* beyond the limit: no bit map */
}

static void build_tasks(void) {
    main_tss.tss.cr3 = (uint32_t)pd_a; /* CR3 is loaded, never saved (SDM 7.2.1) */

    init_task(&tss_b, task_b_entry, stack_b, (uint32_t)pd_b);
    tss_b.eax = 0xB0B0B0B0;
    tss_b.ebx = 0xB1B1B1B1;
    tss_b.ecx = 0xB2B2B2B2;
    tss_b.edx = 0xB3B3B3B3;
    tss_b.esi = 0xB4B4B4B4;
    tss_b.edi = 0xB5B5B5B5;
    tss_b.ebp = 0xB6B6B6B6;
    tss_b.ldt = SEL(G_LDT_B);
    tss_b.link = 0xBEEF; /* a JMP leaves it alone */
    ldt_data[0] = MARK_LDT;
    ldt_b[0] = segment_descriptor((uint32_t)ldt_data, 0xFFF,
                                  ACC_P | ACC_S | ACC_WRITABLE | ACC_ACCESSED, FLAG_DB);
    gdt_set_system(G_LDT_B, (uint32_t)ldt_b, sizeof ldt_b - 1, TYPE_LDT, 0);
    gdt_set_system(G_TSS_B, (uint32_t)&tss_b, sizeof tss_b - 1, TYPE_TSS32, 0);

    init_task(&tss_c, task_c_entry, stack_c, (uint32_t)pd_a);
    gdt_set_system(G_TSS_C, (uint32_t)&tss_c, sizeof tss_c - 1, TYPE_TSS32, 0);
    gdt_set_gate(G_GATE_C, SEL(G_TSS_C), 0, TYPE_TASK_GATE, 0, 0);

    init_task(&tss_df, task_df_entry, stack_df, (uint32_t)pd_a);
    gdt_set_system(G_TSS_DF, (uint32_t)&tss_df, sizeof tss_df - 1, TYPE_TSS32, 0);
    init_task(&tss_int, task_int_entry, stack_int, (uint32_t)pd_a);
    gdt_set_system(G_TSS_INT, (uint32_t)&tss_int, sizeof tss_int - 1, TYPE_TSS32, 0);
    idt_set_gate(VEC_TASK_INT, SEL(G_TSS_INT), 0, TYPE_TASK_GATE, 0);

    init_task(&tss_short, task_int_entry, stack_int, (uint32_t)pd_a);
    gdt_set_system(G_TSS_SHORT, (uint32_t)&tss_short, 0x66, TYPE_TSS32, 0);
    gdt_set_system(G_TSS_NP, (uint32_t)&tss_short, sizeof tss_short - 1, TYPE_TSS32, 0);
    gdt[G_TSS_NP] &= ~(1ull << 47); /* not present */
}

static uint32_t access_of(int index) { return gdt_access(index); }

static void clear_ts(void) { __asm__ volatile("clts"); }

static void check_ltr(void) {
    /* LTR marks the TSS busy (SDM Vol. 2A LTR); loading a busy one is
     * #GP(selector). */
    check_hex("ltr-tr", read_tr(), SEL_TSS, 4);
    check_hex("ltr-sets-busy", access_of(SEL_TSS >> 3), 0x8B, 2);
    check_fault("ltr-busy-tss", try_call(ltr_busy), VEC_GP, SEL_TSS);
}

static void check_jmp(void) {
    /* SDM 7.3: a JMP saves the state into the old TSS, clears its busy bit,
     * sets the new one's, loads TR, LDTR, CR3 and the registers from the new
     * TSS, sets CR0.TS, and neither sets NT nor writes the back link. */
    check_fault("jmp-tss", try_call(task_jmp_to_b), NO_FAULT, 0);
    static const uint32_t b_want[7] = {0xB0B0B0B0, 0xB1B1B1B1, 0xB2B2B2B2, 0xB3B3B3B3,
                                       0xB4B4B4B4, 0xB5B5B5B5, 0xB6B6B6B6};
    static const char* const b_names[7] = {"task-b-eax", "task-b-ebx", "task-b-ecx", "task-b-edx",
                                           "task-b-esi", "task-b-edi", "task-b-ebp"};
    for (int i = 0; i < 7; ++i)
        check_hex(b_names[i], b_regs[i], b_want[i], 8);
    check_flag("task-b-esp", b_regs[7] == (uint32_t)stack_b + 4096, 1);
    check_hex("task-b-tr", b_seen[0] & 0xFFFF, SEL(G_TSS_B), 4);
    check_hex("task-b-ldtr", b_seen[1] & 0xFFFF, SEL(G_LDT_B), 4);
    check_flag("task-b-cr3", b_seen[2] == (uint32_t)pd_b, 1);
    check_hex("task-b-eflags", b_seen[3], 0x00000002, 8);
    check_hex("task-b-sees-its-cr3", b_seen[4], MARK_B, 8);
    check_hex("task-b-sees-its-ldt", b_seen[5], MARK_LDT, 8);
    check_hex("task-b-old-tss-not-busy", b_seen[6], 0x89, 2);
    check_hex("task-b-new-tss-busy", b_seen[7], 0x8B, 2);
    check_hex("task-b-back-link-untouched", tss_b.link, 0xBEEF, 4);

    static const uint32_t a_want[6] = {0xA0A0A0A0, 0xA1A1A1A1, 0xA2A2A2A2,
                                       0xA3A3A3A3, 0xA4A4A4A4, 0xA5A5A5A5};
    static const char* const a_names[6] = {"task-a-eax-restored", "task-a-ebx-restored",
                                           "task-a-ecx-restored", "task-a-edx-restored",
                                           "task-a-esi-restored", "task-a-edi-restored"};
    for (int i = 0; i < 6; ++i)
        check_hex(a_names[i], a_regs[i], a_want[i], 8);
    check_flag("task-a-tss-eip", main_tss.tss.eip == (uint32_t)task_a_resumed, 1);
    check_hex("task-a-tss-eax", main_tss.tss.eax, 0xA0A0A0A0, 8);
    check_flag("task-b-tss-eip", tss_b.eip == (uint32_t)task_b_after_jmp, 1);
    check_hex("task-b-tss-eax", tss_b.eax, 0xB1B1B1B1, 8);
    check_hex("task-b-tss-es", tss_b.es, 0x0004, 4);
    check_hex("task-a-busy-again", access_of(SEL_TSS >> 3), 0x8B, 2);
    check_hex("task-b-not-busy-again", access_of(G_TSS_B), 0x89, 2);
    check_hex("task-a-tr-again", read_tr(), SEL_TSS, 4);
    check_hex("task-a-sees-its-cr3", *(volatile uint32_t*)0x00800000, MARK_A, 8);
    check_flag("task-switch-sets-cr0-ts", read_cr0() & CR0_TS, 1);
    clear_ts();
}

static void check_call_and_iret(void) {
    /* SDM 7.3-7.4: a CALL (here through a task gate) keeps the old task
     * busy, sets NT in the new task and its back link; IRET with NT set
     * returns to the back-linked task, clearing the busy bit of the task it
     * leaves and the NT flag in that task's saved EFLAGS. */
    check_fault("call-task-gate", try_call(task_call_c), NO_FAULT, 0);
    check_hex("task-c-tr", c_seen[0] & 0xFFFF, SEL(G_TSS_C), 4);
    check_hex("task-c-eflags-nt", c_seen[1], 0x00004002, 8);
    check_hex("task-c-back-link", tss_c.link, SEL_TSS, 4);
    check_hex("task-c-caller-still-busy", c_seen[2], 0x8B, 2);
    check_hex("task-c-busy", c_seen[3], 0x8B, 2);
    check_flag("task-c-esp", c_seen[4] == (uint32_t)stack_c + 4096, 1);
    check_hex("iret-task-c-not-busy", access_of(G_TSS_C), 0x89, 2);
    check_hex("iret-task-c-saved-eflags", tss_c.eflags, 0x00000002, 8);
    check_hex("iret-task-a-busy", access_of(SEL_TSS >> 3), 0x8B, 2);
    check_hex("iret-task-a-tr", read_tr(), SEL_TSS, 4);
    clear_ts();

    /* IRET with NT set to a back link whose TSS is not busy: #TS(link), in
     * the context of the current task (SDM Vol. 2A IRET). */
    main_tss.tss.link = SEL(G_TSS_B);
    check_fault("iret-nt-to-available-tss", try_call(task_iret_nt), VEC_TS, SEL(G_TSS_B));
    main_tss.tss.link = 0;
    check_hex("iret-nt-fault-tr", read_tr(), SEL_TSS, 4);
}

static void check_bad_switches(void) {
    /* SDM 7.3, Table 7-1 and Vol. 2A JMP/CALL: a busy TSS is #GP(selector),
     * an absent one #NP(selector), a limit below 67H #TS(selector). */
    check_fault("jmp-busy-tss", try_call(jmp_busy_tss), VEC_GP, SEL_TSS);
    check_fault("call-busy-tss", try_call(call_busy_tss), VEC_GP, SEL_TSS);
    check_fault("jmp-tss-not-present", try_call(jmp_absent_tss), VEC_NP, SEL(G_TSS_NP));
    check_fault("jmp-tss-limit-66", try_call(jmp_short_tss), VEC_TS, SEL(G_TSS_SHORT));
    check_hex("bad-switches-tr", read_tr(), SEL_TSS, 4);
    check_hex("bad-switches-short-tss-not-busy", access_of(G_TSS_SHORT), 0x89, 2);
}

static void check_task_gates(void) {
    /* A stack overflow into a not-present page: the #PF cannot be pushed,
     * a second #PF makes a #DF (SDM Table 6-5), which an IDT task gate
     * delivers on a stack of its own, pushing its error code 0 there. The
     * handler points the interrupted task at a recovery point and IRETs. */
    const uint64_t df_gate = idt[VEC_DF];
    idt_set_gate(VEC_DF, SEL(G_TSS_DF), 0, TYPE_TASK_GATE, 0);
    check_fault("df-task-gate-stack-overflow", try_call(stack_overflow), NO_FAULT, 0);
    idt[VEC_DF] = df_gate;
    check_hex("df-task-tr", df_seen[0] & 0xFFFF, SEL(G_TSS_DF), 4);
    check_hex("df-task-eflags-nt", df_seen[1], 0x00004002, 8);
    check_hex("df-task-error-code", df_seen[2], 0, 8);
    check_flag("df-task-error-code-on-its-stack", df_seen[3] == (uint32_t)stack_df + 4096, 1);
    check_hex("df-task-cr2-page", df_seen[4] & ~0xFFFu, 0x00400000, 8);
    check_hex("df-task-back-link", tss_df.link, SEL_TSS, 4);
    check_hex("df-task-not-busy-after-iret", access_of(G_TSS_DF), 0x89, 2);
    clear_ts();

    check_fault("int-task-gate", try_call(task_int), NO_FAULT, 0);
    check_hex("int-task-tr", int_seen[0] & 0xFFFF, SEL(G_TSS_INT), 4);
    check_hex("int-task-eflags-nt", int_seen[1], 0x00004002, 8);
    check_flag("int-task-esp-nothing-pushed", int_seen[2] == (uint32_t)stack_int + 4096, 1);
    check_hex("int-task-back-link", tss_int.link, SEL_TSS, 4);
    check_hex("int-task-a-tr", read_tr(), SEL_TSS, 4);
    clear_ts();
}

/* ---- #DB across task switches (SDM 17.3.1.4 and 17.3.1.5) ---- */
static struct debug_event events[8];
static int event_count;

static int debug_hook(struct trap_frame* f) {
    uint32_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    if (event_count < 8)
        events[event_count] = (struct debug_event){f->eip, dr6, f->eflags, f->ecx, read_tr()};
    ++event_count;
    __asm__ volatile("mov %0, %%dr6" : : "r"(0u));
    return 1;
}

static void check_event(const char* name, int i, routine* eip, uint32_t dr6, uint16_t tr) {
    check_debug_event(name, -1, i < event_count ? &events[i] : 0, (const void*)eip, dr6, tr);
}

static void check_debug_traps(void) {
    /* A CALL to a task begun with TF set traps after it, in the new task
     * before its first instruction (DR6.BS); the new task runs with its own
     * TF (clear), and the IRET back restores the caller's, which traps
     * after each instruction again. A TSS with its T bit set raises #DB
     * with DR6.BT on every switch to it. */
    const uint32_t fixed = 0xFFFF0FF0u;
    exception_hooks[VEC_DB] = debug_hook;
    init_task(&tss_s, task_s_entry, stack_s, (uint32_t)pd_a);
    gdt_set_system(G_TSS_S, (uint32_t)&tss_s, sizeof tss_s - 1, TYPE_TSS32, 0);
    event_count = 0;
    check_fault("single-step-call-task", try_call(step_call_s), NO_FAULT, 0);
    check_event("single-step-in-new-task", 0, task_s_entry, fixed | (1u << 14), SEL(G_TSS_S));
    check_event("single-step-back-in-caller-0", 1, step_and, fixed | (1u << 14), SEL_TSS);
    check_event("single-step-back-in-caller-1", 2, step_popf, fixed | (1u << 14), SEL_TSS);
    check_event("single-step-back-in-caller-2", 3, step_ret, fixed | (1u << 14), SEL_TSS);
    check_hex("single-step-task-count", (uint32_t)event_count, 4, 2);
    clear_ts();

    tss_s.trap = 1;
    event_count = 0;
    s_runs = 0;
    check_fault("t-bit-call-task", try_call(call_s), NO_FAULT, 0);
    /* (S resumes where its IRET left it.) */
    check_event("t-bit-in-new-task", 0, task_s_resume, fixed | (1u << 15), SEL(G_TSS_S));
    check_hex("t-bit-count", (uint32_t)event_count, 1, 2);
    check_hex("t-bit-task-ran", s_runs, 1, 2);
    exception_hooks[VEC_DB] = 0;
    clear_ts();
}

static void check_cr3_reload(void) {
    /* A task switch loads CR3 even with the value it holds: the TLB keeps
     * no stale non-global translation (SDM 7.3, 4.10.4.1). Page 0x402000 is
     * read (and cached) before its PTE changes; task S, with task A's page
     * directory, reads it after the switch. */
    init_task(&tss_s, task_s_entry, stack_s, (uint32_t)pd_a);
    gdt_set_system(G_TSS_S, (uint32_t)&tss_s, sizeof tss_s - 1, TYPE_TSS32, 0);
    *(volatile uint32_t*)0x00402000 = 0x00402000u;
    *(volatile uint32_t*)0x00C05000 = 0x00C05000u;
    check_hex("cr3-same-before", *(volatile uint32_t*)0x00402000, 0x00402000u, 8);
    pt_guard[2] = 0x00C05000u | 0x3;
    check_fault("cr3-same-call-task", try_call(call_s), NO_FAULT, 0);
    check_hex("cr3-same-new-task-sees-new-pte", s_seen, 0x00C05000u, 8);
    pt_guard[2] = 0x00402000u | 0x3;
    invlpg((void*)0x00402000);
    clear_ts();
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    build_paging();
    build_tasks();
    check_ltr();
    check_jmp();
    check_call_and_iret();
    check_bad_switches();
    check_task_gates();
    check_debug_traps();
    check_cr3_reload();
    finish("system_tasks");
}
