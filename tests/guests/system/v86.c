/* system_v86: virtual-8086 mode (SDM chapter 20) under paging: entered by
 * an IRET with VM set in the EFLAGS image, segment*16 addressing through the
 * page tables, the IOPL-sensitive instructions trapping to a ring-0 monitor
 * (#GP(0)) that emulates them when IOPL < 3, running directly when IOPL = 3,
 * INT n through the IDT at IOPL 3 (the frame with the data segments, which
 * are null in the handler), IN governed by the I/O permission bit map
 * whatever IOPL is, and a task whose TSS has VM set. */
#include "system.h"

#define CR0_PG (1u << 31)
#define V86_CS 0x2000
#define V86_DS 0x2100
#define V86_SS 0x3000
#define V86_ES 0x1234
#define V86_FS 0x5678
#define V86_GS 0x9ABC
#define V86_SP 0x1000
#define LINEAR(seg, off) (((uint32_t)(seg) << 4) + (uint32_t)(off))
#define MARK 0x86868686u

/* ---- the assembly side (v86.asm) ---- */
extern uint8_t v86_blob[], v86_phase1[], v86_phase2[], v86_int21[];
extern uint8_t v86_site_cli[], v86_site_sti[], v86_site_pushf[], v86_site_popf[], v86_site_int21[],
    v86_site_iret[], v86_site_in_denied[], v86_site_hlt[], v86_site_int41[], v86_site_in_denied3[],
    v86_int40_return[], v86_phase3[], v86_site_task_cli[];
extern volatile uint32_t int40_frame[9], int40_segs[4];
void v86_int40_handler(void);
#define IP_OF(label) ((uint32_t)((label)-v86_blob))

/* Page 0 (the real-mode IVT), the program's code, data and stack pages are
 * frames of the kernel's, mapped where the v86 addresses fall. */
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt_low[1024] __attribute__((aligned(4096)));
static uint32_t ivt_frame[1024] __attribute__((aligned(4096)));
static uint8_t data_frame[4096] __attribute__((aligned(4096)));
static uint8_t stack_frame[4096] __attribute__((aligned(4096)));

static void build_paging(void) {
    for (uint32_t i = 0; i < 1024; ++i)
        pt_low[i] = i << 12 | 0x7;
    pt_low[0] = (uint32_t)ivt_frame | 0x7;
    pt_low[LINEAR(V86_CS, 0) >> 12] = (uint32_t)v86_blob | 0x7;
    pt_low[LINEAR(V86_DS, 0) >> 12] = (uint32_t)data_frame | 0x7;
    pt_low[LINEAR(V86_SS, 0) >> 12] = (uint32_t)stack_frame | 0x7;
    pd[0] = (uint32_t)pt_low | 0x7;
    for (uint32_t i = 1; i < 4; ++i)
        pd[i] = i << 22 | 0x87; /* 4 MiB pages, CR4.PSE */
    write_cr4(read_cr4() | (1u << 4));
    write_cr3((uint32_t)pd);
    write_cr0(read_cr0() | CR0_PG);
}

/* ---- the monitor: a #GP hook for faults from virtual-8086 mode ---- */
struct trap {
    uint8_t opcode, operand;
    uint16_t ip;
    uint32_t error;
};
static struct trap traps[16];
static int trap_count;
static uint32_t virtual_if;
static struct trap_frame first_frame;

static uint16_t* v86_stack(const struct trap_frame* f) {
    return (uint16_t*)LINEAR(f->ss & 0xFFFF, f->esp & 0xFFFF);
}
static void v86_push(struct trap_frame* f, uint16_t v) {
    f->esp = (f->esp - 2) & 0xFFFF;
    *v86_stack(f) = v;
}
static uint16_t v86_pop(struct trap_frame* f) {
    const uint16_t v = *v86_stack(f);
    f->esp = (f->esp + 2) & 0xFFFF;
    return v;
}
/* The FLAGS image the program sees: the real arithmetic flags, the virtual
 * IF, IOPL as it is. */
static uint16_t virtual_flags(const struct trap_frame* f) {
    return (uint16_t)((f->eflags & ~EFLAGS_IF) | (virtual_if ? EFLAGS_IF : 0));
}
#define FLAGS_POPPED 0x0DD5u /* CF PF AF ZF SF DF OF */

