#include "system.h"

struct pseudo_descriptor {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
uint64_t idt[256] __attribute__((aligned(8)));
struct main_tss main_tss __attribute__((aligned(128)));
exception_hook exception_hooks[32];
volatile struct fault last_fault;
volatile uint32_t fault_count;
uint32_t checks_bad;

static uint8_t kernel_stack[16384] __attribute__((aligned(16), used));
static uint8_t user_stack[16384] __attribute__((aligned(4096), used));
/* (The tops as symbols, for the assembly and for comparisons.) */
__asm__(
    ".globl kernel_stack_top\n.set kernel_stack_top, kernel_stack + 16384\n"
    ".globl user_stack_top\n.set user_stack_top, user_stack + 16384\n");

extern volatile uint32_t catch_armed;
void load_tables(const struct pseudo_descriptor* gdtr, const struct pseudo_descriptor* idtr);
void user_return_isr(void);

uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
    return (limit & 0xFFFFull) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xF) << 48) | ((uint64_t)(flags & 0xF) << 52) |
           ((uint64_t)(base >> 24) << 56);
}

void gdt_set(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
    gdt[index] = segment_descriptor(base, limit, access, flags);
}

void gdt_set_system(int index, uint32_t base, uint32_t limit, uint8_t type, uint8_t dpl) {
    gdt_set(index, base, limit, (uint8_t)(ACC_P | ACC_DPL(dpl) | type), 0);
}

static uint64_t gate(uint16_t selector, uint32_t offset, uint8_t type, uint8_t dpl,
                     uint8_t params) {
    return (offset & 0xFFFFull) | ((uint64_t)selector << 16) | ((uint64_t)(params & 0x1F) << 32) |
           ((uint64_t)(ACC_P | ACC_DPL(dpl) | type) << 40) | ((uint64_t)(offset >> 16) << 48);
}

void gdt_set_gate(int index, uint16_t selector, uint32_t offset, uint8_t type, uint8_t dpl,
                  uint8_t params) {
    gdt[index] = gate(selector, offset, type, dpl, params);
}

void idt_set_gate(int vector, uint16_t selector, uint32_t offset, uint8_t type, uint8_t dpl) {
    idt[vector] = gate(selector, offset, type, dpl, 0);
}

void ltr(uint16_t selector) { __asm__ volatile("ltr %0" : : "r"(selector) : "memory"); }

void system_init(void) {
    /* Interrupts stay off everywhere; mask the PICs in case a test sets IF. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);

    /* (Accessed from the start: the A bit is tested on descriptors of the
     * kernels' own.) */
    const uint8_t code = ACC_P | ACC_S | ACC_CODE | ACC_READABLE | ACC_ACCESSED;
    const uint8_t data = ACC_P | ACC_S | ACC_WRITABLE | ACC_ACCESSED;
    gdt_set(1, 0, 0xFFFFF, code, FLAG_G | FLAG_DB);
    gdt_set(2, 0, 0xFFFFF, data, FLAG_G | FLAG_DB);
    gdt_set(3, 0, 0xFFFFF, code | ACC_DPL(3), FLAG_G | FLAG_DB);
    gdt_set(4, 0, 0xFFFFF, data | ACC_DPL(3), FLAG_G | FLAG_DB);

    main_tss.tss.ss0 = SEL_DATA0;
    main_tss.tss.esp0 = (uint32_t)kernel_stack_top;
    main_tss.tss.iomap_base = sizeof(struct tss);
    memset(main_tss.iomap, 0xFF, sizeof main_tss.iomap);
    main_tss.iomap_end = 0xFF;
    gdt_set_system(SEL_TSS >> 3, (uint32_t)&main_tss, sizeof main_tss - 1, TYPE_TSS32, 0);

    for (int v = 0; v < 32; ++v)
        idt_set_gate(v, SEL_CODE0, exception_stubs[v], TYPE_INT_GATE32, 0);
    idt_set_gate(VEC_USER_RETURN, SEL_CODE0, (uint32_t)user_return_isr, TYPE_INT_GATE32, 3);

    static const struct pseudo_descriptor gdtr = {sizeof gdt - 1, (uint32_t)gdt};
    static const struct pseudo_descriptor idtr = {sizeof idt - 1, (uint32_t)idt};
    load_tables(&gdtr, &idtr);
    ltr(SEL_TSS);
}

static int from_outer_level(const struct trap_frame* f) {
    return (f->eflags & EFLAGS_VM) || (f->cs & 3) != 0;
}

void exception_dispatch(struct trap_frame* f) {
    const uint32_t cr2 = read_cr2();
    last_fault.vector = f->vector;
    last_fault.error = f->error;
    last_fault.eip = f->eip;
    last_fault.cs = f->cs & 0xFFFF;
    last_fault.eflags = f->eflags;
    last_fault.esp = from_outer_level(f) ? f->esp : 0;
    last_fault.ss = from_outer_level(f) ? f->ss & 0xFFFF : 0;
    last_fault.cr2 = cr2;
    ++fault_count;
    if (f->vector < 32 && exception_hooks[f->vector] && exception_hooks[f->vector](f)) return;
    if (catch_armed) catch_resume((int)f->vector);
    serial_puts("unexpected ");
    serial_puts(vector_name((int)f->vector));
    serial_puts(" err=");
    put_hex(f->error, 4);
    serial_puts(" at ");
    put_hex(f->cs & 0xFFFF, 4);
    serial_puts(":");
    put_hex(f->eip, 8);
    serial_puts("\n");
    guest_exit(0x7F);
}

