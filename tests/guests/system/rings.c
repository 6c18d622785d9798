/* system_rings: protection (SDM chapter 5): segment loads and their faults,
 * limit checks, the accessed bit, LAR/LSL/VERR/VERW/ARPL; IRET to ring 3,
 * INT n through gates with the TSS stack switch, segment registers nulled on
 * a return to an outer level, call gates (32-bit with parameters from ring
 * 3, 16-bit), far JMP through call gates, privileged instructions at ring 3,
 * IOPL and the I/O permission bit map, POPF, and double faults (SDM 6.15,
 * Table 6-5). */
#include "system.h"

/* GDT indexes (the selectors are in rings.inc). */
enum {
    G_NP_DATA = 6,
    G_RO_DATA,
    G_EXEC_ONLY,
    G_CONF_CODE,
    G_SMALL,
    G_PAGE,
    G_DOWN,
    G_DOWN16,
    G_ACC,
    G_NP_DATA3,
    G_DOWN3,
    G_GATE32,
    G_GATE_DPL0,
    G_GATE16,
    G_BASED_CODE0,
    G_JMPGATE,
    G_NP_CODE,
    G_GATE_NP,
    G_SS_LIMITED,
    G_INTGATE_GDT,
    G_JMPGATE_CONF,
};
#define SEL(index) ((uint16_t)((index) << 3))

/* ---- the assembly side (rings.asm) ---- */
typedef void routine(void);
extern volatile uint32_t r3_seen[3], r3_segs[4], int80_frame[5], int80_esp, int80_ss;
extern volatile uint32_t cg_frame[6], cg_esp, cg_ss, r3_esp_before, r3_esp_after, r3_es_after;
extern volatile uint32_t g16_frame[3], g16_esp_entry, g16_esp_handler, g16_esp_after;
extern volatile uint32_t jmpgate_cs, conf_target_cs, r3_flags, r3_sel, r3_result, r3_zf;
extern volatile uint32_t down3_esp, saved_cr0, r3_scratch[2];
extern volatile uint8_t saved_gdtr[8], saved_idtr[8];
extern uint8_t gate16_blob[], g16_return[], g16_handler[], g16_int_handler[], g16_trap_handler[],
    gi16_int_return[], gi16_trap_return[];
extern volatile uint32_t gi16_seen[10];
routine r3_int80, r3_int80_after, int80_handler, r3_callgate, r3_callgate_after, callgate32_handler,
    gate16_enter, gate16_int_enter, r0_jmpgate, jmpgate_target, r3_jmpgate, r3_jmpgate_conf,
    conf_target, r3_call_gate_dpl0, r3_call_gate_np_target, r3_int_dpl0_gate, r3_int_np_gate,
    r3_hlt, r3_cli, r3_sti, r3_read_cr0, r3_write_cr0, r3_lgdt, r3_lidt, r3_lldt, r3_ltr, r3_lmsw,
    r3_clts, r3_rdmsr, r3_wrmsr, r3_invlpg, r3_wbinvd, r3_invd, r3_read_dr7, r3_write_dr7, r3_sgdt,
    r3_sidt, r3_smsw, r3_str, r3_sldt, r3_in80, r3_in82, r3_inw80, r3_inw81, r3_ind80, r3_out80,
    r3_in_dx400, r3_insb82, r3_popf, r3_popf_iopl3, r3_load_ds_data0, r3_load_ds_data0_rpl3,
    r3_load_ds_conforming, r3_load_ds_code0, r3_load_es_np3, r3_load_ss_data0, r3_load_ss_np3,
    r3_load_ss_null, r3_push_expand_down, r3_lar, r3_lsl, r3_verr, r3_verw, r0_load_ds_null,
    r0_load_es_np, r0_load_ss_np, r0_load_ss_null, r0_load_ss_read_only, r0_load_ss_rpl3,
    r0_load_ss_dpl3, r0_load_es_exec_only, r0_load_es_readable_code, r0_load_es_tss,
    r0_load_es_beyond_gdt, r0_load_es_ldt, r0_load_es_accessed, r0_use_null_es, r0_small_dword_fc,
    r0_small_dword_fd, r0_small_byte_ff, r0_small_byte_100, r0_page_dword_ffc, r0_page_dword_ffd,
    r0_page_byte_1000, r0_down_byte_fff, r0_down_byte_1000, r0_down_dword_top, r0_down_dword_wrap,
    r0_down16_byte_ffff, r0_down16_byte_10000, r0_ss_within_limit, r0_ss_beyond_limit, r0_int3,
    r0_ud2;