static int v86_monitor(struct trap_frame* f) {
    if (!(f->eflags & EFLAGS_VM)) return 0;
    const uint8_t* code = (const uint8_t*)LINEAR(f->cs & 0xFFFF, f->eip & 0xFFFF);
    if (trap_count == 0) first_frame = *f;
    struct trap* t = &traps[trap_count < 16 ? trap_count++ : 15];
    t->opcode = code[0];
    t->operand = code[1];
    t->ip = (uint16_t)f->eip;
    t->error = f->error;
    switch (code[0]) {
        case 0xFA: /* CLI */
            virtual_if = 0;
            f->eip += 1;
            return 1;
        case 0xFB: /* STI */
            virtual_if = 1;
            f->eip += 1;
            return 1;
        case 0x9C: /* PUSHF */
            v86_push(f, virtual_flags(f));
            f->eip += 1;
            return 1;
        case 0x9D: { /* POPF */
            const uint16_t v = v86_pop(f);
            f->eflags = (f->eflags & ~FLAGS_POPPED) | (v & FLAGS_POPPED);
            virtual_if = (v & EFLAGS_IF) != 0;
            f->eip += 1;
            return 1;
        }
        case 0xCD: /* INT n: reflected through the real-mode IVT when IOPL < 3 */
            if ((f->eflags & EFLAGS_IOPL3) == EFLAGS_IOPL3) {
                f->eip += 2;
                return 1;
            }
            v86_push(f, virtual_flags(f));
            v86_push(f, (uint16_t)f->cs);
            v86_push(f, (uint16_t)(f->eip + 2));
            virtual_if = 0;
            f->eip = ivt_frame[code[1]] & 0xFFFF;
            f->cs = ivt_frame[code[1]] >> 16;
            return 1;
        case 0xCF: { /* IRET */
            f->eip = v86_pop(f);
            f->cs = v86_pop(f);
            const uint16_t v = v86_pop(f);
            f->eflags = (f->eflags & ~FLAGS_POPPED) | (v & FLAGS_POPPED);
            virtual_if = (v & EFLAGS_IF) != 0;
            return 1;
        }
        case 0xE4: /* IN AL, imm8 that the bit map refuses: skipped */
            f->eip += 2;
            return 1;
        case 0xF4: /* HLT: the program is done */
            catch_resume(NO_FAULT);
    }
    return 0;
}

static const char* opcode_name(uint8_t op) {
    switch (op) {
        case 0xFA:
            return "cli";
        case 0xFB:
            return "sti";
        case 0x9C:
            return "pushf";
        case 0x9D:
            return "popf";
        case 0xCD:
            return "int";
        case 0xCF:
            return "iret";
        case 0xE4:
            return "in";
        case 0xF4:
            return "hlt";
    }
    return "?";
}

/* "<prefix>-<i>: <instruction> #GP err=... ip=...": the i-th trap. */
static void check_trap(const char* prefix, int i, uint8_t opcode, const uint8_t* site,
                       uint32_t error) {
    const struct trap* t = &traps[i];
    const int ok =
        i < trap_count && t->opcode == opcode && t->ip == IP_OF(site) && t->error == error;
    if (!ok) ++checks_bad;
    serial_puts(prefix);
    serial_puts("-");
    serial_put_dec((uint32_t)i);
    serial_puts(": ");
    if (i >= trap_count) {
        serial_puts("none BAD\n");
        return;
    }
    serial_puts(opcode_name(t->opcode));
    if (t->opcode == 0xCD || t->opcode == 0xE4) {
        serial_puts(" ");
        put_hex(t->operand, 2);
    }
    serial_puts(" #GP err=");
    put_hex(t->error, 4);
    serial_puts(" ip=");
    put_hex(t->ip, 4);
    serial_puts(ok ? " ok\n" : " BAD\n");
}

static int enter_v86(const uint8_t* entry, uint32_t eflags) {
    const uint32_t frame[9] = {IP_OF(entry), V86_CS, eflags, V86_SP, V86_SS,
                               V86_ES,       V86_DS, V86_FS, V86_GS};
    return try_iret(frame, 9);
}

#define DATA16(off) (*(volatile uint16_t*)(data_frame + (off)))
#define DATA32(off) (*(volatile uint32_t*)(data_frame + (off)))

