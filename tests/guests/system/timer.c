/* system_timer: the PC's timer interrupt path as a kernel uses it — the
 * 8254 (counter 0 on IRQ 0 in modes 2 and 0, counter 2 gated and read back
 * through port 0x61 as Linux calibrates the TSC with it), the 8259A pair
 * (programmed, masking, an edge held while masked), and HLT sleeping until
 * the next tick. The last line, loops counted between two ticks, depends on
 * time: it is the same on every run only with a deterministic clock. */
#include "system.h"

#define IRQ0_VECTOR 0x20
#define PIT_HZ 1193182u

volatile uint32_t ticks;
void irq0_stub(void);
__asm__(
    ".globl irq0_stub\n"
    "irq0_stub:\n\t"
    "pushl %eax\n\t"
    "incl ticks\n\t"
    "movb $0x20, %al\n\t"
    "outb %al, $0x20\n\t"
    "popl %eax\n\t"
    "iret\n");

static void program_pics(void) {
    outb(0x20, 0x11);
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0xA0, 0x11);
    outb(0xA1, 0x28);
    outb(0xA1, 0x02);
    outb(0xA1, 0x01);
    outb(0x21, 0xFE); /* IRQ 0 only */
    outb(0xA1, 0xFF);
}

static void pit_program(unsigned counter, unsigned mode, uint16_t count) {
    outb(0x43, (uint8_t)(counter << 6 | 0x30 | mode << 1));
    outb((uint16_t)(0x40 + counter), (uint8_t)count);
    outb((uint16_t)(0x40 + counter), (uint8_t)(count >> 8));
}

static uint16_t pit_read(unsigned counter) {
    outb(0x43, (uint8_t)(counter << 6)); /* latch */
    const uint8_t lo = inb((uint16_t)(0x40 + counter));
    return (uint16_t)(lo | inb((uint16_t)(0x40 + counter)) << 8);
}

static void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    program_pics();
    idt_set_gate(IRQ0_VECTOR, SEL_CODE0, (uint32_t)irq0_stub, TYPE_INT_GATE32, 0);

    /* Mode 2 at 1000 Hz; HLT sleeps until each tick. */
    pit_program(0, 2, PIT_HZ / 1000);
    sti();
    uint32_t halts = 0;
    while (ticks < 10) {
        hlt();
        ++halts;
    }
    cli();
    check_hex("pit-mode2-ticks", ticks, 10, 2);
    /* (One tick may come between STI and the first HLT.) */
    check_hex("hlt-wakes-on-each-tick", halts == 10 || halts == 9, 1, 1);

    /* A masked IRQ 0 waits in the IRR; unmasked, it comes at once. */
    outb(0x21, 0xFF);
    ticks = 0;
    sti();
    const uint32_t start = pit_read(0);
    uint32_t seen = 0, last = start;
    while (seen < 3) { /* three wraps of the counter: three periods */
        const uint32_t now = pit_read(0);
        if (now > last) ++seen;
        last = now;
    }
    check_hex("masked-irq0-no-ticks", ticks, 0, 2);
    outb(0x21, 0xFE);
    __asm__ volatile("nop");
    check_hex("unmasked-irq0-arrives", ticks, 1, 2);
    cli();

    /* Mode 0: one interrupt, 5 ms after the count is written. */
    ticks = 0;
    pit_program(0, 0, PIT_HZ / 200);
    sti();
    hlt();
    cli();
    check_hex("pit-mode0-one-shot", ticks, 1, 2);
    outb(0x43, 0xE2); /* read-back: counter 0's status */
    check_hex("pit-mode0-out-stays-high", (uint32_t)(inb(0x40) >> 7), 1, 1);

    /* Counter 2 as Linux's TSC calibration uses it: gate on, speaker off,
     * mode 0 (from 0x4000 here: 14 ms), the MSB read until OUT2 (port 0x61
     * bit 5) rises. */
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xB0);
    outb(0x42, 0x00);
    outb(0x42, 0x40);
    uint32_t msb_changes = 0, prev = 0xFF;
    while (!(inb(0x61) & 0x20)) {
        (void)inb(0x42);
        const uint32_t msb = inb(0x42);
        if (msb != prev) ++msb_changes;
        prev = msb;
    }
    check_hex("pit-ch2-out2-rises", 1, 1, 1);
    check_hex("pit-ch2-msb-counts-down", msb_changes >= 8, 1, 1); /* (real time may skip some) */
    outb(0x61, inb(0x61) & ~0x03);

    /* Busy loops between two ticks: time as the clock keeps it. */
    pit_program(0, 2, PIT_HZ / 1000);
    ticks = 0;
    sti();
    while (ticks < 1) {}
    volatile uint32_t loops = 0;
    while (ticks < 2)
        ++loops;
    cli();
    outb(0x21, 0xFF);
    serial_puts("loops-per-tick: ");
    serial_put_dec(loops);
    serial_puts("\n");
    /* The debug console (port 0xE9) answers 0xE9 and takes a line. */
    if (inb(0xE9) == 0xE9) {
        for (const char* p = "system_timer: debug console\n"; *p; ++p)
            outb(0xE9, (uint8_t)*p);
    }
    finish("system_timer");
}