#define EFLAGS_BASE 0x00000002u
static uint8_t limit_buffer[8192] __attribute__((aligned(4096)));

static void build_gdt(void) {
    const uint8_t data0 = ACC_P | ACC_S | ACC_WRITABLE | ACC_ACCESSED;
    gdt_set(G_NP_DATA, 0, 0xFFFFF, ACC_S | ACC_WRITABLE, FLAG_G | FLAG_DB);
    gdt_set(G_RO_DATA, 0, 0xFFFFF, ACC_P | ACC_S, FLAG_G | FLAG_DB);
    gdt_set(G_EXEC_ONLY, 0, 0xFFFFF, ACC_P | ACC_S | ACC_CODE, FLAG_G | FLAG_DB);
    gdt_set(G_CONF_CODE, 0, 0xFFFFF,
            ACC_P | ACC_S | ACC_CODE | ACC_CONFORMING | ACC_READABLE | ACC_ACCESSED,
            FLAG_G | FLAG_DB);
    gdt_set(G_SMALL, (uint32_t)limit_buffer, 0xFF, data0, FLAG_DB);
    gdt_set(G_PAGE, (uint32_t)limit_buffer, 0, data0, FLAG_G | FLAG_DB);
    gdt_set(G_DOWN, 0, 0xFFF, data0 | ACC_EXPAND_DOWN, FLAG_DB);
    gdt_set(G_DOWN16, 0, 0xFFF, data0 | ACC_EXPAND_DOWN, 0);
    gdt_set(G_ACC, 0, 0xFFFFF, ACC_P | ACC_S | ACC_WRITABLE, FLAG_G | FLAG_DB);
    gdt_set(G_NP_DATA3, 0, 0xFFFFF, ACC_DPL(3) | ACC_S | ACC_WRITABLE, FLAG_G | FLAG_DB);
    /* Expand-down, page-granular: valid offsets start one page below the top
     * of the ring-3 stack. */
    const uint32_t lower_bound = (uint32_t)user_stack_top - 4096;
    gdt_set(G_DOWN3, 0, (lower_bound >> 12) - 1, ACC_P | ACC_DPL(3) | data0 | ACC_EXPAND_DOWN,
            FLAG_G | FLAG_DB);
    down3_esp = lower_bound + 8;
    gdt_set_gate(G_GATE32, SEL_CODE0, (uint32_t)callgate32_handler, TYPE_CALL_GATE32, 3, 2);
    gdt_set_gate(G_GATE_DPL0, SEL_CODE0, (uint32_t)callgate32_handler, TYPE_CALL_GATE32, 0, 2);
    gdt_set_gate(G_GATE16, SEL(G_BASED_CODE0), (uint32_t)(g16_handler - gate16_blob),
                 TYPE_CALL_GATE16, 0, 1);
    gdt_set(G_BASED_CODE0, (uint32_t)gate16_blob, 0xFFFF, ACC_P | ACC_S | ACC_CODE | ACC_READABLE,
            FLAG_DB);
    gdt_set_gate(G_JMPGATE, SEL_CODE0, (uint32_t)jmpgate_target, TYPE_CALL_GATE32, 3, 0);
    gdt_set(G_NP_CODE, 0, 0xFFFFF, ACC_S | ACC_CODE | ACC_READABLE, FLAG_G | FLAG_DB);
    gdt_set_gate(G_GATE_NP, SEL(G_NP_CODE), (uint32_t)jmpgate_target, TYPE_CALL_GATE32, 3, 0);
    gdt_set(G_SS_LIMITED, 0, 0xFFF, data0, FLAG_G | FLAG_DB);
    gdt_set_gate(G_INTGATE_GDT, SEL_CODE0, (uint32_t)int80_handler, TYPE_INT_GATE32, 0, 0);
    gdt_set_gate(G_JMPGATE_CONF, SEL(G_CONF_CODE), (uint32_t)conf_target, TYPE_CALL_GATE32, 3, 0);

    idt_set_gate(0x43, SEL(G_BASED_CODE0), (uint32_t)(g16_int_handler - gate16_blob),
                 TYPE_INT_GATE16, 0);
    idt_set_gate(0x44, SEL(G_BASED_CODE0), (uint32_t)(g16_trap_handler - gate16_blob),
                 TYPE_TRAP_GATE16, 0);
    idt_set_gate(0x80, SEL_CODE0, (uint32_t)int80_handler, TYPE_TRAP_GATE32, 3);
    idt_set_gate(0x81, SEL_CODE0, (uint32_t)int80_handler, TYPE_INT_GATE32, 0);
    idt_set_gate(0x82, SEL_CODE0, (uint32_t)int80_handler, TYPE_INT_GATE32, 3);
    idt[0x82] &= ~(1ull << 47); /* not present */
}