static void check_iopl0(void) {
    *(volatile uint32_t*)data_frame = MARK;
    ivt_frame[0x21] = (uint32_t)V86_CS << 16 | IP_OF(v86_int21);
    virtual_if = 1;
    trap_count = 0;
    exception_hooks[VEC_GP] = v86_monitor;
    /* SDM 20.2.1, Vol. 2A IRET: VM = 1 in the image at CPL 0 pops EIP, CS,
     * EFLAGS, ESP, SS, ES, DS, FS, GS and enters virtual-8086 mode. */
    check_fault("v86-iopl0-run", enter_v86(v86_phase1, EFLAGS_VM | 2), NO_FAULT, 0);
    exception_hooks[VEC_GP] = 0;
    check_hex("v86-reads-linear-21000-through-paging", DATA32(4), MARK, 8);
    check_hex("v86-cs", DATA16(8), V86_CS, 4);
    check_hex("v86-ss", DATA16(10), V86_SS, 4);
    check_hex("v86-sp", DATA16(12), V86_SP, 4);

    /* SDM 20.2.7: CLI, STI, PUSHF, POPF, INT n, IRET are IOPL-sensitive,
     * HLT privileged: #GP(0), CS:EIP at the instruction. IN is not
     * IOPL-sensitive in virtual-8086 mode, only the bit map counts (SDM
     * 20.2.8.1): port 0x80 runs, 0x82 traps. */
    check_trap("v86-trap", 0, 0xFA, v86_site_cli, 0);
    check_trap("v86-trap", 1, 0xFB, v86_site_sti, 0);
    check_trap("v86-trap", 2, 0x9C, v86_site_pushf, 0);
    check_trap("v86-trap", 3, 0x9D, v86_site_popf, 0);
    check_trap("v86-trap", 4, 0xCD, v86_site_int21, 0);
    check_trap("v86-trap", 5, 0xCF, v86_site_iret, 0);
    check_trap("v86-trap", 6, 0xE4, v86_site_in_denied, 0);
    check_trap("v86-trap", 7, 0xF4, v86_site_hlt, 0);
    check_hex("v86-trap-count", (uint32_t)trap_count, 8, 2);
    check_hex("v86-emulated-pushf", DATA16(14), 0x0202, 4);
    check_hex("v86-emulated-int21-ax", DATA16(16), 0x2121, 4);

    /* The monitor's first frame: the program's CS:IP, FLAGS with VM, SS:SP
     * and its data segments; DS..GS themselves are null in the handler
     * (SDM 20.3.1.1, Figure 20-5). RF is 1 in the EFLAGS image of any fault
     * but an instruction breakpoint (SDM 17.3.1.1); QEMU 7.2 pushes RF = 0:
     * the SDM wins. */
    const struct trap_frame* f = &first_frame;
    check_hex("v86-gp-frame-cs", f->cs & 0xFFFF, V86_CS, 4);
    check_hex("v86-gp-frame-eflags", f->eflags, EFLAGS_VM | EFLAGS_RF | 2, 8);
    check_hex("v86-gp-frame-esp", f->esp, V86_SP, 8);
    check_hex("v86-gp-frame-ss", f->ss & 0xFFFF, V86_SS, 4);
    check_hex("v86-gp-frame-es", f->v86_es & 0xFFFF, V86_ES, 4);
    check_hex("v86-gp-frame-ds", f->v86_ds & 0xFFFF, V86_DS, 4);
    check_hex("v86-gp-frame-fs", f->v86_fs & 0xFFFF, V86_FS, 4);
    check_hex("v86-gp-frame-gs", f->v86_gs & 0xFFFF, V86_GS, 4);
    check_hex("v86-gp-handler-ds", f->ds & 0xFFFF, 0, 4);
    check_hex("v86-gp-handler-es", f->es & 0xFFFF, 0, 4);
    check_hex("v86-gp-handler-fs", f->fs & 0xFFFF, 0, 4);
    check_hex("v86-gp-handler-gs", f->gs & 0xFFFF, 0, 4);
}

static void check_iopl3(void) {
    idt_set_gate(0x40, SEL_CODE0, (uint32_t)v86_int40_handler, TYPE_INT_GATE32, 3);
    idt_set_gate(0x41, SEL_CODE0, (uint32_t)v86_int40_handler, TYPE_INT_GATE32, 0);
    trap_count = 0;
    exception_hooks[VEC_GP] = v86_monitor;
    check_fault("v86-iopl3-run", enter_v86(v86_phase2, EFLAGS_VM | EFLAGS_IOPL3 | 2), NO_FAULT, 0);
    exception_hooks[VEC_GP] = 0;
    /* CLI/STI change IF itself; POPF does not change IOPL (SDM Vol. 2B POPF). */
    check_hex("v86-iopl3-pushf-after-cli", DATA16(18), 0x3002, 4);
    check_hex("v86-iopl3-pushf-after-sti", DATA16(20), 0x3202, 4);
    check_hex("v86-iopl3-popf-keeps-iopl", DATA16(22), 0x3002, 4);

    /* INT n at IOPL 3 goes through the IDT to ring 0 (SDM 20.3.1.1):
     * GS FS DS ES SS ESP EFLAGS CS EIP, the data segments null inside; the
     * IRET back pops them. */
    static const char* const names[9] = {
        "v86-int-frame-eip", "v86-int-frame-cs", "v86-int-frame-eflags",
        "v86-int-frame-esp", "v86-int-frame-ss", "v86-int-frame-es",
        "v86-int-frame-ds",  "v86-int-frame-fs", "v86-int-frame-gs"};
    const uint32_t want[9] = {IP_OF(v86_int40_return),
                              V86_CS,
                              EFLAGS_VM | EFLAGS_IOPL3 | 2,
                              V86_SP,
                              V86_SS,
                              V86_ES,
                              V86_DS,
                              V86_FS,
                              V86_GS};
    for (int i = 0; i < 9; ++i) {
        const uint32_t v = (i == 2 || i == 3) ? int40_frame[i] : int40_frame[i] & 0xFFFF;
        check_hex(names[i], v, want[i], i == 2 ? 8 : 4);
    }
    check_hex("v86-int-handler-ds", int40_segs[0] & 0xFFFF, 0, 4);
    check_hex("v86-int-handler-es", int40_segs[1] & 0xFFFF, 0, 4);
    check_hex("v86-int-handler-fs", int40_segs[2] & 0xFFFF, 0, 4);
    check_hex("v86-int-handler-gs", int40_segs[3] & 0xFFFF, 0, 4);
    check_hex("v86-ds-after-iret", DATA16(24), V86_DS, 4);

    /* A DPL-0 gate is #GP(vector * 8 + 2); IN still follows the bit map. */
    check_trap("v86-iopl3-trap", 0, 0xCD, v86_site_int41, 0x41 * 8 + 2);
    check_trap("v86-iopl3-trap", 1, 0xE4, v86_site_in_denied3, 0);
    check_hex("v86-iopl3-trap-count", (uint32_t)trap_count, 2, 2);
}

