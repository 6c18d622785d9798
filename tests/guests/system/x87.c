/* system_x87: the x87 as an operating system sees it (SDM Vol. 1, 8.1 and
 * 8.6-8.7; Vol. 2 for FSTENV, FSAVE, FXSAVE): FNINIT's state; the 32- and
 * 16-bit protected-mode environment images of FSTENV (which then masks
 * every exception) and FLDENV; FSAVE/FRSTOR in both formats (FSAVE
 * reinitialises); FXSAVE/FXRSTOR with the abridged tag byte; an unmasked
 * exception raising #MF at the next waiting instruction with CR0.NE set,
 * the non-waiting forms that do not; #NM and #UD from CR0.TS/EM. Then a
 * series of long double results (x87_series.h) printed line by line. */
#include "system.h"
#include "x87_series.h"

#define VEC_NM 7
#define VEC_MF 16
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)

struct env32 {
    uint16_t cw, cw_hi, sw, sw_hi, tw, tw_hi;
    uint32_t fip;
    uint16_t fcs;
    uint16_t fop; /* bits 16-26 of the dword */
    uint32_t fdp;
    uint16_t fds, fds_hi;
} __attribute__((packed));

struct env16 {
    uint16_t cw, sw, tw, fip, fcs, fdp, fds;
} __attribute__((packed));

struct fxarea {
    uint16_t fcw, fsw;
    uint8_t ftw, reserved0;
    uint16_t fop;
    uint32_t fip;
    uint16_t fcs, reserved1;
    uint32_t fdp;
    uint16_t fds, reserved2;
    uint32_t mxcsr, mxcsr_mask;
    uint8_t st[8][16];
    uint8_t rest[320];
} __attribute__((packed, aligned(16)));

static volatile float operand = 2.5f;
extern const char load_site[], mf_raise_site[], mf_site[], nm_site[], fxsave_site[],
    fxsave_misaligned_site[];

/* FNINIT, FLDPI, then FLDS operand as the last non-control instruction:
 * TOP 6, ST0 = 2.5, ST1 = pi; FIP/FOP/FDP name the FLDS. */
__attribute__((noinline)) static void load_state(void) {
    __asm__ volatile(
        "fninit\n\t"
        "fldpi\n\t"
        ".globl load_site\n"
        "load_site: flds operand\n\t" ::
            : "memory");
}

static uint16_t fnstcw(void) {
    uint16_t v;
    __asm__ volatile("fnstcw %0" : "=m"(v));
    return v;
}
static uint16_t fnstsw(void) {
    uint16_t v;
    __asm__ volatile("fnstsw %0" : "=m"(v));
    return v;
}
static void fnstenv(struct env32* e) { __asm__ volatile("fnstenv %0" : "=m"(*e)); }
static void fldenv(const struct env32* e) { __asm__ volatile("fldenv %0" : : "m"(*e)); }

/* An address against the label it must be: printed as `what` when equal
 * (so that the expected text does not move with the link), else in hex. */
static void check_address(const char* name, uint32_t got, uint32_t want, const char* what) {
    if (got == want) {
        serial_puts(name);
        serial_puts(": ");
        serial_puts(what);
        serial_puts(" ok\n");
        return;
    }
    check_hex(name, got, want, 8);
}

/* An 80-bit value at p against sign/exponent and significand. */
static int check_x80(const char* name, const void* p, uint16_t se, uint64_t m) {
    uint16_t got_se;
    uint64_t got_m;
    memcpy(&got_m, p, 8);
    memcpy(&got_se, (const uint8_t*)p + 8, 2);
    const int ok = check_hex(name, got_se, se, 4);
    return check_hex(name, (uint32_t)(got_m >> 32), (uint32_t)(m >> 32), 8) &&
           check_hex(name, (uint32_t)got_m, (uint32_t)m, 8) && ok;
}
#define PI_SE 0x4000
#define PI_M 0xC90FDAA22168C235ull
#define OPERAND_SE 0x4000
#define OPERAND_M 0xA000000000000000ull