/* ---- segment loads ---- */
struct load_case {
    const char* name;
    routine* fn;
    int ring;
    int vector;
    uint32_t error;
};

static void run_cases(const struct load_case* c, int n) {
    for (int i = 0; i < n; ++i) {
        const int got = c[i].ring ? try_user(c[i].fn, EFLAGS_BASE) : try_call(c[i].fn);
        check_fault(c[i].name, got, c[i].vector, c[i].error);
    }
}

static void check_segment_loads(void) {
    /* An LDTR loaded with a null selector is invalid: LDT references #GP
     * (SDM Vol. 2A LLDT). (The LDTR is never loaded before: its reset state,
     * limit 0FFFFH, would hold.) */
    __asm__ volatile("lldt %w0" : : "r"(0));
    /* SDM Vol. 2A MOV (segment loads) and 5.5-5.7: the error code is the
     * selector with its RPL bits cleared (EXT = IDT = 0). QEMU's TCG checks
     * neither null selectors in memory accesses nor segment limits (here
     * and in check_limits): the SDM wins. */
    static const struct load_case cases[] = {
        {"load-ds-null", r0_load_ds_null, 0, NO_FAULT, 0},
        {"use-null-es", r0_use_null_es, 0, VEC_GP, 0},
        {"load-es-not-present", r0_load_es_np, 0, VEC_NP, 0x30},
        {"load-ss-not-present", r0_load_ss_np, 0, VEC_SS, 0x30},
        {"load-ss-null", r0_load_ss_null, 0, VEC_GP, 0},
        {"load-ss-read-only", r0_load_ss_read_only, 0, VEC_GP, 0x38},
        {"load-ss-rpl-not-cpl", r0_load_ss_rpl3, 0, VEC_GP, 0x10},
        {"load-ss-dpl-not-cpl", r0_load_ss_dpl3, 0, VEC_GP, 0x20},
        {"load-es-execute-only", r0_load_es_exec_only, 0, VEC_GP, 0x40},
        {"load-es-readable-code", r0_load_es_readable_code, 0, NO_FAULT, 0},
        {"load-es-tss", r0_load_es_tss, 0, VEC_GP, SEL_TSS},
        {"load-es-beyond-gdt-limit", r0_load_es_beyond_gdt, 0, VEC_GP, 0x200},
        {"load-es-ldt-after-lldt-null", r0_load_es_ldt, 0, VEC_GP, 0x0C},
        {"ring3-load-ds-dpl0", r3_load_ds_data0, 3, VEC_GP, 0x10},
        {"ring3-load-ds-dpl0-rpl3", r3_load_ds_data0_rpl3, 3, VEC_GP, 0x10},
        {"ring3-load-ds-conforming-code", r3_load_ds_conforming, 3, NO_FAULT, 0},
        {"ring3-load-ds-nonconforming-code", r3_load_ds_code0, 3, VEC_GP, 0x08},
        {"ring3-load-es-not-present", r3_load_es_np3, 3, VEC_NP, 0x78},
        {"ring3-load-ss-dpl0", r3_load_ss_data0, 3, VEC_GP, 0x10},
        {"ring3-load-ss-not-present", r3_load_ss_np3, 3, VEC_SS, 0x78},
        {"ring3-load-ss-null", r3_load_ss_null, 3, VEC_GP, 0},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);

    /* The processor sets the accessed bit when it loads a descriptor
     * (SDM 3.4.5.1). */
    check_hex("accessed-before", gdt_access(G_ACC), 0x92, 2);
    try_call(r0_load_es_accessed);
    check_hex("accessed-after-load", gdt_access(G_ACC), 0x93, 2);
}