const char* vector_name(int vector) {
    static const char* const names[32] = {"#DE", "#DB", "NMI",   "#BP", "#OF", "#BR", "#UD",
                                          "#NM", "#DF", "#MF-9", "#TS", "#NP", "#SS", "#GP",
                                          "#PF", "#15", "#MF",   "#AC", "#MC", "#XM", "#VE"};
    if (vector < 0) return "no fault";
    if (vector < 32 && names[vector]) return names[vector];
    return "#?";
}

static int has_error_code(int vector) {
    return vector == VEC_DF || (vector >= VEC_TS && vector <= VEC_PF) || vector == 17;
}

void put_hex(uint32_t v, int digits) {
    static const char hex[] = "0123456789abcdef";
    serial_puts("0x");
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
        serial_putc(hex[(v >> shift) & 15]);
}

static void put_fault(int vector, uint32_t error) {
    serial_puts(vector_name(vector));
    if (vector >= 0 && has_error_code(vector)) {
        serial_puts(" err=");
        put_hex(error, 4);
    }
}

static int verdict(int ok) {
    if (!ok) ++checks_bad;
    return ok;
}

static void end_line(int ok) { serial_puts(ok ? " ok\n" : "\n"); }

int check_fault(const char* name, int got, int want_vector, uint32_t want_error) {
    const int ok = verdict(got == want_vector &&
                           (got < 0 || !has_error_code(got) || last_fault.error == want_error));
    serial_puts(name);
    serial_puts(": ");
    put_fault(got, last_fault.error);
    if (got == VEC_PF) {
        serial_puts(" cr2=");
        put_hex(last_fault.cr2, 8);
    }
    if (!ok) {
        serial_puts(" BAD, want ");
        put_fault(want_vector, want_error);
    }
    end_line(ok);
    return ok;
}

int check_fault_at(const char* name, int got, int want_vector, uint32_t want_error,
                   const void* want_eip) {
    const int ok = verdict(got == want_vector && last_fault.eip == (uint32_t)want_eip &&
                           (!has_error_code(got) || last_fault.error == want_error));
    serial_puts(name);
    serial_puts(": ");
    put_fault(got, last_fault.error);
    if (got >= 0) {
        serial_puts(" eip=");
        if (last_fault.eip == (uint32_t)want_eip)
            serial_puts("site");
        else
            put_hex(last_fault.eip, 8);
    }
    if (got == VEC_PF) {
        serial_puts(" cr2=");
        put_hex(last_fault.cr2, 8);
    }
    if (!ok) {
        serial_puts(" BAD, want ");
        put_fault(want_vector, want_error);
        serial_puts(" at site");
    }
    end_line(ok);
    return ok;
}

int check_hex(const char* name, uint32_t got, uint32_t want, int digits) {
    const int ok = verdict(got == want);
    serial_puts(name);
    serial_puts(": ");
    put_hex(got, digits);
    if (!ok) {
        serial_puts(" BAD, want ");
        put_hex(want, digits);
    }
    end_line(ok);
    return ok;
}

int check_debug_event(const char* prefix, int index, const struct debug_event* seen,
                      const void* want_eip, uint32_t want_dr6, uint16_t want_tr) {
    const int ok = verdict(seen && seen->eip == (uint32_t)want_eip && seen->dr6 == want_dr6 &&
                           (!want_tr || seen->tr == want_tr));
    serial_puts(prefix);
    if (index >= 0) {
        serial_puts("-");
        serial_put_dec((uint32_t)index);
    }
    serial_puts(": ");
    if (!seen) {
        serial_puts("none BAD\n");
        return ok;
    }
    serial_puts("#DB eip=");
    if (seen->eip == (uint32_t)want_eip)
        serial_puts("site");
    else
        put_hex(seen->eip, 8);
    serial_puts(" dr6=");
    put_hex(seen->dr6, 8);
    if (want_tr) {
        serial_puts(" tr=");
        put_hex(seen->tr, 4);
    }
    serial_puts(ok ? " ok\n" : " BAD\n");
    return ok;
}

int check_flag(const char* name, uint32_t got, uint32_t want) {
    const int ok = verdict(!got == !want);
    serial_puts(name);
    serial_puts(got ? ": 1" : ": 0");
    if (!ok) serial_puts(" BAD");
    end_line(ok);
    return ok;
}

void finish(const char* kernel) {
    serial_puts(kernel);
    serial_puts(": done, ");
    serial_put_dec(checks_bad);
    serial_puts(" bad\n");
    guest_exit(0);
}