/* Pops ST0 and ST1 as 80-bit values and checks them (2.5, then pi). */
static void check_stack(const char* st0, const char* st1) {
    uint8_t a[10], b[10];
    __asm__ volatile("fstpt %0\n\tfstpt %1" : "=m"(a), "=m"(b));
    check_x80(st0, a, OPERAND_SE, OPERAND_M);
    check_x80(st1, b, PI_SE, PI_M);
}

static void environment_checks(void) {
    struct env32 e;
    __asm__ volatile("fninit");
    check_hex("fninit-cw", fnstcw(), 0x037F, 4);
    check_hex("fninit-sw", fnstsw(), 0x0000, 4);
    fnstenv(&e);
    check_hex("fninit-tw", e.tw, 0xFFFF, 4);

    load_state();
    __asm__ volatile("fldcw %0" : : "m"((uint16_t){0x0372}));  // a control instruction: FIP stays
    fnstenv(&e);
    check_hex("fstenv32-cw", e.cw, 0x0372, 4);
    check_hex("fstenv32-sw", e.sw, 0x3000, 4);
    check_hex("fstenv32-tw", e.tw, 0x0FFF, 4);
    check_address("fstenv32-fip", e.fip, (uint32_t)load_site, "site");
    check_hex("fstenv32-fcs", e.fcs, SEL_CODE0, 4);
    check_hex("fstenv32-fop", e.fop, 0x0105, 4);  // D9 /0, ModR/M 05
    check_address("fstenv32-fdp", e.fdp, (uint32_t)&operand, "operand");
    check_hex("fstenv32-fds", e.fds, SEL_DATA0, 4);
    check_hex("fstenv-masks-all", fnstcw(), 0x037F, 4);

    struct env16 e16;
    __asm__ volatile(".byte 0x66\n\tfnstenv %0" : "=m"(e16));
    check_hex("fstenv16-cw", e16.cw, 0x037F, 4);
    check_hex("fstenv16-sw", e16.sw, 0x3000, 4);
    check_hex("fstenv16-tw", e16.tw, 0x0FFF, 4);
    check_address("fstenv16-fip", e16.fip, (uint32_t)load_site & 0xFFFF, "site");
    check_hex("fstenv16-fcs", e16.fcs, SEL_CODE0, 4);
    check_address("fstenv16-fdp", e16.fdp, (uint32_t)&operand & 0xFFFF, "operand");
    check_hex("fstenv16-fds", e16.fds, SEL_DATA0, 4);

    /* FLDENV: C3, C0 and TOP 3 come back through FNSTSW; the pointers too. */
    struct env32 changed = e;
    changed.sw = 0x4000 | (3 << 11) | 0x0100;
    __asm__ volatile("fninit");
    fldenv(&changed);
    check_hex("fldenv-sw", fnstsw(), 0x5900, 4);
    check_hex("fldenv-cw", fnstcw(), 0x0372, 4);
    fnstenv(&e);
    check_address("fldenv-fip", e.fip, (uint32_t)load_site, "site");
    check_hex("fldenv-tw", e.tw, 0x0FFF, 4);

    /* FSAVE (108 bytes: the environment, then ST0..ST7) reinitialises. */
    static uint8_t image[108];
    load_state();
    __asm__ volatile("fnsave %0" : "=m"(image));
    check_x80("fsave32-st0", image + 28, OPERAND_SE, OPERAND_M);
    check_x80("fsave32-st1", image + 38, PI_SE, PI_M);
    check_address("fsave32-fip", ((const struct env32*)image)->fip, (uint32_t)load_site, "site");
    check_hex("fsave-reinitialises-cw", fnstcw(), 0x037F, 4);
    check_hex("fsave-reinitialises-sw", fnstsw(), 0x0000, 4);
    __asm__ volatile("frstor %0" : : "m"(image));
    check_hex("frstor32-sw", fnstsw(), 0x3000, 4);
    check_stack("frstor32-st0", "frstor32-st1");

    /* The 16-bit image: 94 bytes, the registers from offset 14. */
    static uint8_t image16[94];
    load_state();
    __asm__ volatile(".byte 0x66\n\tfnsave %0" : "=m"(image16));
    check_x80("fsave16-st0", image16 + 14, OPERAND_SE, OPERAND_M);
    check_address("fsave16-fip", ((const struct env16*)image16)->fip, (uint32_t)load_site & 0xFFFF,
                  "site");
    __asm__ volatile(".byte 0x66\n\tfrstor %0" : : "m"(image16));
    check_hex("frstor16-sw", fnstsw(), 0x3000, 4);
    check_stack("frstor16-st0", "frstor16-st1");

    /* FXSAVE keeps the state; its tag is one bit per register. */
    static struct fxarea fx;
    load_state();
    __asm__ volatile("fxsave %0" : "=m"(fx));
    check_hex("fxsave-fcw", fx.fcw, 0x037F, 4);
    check_hex("fxsave-fsw", fx.fsw, 0x3000, 4);
    check_hex("fxsave-ftw", fx.ftw, 0xC0, 2);
    check_hex("fxsave-fop", fx.fop, 0x0105, 4);
    check_address("fxsave-fip", fx.fip, (uint32_t)load_site, "site");
    check_hex("fxsave-fcs", fx.fcs, SEL_CODE0, 4);
    check_address("fxsave-fdp", fx.fdp, (uint32_t)&operand, "operand");
    check_hex("fxsave-fds", fx.fds, SEL_DATA0, 4);
    check_x80("fxsave-st0", fx.st[0], OPERAND_SE, OPERAND_M);
    check_x80("fxsave-st1", fx.st[1], PI_SE, PI_M);
    check_hex("fxsave-keeps-sw", fnstsw(), 0x3000, 4);
    __asm__ volatile("fninit\n\tfxrstor %0" : : "m"(fx));
    fnstenv(&e);
    check_hex("fxrstor-tw", e.tw, 0x0FFF, 4);
    check_stack("fxrstor-st0", "fxrstor-st1");
}