static void check_limits(void) {
    /* SDM 5.3: an access any byte of which is beyond the limit (at or below
     * it for expand-down) is #GP(0), #SS(0) through SS. */
    static const struct load_case cases[] = {
        {"limit-byte-dword-at-fc", r0_small_dword_fc, 0, NO_FAULT, 0},
        {"limit-byte-dword-at-fd", r0_small_dword_fd, 0, VEC_GP, 0},
        {"limit-byte-byte-at-ff", r0_small_byte_ff, 0, NO_FAULT, 0},
        {"limit-byte-byte-at-100", r0_small_byte_100, 0, VEC_GP, 0},
        {"limit-page-dword-at-ffc", r0_page_dword_ffc, 0, NO_FAULT, 0},
        {"limit-page-dword-at-ffd", r0_page_dword_ffd, 0, VEC_GP, 0},
        {"limit-page-byte-at-1000", r0_page_byte_1000, 0, VEC_GP, 0},
        {"expand-down-byte-at-limit", r0_down_byte_fff, 0, VEC_GP, 0},
        {"expand-down-byte-above-limit", r0_down_byte_1000, 0, NO_FAULT, 0},
        {"expand-down-dword-at-top", r0_down_dword_top, 0, NO_FAULT, 0},
        {"expand-down-dword-past-top", r0_down_dword_wrap, 0, VEC_GP, 0},
        {"expand-down-16-byte-at-ffff", r0_down16_byte_ffff, 0, NO_FAULT, 0},
        {"expand-down-16-byte-at-10000", r0_down16_byte_10000, 0, VEC_GP, 0},
        {"ss-limit-within", r0_ss_within_limit, 0, NO_FAULT, 0},
        {"ss-limit-beyond", r0_ss_beyond_limit, 0, VEC_SS, 0},
        {"ring3-push-below-expand-down-ss", r3_push_expand_down, 3, VEC_SS, 0},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
    /* The faulting PUSH left ESP as it was (faults restore state, SDM 6.5). */
    check_flag("push-fault-esp-unchanged", last_fault.esp == down3_esp - 8, 1);
    check_hex("push-fault-ss", last_fault.ss, SEL(G_DOWN3) | 3, 4);
}

/* ---- LAR, LSL, VERR, VERW, ARPL ---- */
static uint32_t query_zf;
static uint32_t lar0(uint32_t sel) {
    uint32_t v = 0xDEADBEEF;
    uint8_t zf;
    __asm__ volatile("lar %2, %0\n\tsetz %1" : "+r"(v), "=q"(zf) : "r"(sel) : "cc");
    query_zf = zf;
    return v;
}
static uint32_t lsl0(uint32_t sel) {
    uint32_t v = 0xDEADBEEF;
    uint8_t zf;
    __asm__ volatile("lsl %2, %0\n\tsetz %1" : "+r"(v), "=q"(zf) : "r"(sel) : "cc");
    query_zf = zf;
    return v;
}
static uint32_t verr0(uint16_t sel) {
    uint8_t zf;
    __asm__ volatile("verr %1\n\tsetz %0" : "=q"(zf) : "r"(sel) : "cc");
    return zf;
}
static uint32_t verw0(uint16_t sel) {
    uint8_t zf;
    __asm__ volatile("verw %1\n\tsetz %0" : "=q"(zf) : "r"(sel) : "cc");
    return zf;
}

/* "name: zf=1 0x...": the value only when ZF is set. */
static void check_query(const char* name, uint32_t zf, uint32_t value, uint32_t want_zf,
                        uint32_t want_value) {
    const int ok = !zf == !want_zf && (!zf || value == want_value);
    if (!ok) ++checks_bad;
    serial_puts(name);
    serial_puts(zf ? ": zf=1 " : ": zf=0");
    if (zf) put_hex(value, 8);
    serial_puts(ok ? " ok\n" : " BAD\n");
}

static uint32_t query3(routine* fn, uint32_t sel) {
    r3_sel = sel;
    r3_zf = 0;
    r3_result = 0;
    try_user(fn, EFLAGS_BASE);
    return r3_result;
}

static void check_queries(void) {
    /* LAR gives the second descriptor dword masked by 00FxFF00H, bits
     * 19:16 undefined (SDM Vol. 2A LAR): they are masked off here. For
     * gates bits 23:16 are offset bits, so only 0000FF00H is looked at. */
    uint32_t v;
    v = lar0(SEL_CODE0);
    check_query("lar-code0", query_zf, v & 0x00F0FF00, 1, 0x00C09B00);
    v = lar0(SEL_DATA0);
    check_query("lar-data0", query_zf, v & 0x00F0FF00, 1, 0x00C09300);
    v = lar0(SEL_TSS);
    check_query("lar-busy-tss", query_zf, v & 0x00F0FF00, 1, 0x00008B00);
    v = lar0(SEL(G_GATE32));
    check_query("lar-call-gate", query_zf, v & 0x0000FF00, 1, 0x0000EC00);
    v = lar0(SEL(G_NP_DATA));
    check_query("lar-not-present", query_zf, v & 0x00F0FF00, 1, 0x00C01200);
    v = lar0(SEL(G_INTGATE_GDT));
    check_query("lar-interrupt-gate", query_zf, v, 0, 0);
    v = lar0(0);
    check_query("lar-null", query_zf, v, 0, 0);
    v = lar0(0x200);
    check_query("lar-beyond-gdt-limit", query_zf, v, 0, 0);
    v = query3(r3_lar, SEL_DATA0 | 3);
    check_query("ring3-lar-dpl0-data", r3_zf, v, 0, 0);
    v = query3(r3_lar, SEL(G_CONF_CODE) | 3);
    check_query("ring3-lar-conforming-code", r3_zf, v & 0x00F0FF00, 1, 0x00C09F00);
    v = query3(r3_lar, SEL_DATA3);
    check_query("ring3-lar-data3", r3_zf, v & 0x00F0FF00, 1, 0x00C0F300);

    v = lsl0(SEL_DATA0);
    check_query("lsl-flat", query_zf, v, 1, 0xFFFFFFFF);
    v = lsl0(SEL(G_SMALL));
    check_query("lsl-byte-granular", query_zf, v, 1, 0xFF);
    v = lsl0(SEL(G_PAGE));
    check_query("lsl-page-granular", query_zf, v, 1, 0xFFF);
    v = lsl0(SEL_TSS);
    check_query("lsl-tss", query_zf, v, 1, sizeof main_tss - 1);
    v = lsl0(SEL(G_GATE32));
    check_query("lsl-call-gate", query_zf, v, 0, 0);
    v = lsl0(0);
    check_query("lsl-null", query_zf, v, 0, 0);
    v = query3(r3_lsl, SEL_DATA0 | 3);
    check_query("ring3-lsl-dpl0-data", r3_zf, v, 0, 0);

    check_flag("verr-readable-code", verr0(SEL_CODE0), 1);
    check_flag("verr-execute-only-code", verr0(SEL(G_EXEC_ONLY)), 0);
    check_flag("verr-data", verr0(SEL_DATA0), 1);
    check_flag("verr-tss", verr0(SEL_TSS), 0);
    check_flag("verr-null", verr0(0), 0);
    check_flag("verw-data", verw0(SEL_DATA0), 1);
    check_flag("verw-read-only-data", verw0(SEL(G_RO_DATA)), 0);
    check_flag("verw-code", verw0(SEL_CODE0), 0);
    query3(r3_verr, SEL_DATA0 | 3);
    check_flag("ring3-verr-dpl0-data", r3_zf, 0);
    query3(r3_verr, SEL(G_CONF_CODE) | 3);
    check_flag("ring3-verr-conforming-code", r3_zf, 1);
    query3(r3_verw, SEL_DATA3);
    check_flag("ring3-verw-data3", r3_zf, 1);
    query3(r3_verw, SEL_DATA0 | 3);
    check_flag("ring3-verw-dpl0-data", r3_zf, 0);

    /* ARPL raises the destination's RPL to the source's (SDM Vol. 2A). */
    uint16_t dst = 0x0010;
    uint8_t zf;
    __asm__ volatile("arpl %2, %0\n\tsetz %1" : "+r"(dst), "=q"(zf) : "r"((uint16_t)3) : "cc");
    check_hex("arpl-raises-rpl", dst, 0x0013, 4);
    check_flag("arpl-raises-rpl-zf", zf, 1);
    __asm__ volatile("arpl %2, %0\n\tsetz %1" : "+r"(dst), "=q"(zf) : "r"((uint16_t)1) : "cc");
    check_hex("arpl-keeps-rpl", dst, 0x0013, 4);
    check_flag("arpl-keeps-rpl-zf", zf, 0);
}

/* ---- IRET to ring 3, INT n, call gates, JMP ---- */
static void check_transfers(void) {
    /* IRET to ring 3 pops SS:ESP (SDM Vol. 2A IRET); INT 0x80 through a
     * DPL-3 trap gate switches to TSS.SS0:ESP0 and pushes SS, ESP, EFLAGS,
     * CS, EIP (SDM 6.12.1). */
    check_fault("iret-to-ring3-int80", try_user(r3_int80, EFLAGS_BASE), NO_FAULT, 0);
    check_hex("ring3-cs", r3_seen[0], SEL_CODE3, 4);
    check_hex("ring3-ss", r3_seen[1], SEL_DATA3, 4);
    check_flag("ring3-esp", r3_seen[2] == (uint32_t)user_stack_top, 1);
    check_flag("int80-frame-eip", int80_frame[0] == (uint32_t)r3_int80_after, 1);
    check_hex("int80-frame-cs", int80_frame[1] & 0xFFFF, SEL_CODE3, 4);
    check_hex("int80-frame-eflags", int80_frame[2], EFLAGS_BASE, 8);
    check_flag("int80-frame-esp", int80_frame[3] == (uint32_t)user_stack_top, 1);
    check_hex("int80-frame-ss", int80_frame[4] & 0xFFFF, SEL_DATA3, 4);
    check_hex("int80-ring0-ss", int80_ss & 0xFFFF, SEL_DATA0, 4);
    check_hex("int80-ring0-esp0-minus-esp", (uint32_t)kernel_stack_top - int80_esp, 20, 2);
    /* Back at ring 3, DS..GS that name data or nonconforming code with DPL
     * < CPL are nulled (SDM Vol. 2A IRET). */
    check_hex("iret-ds-conforming-code-kept", r3_segs[0] & 0xFFFF, SEL(G_CONF_CODE), 4);
    check_hex("iret-es-dpl0-data-nulled", r3_segs[1] & 0xFFFF, 0, 4);
    check_hex("iret-fs-dpl3-data-rpl0-kept", r3_segs[2] & 0xFFFF, SEL_DATA3 & ~3, 4);
    check_hex("iret-gs-dpl0-code-nulled", r3_segs[3] & 0xFFFF, 0, 4);

    check_fault("int-dpl0-gate-from-ring3", try_user(r3_int_dpl0_gate, EFLAGS_BASE), VEC_GP,
                0x81 * 8 + 2);
    check_fault("int-not-present-gate", try_user(r3_int_np_gate, EFLAGS_BASE), VEC_NP,
                0x82 * 8 + 2);

    /* CALL through a call gate to ring 0: the new stack gets SS, ESP, the
     * 2 parameters copied, CS, EIP; RETF 8 drops them on both stacks (SDM
     * 5.8.5, Vol. 2A CALL and RET). */
    check_fault("call-gate-ring3-to-ring0", try_user(r3_callgate, EFLAGS_BASE), NO_FAULT, 0);
    check_flag("call-gate-frame-eip", cg_frame[0] == (uint32_t)r3_callgate_after, 1);
    check_hex("call-gate-frame-cs", cg_frame[1] & 0xFFFF, SEL_CODE3, 4);
    check_hex("call-gate-frame-param0", cg_frame[2], 0x22222222, 8);
    check_hex("call-gate-frame-param1", cg_frame[3], 0x11111111, 8);
    check_hex("call-gate-frame-esp-below-caller", r3_esp_before - cg_frame[4], 8, 2);
    check_hex("call-gate-frame-ss", cg_frame[5] & 0xFFFF, SEL_DATA3, 4);
    check_hex("call-gate-ring0-ss", cg_ss & 0xFFFF, SEL_DATA0, 4);
    check_hex("call-gate-ring0-esp0-minus-esp", (uint32_t)kernel_stack_top - cg_esp, 24, 2);
    check_flag("retf-8-restores-caller-esp", r3_esp_after == r3_esp_before, 1);
    check_hex("retf-es-dpl0-data-nulled", r3_es_after & 0xFFFF, 0, 4);
    check_fault("call-gate-dpl0-from-ring3", try_user(r3_call_gate_dpl0, EFLAGS_BASE), VEC_GP,
                SEL(G_GATE_DPL0));
    check_fault("call-gate-target-not-present", try_user(r3_call_gate_np_target, EFLAGS_BASE),
                VEC_NP, SEL(G_NP_CODE));

    /* A 16-bit call gate pushes CS and IP as words (SDM 5.8.3.1). */
    check_fault("call-gate-16", try_call(gate16_enter), NO_FAULT, 0);
    check_hex("call-gate-16-frame-ip", g16_frame[0], (uint32_t)(g16_return - gate16_blob), 4);
    check_hex("call-gate-16-frame-cs", g16_frame[1], SEL(G_BASED_CODE0), 4);
    check_hex("call-gate-16-frame-param", g16_frame[2], 0x5A5A, 4);
    check_hex("call-gate-16-pushed-bytes", g16_esp_entry - g16_esp_handler, 6, 2);
    check_flag("call-gate-16-retf-2-restores-esp", g16_esp_after == g16_esp_entry, 1);

    /* 16-bit interrupt and trap gates push FLAGS, CS and IP as words; the
     * interrupt gate clears IF, the trap gate keeps it (SDM 6.12.1). */
    check_fault("int-gate-16", try_call(gate16_int_enter), NO_FAULT, 0);
    check_hex("int-gate-16-frame-ip", gi16_seen[0], (uint32_t)(gi16_int_return - gate16_blob), 4);
    check_hex("int-gate-16-frame-cs", gi16_seen[1], SEL(G_BASED_CODE0), 4);
    check_hex("int-gate-16-frame-flags", gi16_seen[2], 0x0202, 4);
    check_hex("int-gate-16-handler-eflags", gi16_seen[3], 0x00000002, 8);
    check_hex("int-gate-16-pushed-bytes", gi16_seen[4], 6, 2);
    check_hex("trap-gate-16-frame-ip", gi16_seen[5], (uint32_t)(gi16_trap_return - gate16_blob), 4);
    check_hex("trap-gate-16-handler-eflags", gi16_seen[8], 0x00000202, 8);
    check_hex("trap-gate-16-pushed-bytes", gi16_seen[9], 6, 2);
    check_flag("gate-16-iret-restores-esp", g16_esp_after == g16_esp_entry, 1);

    /* JMP through a call gate never changes CPL: to nonconforming code its
     * DPL must equal CPL, else #GP(code selector); to conforming code CPL
     * stays (SDM Vol. 2A JMP). */
    check_fault("jmp-call-gate-ring0", try_call(r0_jmpgate), NO_FAULT, 0);
    check_hex("jmp-call-gate-ring0-cs", jmpgate_cs & 0xFFFF, SEL_CODE0, 4);
    check_fault("jmp-call-gate-ring3-to-ring0", try_user(r3_jmpgate, EFLAGS_BASE), VEC_GP,
                SEL_CODE0);
    check_fault("jmp-call-gate-ring3-to-conforming", try_user(r3_jmpgate_conf, EFLAGS_BASE),
                NO_FAULT, 0);
    check_hex("jmp-call-gate-conforming-cs", conf_target_cs & 0xFFFF, SEL(G_CONF_CODE) | 3, 4);
}

/* ---- privileged and IOPL-sensitive instructions at ring 3 ---- */
static void check_privileged(void) {
    saved_cr0 = read_cr0();
    __asm__ volatile("sgdt %0" : "=m"(saved_gdtr));
    __asm__ volatile("sidt %0" : "=m"(saved_idtr));
    /* SDM 5.9: #GP(0) at CPL > 0; CLI/STI are IOPL-sensitive (5.10). */
    static const struct load_case cases[] = {
        {"ring3-hlt", r3_hlt, 3, VEC_GP, 0},
        {"ring3-cli-iopl0", r3_cli, 3, VEC_GP, 0},
        {"ring3-sti-iopl0", r3_sti, 3, VEC_GP, 0},
        {"ring3-mov-from-cr0", r3_read_cr0, 3, VEC_GP, 0},
        {"ring3-mov-to-cr0", r3_write_cr0, 3, VEC_GP, 0},
        {"ring3-lgdt", r3_lgdt, 3, VEC_GP, 0},
        {"ring3-lidt", r3_lidt, 3, VEC_GP, 0},
        {"ring3-lldt", r3_lldt, 3, VEC_GP, 0},
        {"ring3-ltr", r3_ltr, 3, VEC_GP, 0},
        {"ring3-lmsw", r3_lmsw, 3, VEC_GP, 0},
        {"ring3-clts", r3_clts, 3, VEC_GP, 0},
        {"ring3-invlpg", r3_invlpg, 3, VEC_GP, 0},
        {"ring3-wbinvd", r3_wbinvd, 3, VEC_GP, 0},
        {"ring3-invd", r3_invd, 3, VEC_GP, 0},
        {"ring3-mov-from-dr7", r3_read_dr7, 3, VEC_GP, 0},
        {"ring3-mov-to-dr7", r3_write_dr7, 3, VEC_GP, 0},
        {"ring3-rdmsr", r3_rdmsr, 3, VEC_GP, 0},
        {"ring3-wrmsr", r3_wrmsr, 3, VEC_GP, 0},
        /* Not privileged on a P6 (no UMIP). */
        {"ring3-sgdt", r3_sgdt, 3, NO_FAULT, 0},
        {"ring3-sidt", r3_sidt, 3, NO_FAULT, 0},
        {"ring3-smsw", r3_smsw, 3, NO_FAULT, 0},
        {"ring3-str", r3_str, 3, NO_FAULT, 0},
        {"ring3-sldt", r3_sldt, 3, NO_FAULT, 0},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);

    /* The I/O permission bit map allows ports 0x80 and 0x81 only; every bit
     * of a multi-byte access must be clear, and a port whose bits lie beyond
     * the TSS limit is refused (SDM 18.5.2). */
    main_tss.iomap[0x80 / 8] &= (uint8_t) ~(3u << (0x80 % 8));
    static const struct load_case io_cases[] = {
        {"ring3-in-byte-allowed-port", r3_in80, 3, NO_FAULT, 0},
        {"ring3-out-byte-allowed-port", r3_out80, 3, NO_FAULT, 0},
        {"ring3-in-byte-denied-port", r3_in82, 3, VEC_GP, 0},
        {"ring3-in-word-allowed-ports", r3_inw80, 3, NO_FAULT, 0},
        {"ring3-in-word-half-denied", r3_inw81, 3, VEC_GP, 0},
        {"ring3-in-dword-half-denied", r3_ind80, 3, VEC_GP, 0},
        {"ring3-ins-denied-port", r3_insb82, 3, VEC_GP, 0},
        {"ring3-in-port-beyond-tss-limit", r3_in_dx400, 3, VEC_GP, 0},
    };
    run_cases(io_cases, sizeof io_cases / sizeof io_cases[0]);
    /* With IOPL = 3 the bit map is not consulted, and CLI is allowed. */
    check_fault("ring3-iopl3-in-denied-port", try_user(r3_in82, EFLAGS_BASE | EFLAGS_IOPL3),
                NO_FAULT, 0);
    check_fault("ring3-iopl3-cli", try_user(r3_cli, EFLAGS_BASE | EFLAGS_IOPL3), NO_FAULT, 0);

    /* POPF at CPL 3: IOPL never changes, IF only when CPL <= IOPL. */
    check_fault("ring3-popf-iopl0", try_user(r3_popf, EFLAGS_BASE), NO_FAULT, 0);
    check_hex("ring3-popf-iopl0-if-iopl", r3_flags & 0x3200, 0x0000, 4);
    check_fault("ring3-popf-iopl3", try_user(r3_popf_iopl3, EFLAGS_BASE | EFLAGS_IOPL3), NO_FAULT,
                0);
    check_hex("ring3-popf-iopl3-if-iopl", r3_flags & 0x3200, 0x3200, 4);
}

/* ---- double faults ---- */
static void check_double_faults(void) {
    const uint64_t np_gate = idt[VEC_NP], gp_gate = idt[VEC_GP];
    const uint64_t bp_gate = idt[VEC_BP], ud_gate = idt[VEC_UD];
    /* #NP, then a #GP delivering it (its gate names the null selector):
     * contributory after contributory is #DF(0) (SDM Table 6-5). The saved
     * CS:EIP of a #DF are undefined (SDM 6.15), so they are not looked at. */
    idt_set_gate(VEC_NP, 0, exception_stubs[VEC_NP], TYPE_INT_GATE32, 0);
    check_fault("df-gp-delivering-np", try_call(r0_load_es_np), VEC_DF, 0);
    idt[VEC_NP] = np_gate;
    idt_set_gate(VEC_GP, 0, exception_stubs[VEC_NP], TYPE_INT_GATE32, 0);
    check_fault("df-gp-delivering-gp", try_call(r0_load_es_tss), VEC_DF, 0);
    idt[VEC_GP] = gp_gate;
    /* A benign exception first is no double fault: its delivery's #NP is
     * delivered. EXT is 0 for INT3 (a software interrupt), 1 for #UD, an
     * exception (SDM 6.13; QEMU 7.2 leaves EXT clear: the SDM wins). */
    idt_set_gate(VEC_BP, SEL(G_NP_CODE), (uint32_t)r0_int3, TYPE_INT_GATE32, 0);
    check_fault("np-delivering-int3", try_call(r0_int3), VEC_NP, SEL(G_NP_CODE));
    idt[VEC_BP] = bp_gate;
    idt_set_gate(VEC_UD, SEL(G_NP_CODE), (uint32_t)r0_ud2, TYPE_INT_GATE32, 0);
    check_fault("np-delivering-ud", try_call(r0_ud2), VEC_NP, SEL(G_NP_CODE) | 1);
    idt[VEC_UD] = ud_gate;
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    build_gdt();
    check_segment_loads();
    check_limits();
    check_queries();
    check_transfers();
    check_privileged();
    check_double_faults();
    finish("system_rings");
}