/* ---- a virtual-8086 task: entered by a task switch (SDM 7.3, 20.2.1) ---- */
#define SEL_TSS_V86 0x30
static struct tss tss_v86 __attribute__((aligned(128)));
static uint8_t v86_task_ring0_stack[4096] __attribute__((aligned(16)));
static struct trap_frame task_frame;
static uint32_t task_tr;

/* The #GP of the v86 task's CLI: noted, then back to the kernel's task by a
 * JMP to its TSS (the v86 task's state, this handler's, stays in its TSS). */
static int v86_task_monitor(struct trap_frame* f) {
    task_frame = *f;
    task_tr = read_tr();
    __asm__ volatile("ljmp %0, $0" : : "i"(SEL_TSS) : "memory");
    return 1; /* (not reached) */
}

static void check_v86_task(void) {
    memset(&tss_v86, 0, sizeof tss_v86);
    tss_v86.eip = IP_OF(v86_phase3);
    tss_v86.eflags = EFLAGS_VM | 2;
    tss_v86.cs = V86_CS;
    tss_v86.ss = V86_SS;
    tss_v86.esp = V86_SP;
    tss_v86.ds = V86_DS;
    tss_v86.es = V86_ES;
    tss_v86.fs = V86_FS;
    tss_v86.gs = V86_GS;
    tss_v86.cr3 = (uint32_t)pd;
    tss_v86.ss0 = SEL_DATA0;
    tss_v86.esp0 = (uint32_t)v86_task_ring0_stack + sizeof v86_task_ring0_stack;
    tss_v86.iomap_base = sizeof(struct tss);
    gdt_set_system(SEL_TSS_V86 >> 3, (uint32_t)&tss_v86, sizeof tss_v86 - 1, TYPE_TSS32, 0);
    main_tss.tss.cr3 = (uint32_t)pd; /* loaded on the way back */
    exception_hooks[VEC_GP] = v86_task_monitor;
    __asm__ volatile("ljmp %0, $0" : : "i"(SEL_TSS_V86) : "memory");
    exception_hooks[VEC_GP] = 0;
    check_hex("v86-task-ran-cs", DATA16(26), V86_CS, 4);
    check_hex("v86-task-ran-mark", DATA16(28), 0x7A7A, 4);
    check_hex("v86-task-gp-in-task", task_tr, SEL_TSS_V86, 4);
    check_hex("v86-task-gp-frame-ip", task_frame.eip, IP_OF(v86_site_task_cli), 8);
    check_hex("v86-task-gp-frame-cs", task_frame.cs & 0xFFFF, V86_CS, 4);
    check_hex("v86-task-gp-frame-eflags", task_frame.eflags, EFLAGS_VM | EFLAGS_RF | 2, 8);
    check_hex("v86-task-gp-frame-ss", task_frame.ss & 0xFFFF, V86_SS, 4);
    check_hex("v86-task-gp-frame-ds", task_frame.v86_ds & 0xFFFF, V86_DS, 4);
    check_hex("v86-task-back-tr", read_tr(), SEL_TSS, 4);
    check_hex("v86-task-not-busy", gdt_access(SEL_TSS_V86 >> 3), 0x89, 2);
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    main_tss.iomap[0x80 / 8] &= (uint8_t) ~(3u << (0x80 % 8));
    build_paging();
    check_iopl0();
    check_iopl3();
    check_v86_task();
    finish("system_v86");
}