/* 1/0 with ZE unmasked, then FWAIT. */
static void mf_run(void) {
    __asm__ volatile(
        "fninit\n\t"
        "fldcw %0\n\t"
        "fld1\n\t"
        "fldz\n\t"
        ".globl mf_raise_site\n"
        "mf_raise_site: fdivrp %%st, %%st(1)\n\t"
        ".globl mf_site\n"
        "mf_site: fwait\n\t"
        :
        : "m"((uint16_t){0x037B}));
}
/* The same error pending; the non-waiting instructions go on. */
static void no_wait_run(void) {
    static uint8_t image[108];
    uint16_t sw;
    __asm__ volatile("fnstsw %0\n\tfnstenv %1\n\tfnstcw %0\n\tfnclex\n\tfwait"
                     : "=m"(sw), "=m"(image));
}
static void nm_run(void) { __asm__ volatile(".globl nm_site\nnm_site: fld1\n\tfstp %st(0)"); }
static void fxsave_run(void) {
    static struct fxarea fx;
    __asm__ volatile(".globl fxsave_site\nfxsave_site: fxsave %0" : "=m"(fx));
}
static void fxsave_misaligned_run(void) {
    static struct fxarea fx[2];
    __asm__ volatile(".globl fxsave_misaligned_site\nfxsave_misaligned_site: fxsave %0"
                     : "=m"(*(struct fxarea*)((uint8_t*)fx + 8)));
}

static void exception_checks(void) {
    const uint32_t cr0 = read_cr0();
    write_cr0(cr0 | CR0_NE);
    check_fault_at("mf-at-fwait", try_call(mf_run), VEC_MF, 0, (const void*)mf_site);
    struct env32 e;
    fnstenv(&e);
    check_address("mf-fip", e.fip, (uint32_t)mf_raise_site, "site");
    check_hex("mf-fop", e.fop, 0x06F9, 4);  // DE F9
    check_hex("mf-sw-es-b-ze", e.sw & 0x80FF, 0x8084, 4);
    // FLDENV waits too: the error must go first; the image brings it back.
    __asm__ volatile("fnclex");
    fldenv(&e);
    check_fault("mf-fnstsw-fnstenv-fnclex", try_call(no_wait_run), NO_FAULT, 0);
    check_hex("mf-after-fnclex", fnstsw() & 0x80FF, 0x0000, 4);
    write_cr0(cr0);

    check_fault_at("fxsave-misaligned", try_call(fxsave_misaligned_run), VEC_GP, 0,
                   (const void*)fxsave_misaligned_site);
    write_cr0(cr0 | CR0_MP | CR0_TS);
    check_fault_at("x87-with-ts", try_call(nm_run), VEC_NM, 0, (const void*)nm_site);
    check_fault_at("fxsave-with-ts", try_call(fxsave_run), VEC_NM, 0, (const void*)fxsave_site);
    write_cr0((cr0 | CR0_EM) & ~CR0_TS);
    check_fault_at("fxsave-with-em", try_call(fxsave_run), VEC_UD, 0, (const void*)fxsave_site);
    write_cr0(cr0);
}

/* IRQ 13 the PC way (CR0.NE = 0): the 8259A pair at 0x20/0x28, IRQ 13 on
 * the slave's IR5 (vector 0x2D). The handler does what a PC's does: clear
 * the chipset's latch (port 0xF0), FNCLEX, EOI to both chips. */
#define IRQ13_VECTOR 0x2D
volatile uint32_t irq13_count;
volatile uint32_t irq13_return_eip;
void irq13_stub(void);
__asm__(
    ".globl irq13_stub\n"
    "irq13_stub:\n\t"
    "pushl %eax\n\t"
    "movl 4(%esp), %eax\n\t"
    "movl %eax, irq13_return_eip\n\t"
    "incl irq13_count\n\t"
    "xorl %eax, %eax\n\t"
    "outb %al, $0xF0\n\t"
    "fnclex\n\t"
    "movb $0x20, %al\n\t"
    "outb %al, $0xA0\n\t"
    "outb %al, $0x20\n\t"
    "popl %eax\n\t"
    "iret\n");

static void program_pics(void) {
    static const uint8_t master[] = {0x11, 0x20, 0x04, 0x01}, slave[] = {0x11, 0x28, 0x02, 0x01};
    outb(0x20, master[0]);
    outb(0x21, master[1]);
    outb(0x21, master[2]);
    outb(0x21, master[3]);
    outb(0xA0, slave[0]);
    outb(0xA1, slave[1]);
    outb(0xA1, slave[2]);
    outb(0xA1, slave[3]);
    outb(0x21, 0xFB); /* only the cascade */
    outb(0xA1, 0xDF); /* only IRQ 13 */
}

/* 1/0 with ZE unmasked, interrupts on; the FLD1 after it waits for the
 * error, so IRQ 13 comes first and its IRET returns to the FLD1. */
extern const char ferr_wait_site[];
static void ferr_run(void) {
    __asm__ volatile(
        "fninit\n\t"
        "fldcw %0\n\t"
        "fld1\n\t"
        "fldz\n\t"
        "fdivrp %%st, %%st(1)\n\t"
        "sti\n\t"
        ".globl ferr_wait_site\n"
        "ferr_wait_site: fld1\n\t"
        "cli\n\t"
        :
        : "m"((uint16_t){0x037B}));
}

static void legacy_error_checks(void) {
    program_pics();
    idt_set_gate(IRQ13_VECTOR, SEL_CODE0, (uint32_t)irq13_stub, TYPE_INT_GATE32, 0);
    write_cr0(read_cr0() & ~CR0_NE);
    check_fault("ferr-irq13-no-mf", try_call(ferr_run), NO_FAULT, 0);
    check_hex("ferr-irq13-count", irq13_count, 1, 2);
    check_address("ferr-irq13-returns-to-fld1", irq13_return_eip, (uint32_t)ferr_wait_site, "site");
    check_hex("ferr-fld1-ran-after-fnclex", fnstsw() & 0x38FF, 0x2800, 4); /* TOP 5, no flags */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
}

static void emit_line(const char* line) {
    serial_puts(line);
    serial_puts("\n");
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    environment_checks();
    exception_checks();
    legacy_error_checks();
    x87_series(emit_line);
    finish("system_x87");
}
