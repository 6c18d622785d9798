/* The shared part of the system-architecture test guests: a GDT with ring-0
 * and ring-3 flat segments, a TSS for ring-3 -> ring-0 stack switches, an
 * IDT whose exception stubs record each fault, ways to run code at ring 0
 * or ring 3 and come back when it faults (try_call, try_user), and the lines
 * the guests print. SDM references are to Intel SDM Vol. 3A. */
#ifndef JITTERBUG_GUEST_SYSTEM_H
#define JITTERBUG_GUEST_SYSTEM_H

#include "runtime.h"

/* Selectors of the shared GDT (the SYSENTER/SYSEXIT layout: code 0, data 0,
 * code 3, data 3 in a row, SDM 5.8.7). */
#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1B
#define SEL_DATA3 0x23
#define SEL_TSS 0x28
#define GDT_FIRST_FREE 6 /* the first GDT index the kernels may use */
#define GDT_ENTRIES 64

/* Descriptor access bytes and flags (SDM 3.4.5). */
#define ACC_P 0x80
#define ACC_DPL(n) ((n) << 5)
#define ACC_S 0x10
#define ACC_CODE 0x08
#define ACC_CONFORMING 0x04  /* code */
#define ACC_EXPAND_DOWN 0x04 /* data */
#define ACC_READABLE 0x02    /* code */
#define ACC_WRITABLE 0x02    /* data */
#define ACC_ACCESSED 0x01
#define FLAG_G 0x8
#define FLAG_DB 0x4

/* System descriptor and gate types (SDM Table 3-2). */
#define TYPE_TSS32 0x9
#define TYPE_TSS32_BUSY 0xB
#define TYPE_LDT 0x2
#define TYPE_TASK_GATE 0x5
#define TYPE_CALL_GATE16 0x4
#define TYPE_CALL_GATE32 0xC
#define TYPE_INT_GATE32 0xE
#define TYPE_TRAP_GATE32 0xF
#define TYPE_INT_GATE16 0x6
#define TYPE_TRAP_GATE16 0x7

/* Exception vectors (SDM Table 6-1). */
enum {
    VEC_DE = 0,
    VEC_DB = 1,
    VEC_BP = 3,
    VEC_UD = 6,
    VEC_DF = 8,
    VEC_TS = 10,
    VEC_NP = 11,
    VEC_SS = 12,
    VEC_GP = 13,
    VEC_PF = 14,
};
#define NO_FAULT (-1)
#define VEC_USER_RETURN 0x30 /* the DPL-3 gate ring-3 code leaves through */

#define EFLAGS_TF (1u << 8)
#define EFLAGS_IF (1u << 9)
#define EFLAGS_IOPL3 (3u << 12)
#define EFLAGS_NT (1u << 14)
#define EFLAGS_RF (1u << 16)
#define EFLAGS_VM (1u << 17)

struct tss {
    uint16_t link, link_hi;
    uint32_t esp0;
    uint16_t ss0, ss0_hi;
    uint32_t esp1;
    uint16_t ss1, ss1_hi;
    uint32_t esp2;
    uint16_t ss2, ss2_hi;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, es_hi, cs, cs_hi, ss, ss_hi, ds, ds_hi, fs, fs_hi, gs, gs_hi, ldt, ldt_hi;
    uint16_t trap, iomap_base;
} __attribute__((packed));

/* The main TSS: an I/O permission bit map for ports 0-0xFF and the byte of
 * ones that must follow it (SDM 18.5.2); the TSS limit ends at that byte. */
#define IOMAP_PORTS 0x100
struct main_tss {
    struct tss tss;
    uint8_t iomap[IOMAP_PORTS / 8];
    uint8_t iomap_end;
} __attribute__((packed));

/* What the exception stubs push: segment registers, PUSHA, vector, error
 * code (0 where the CPU pushes none), then the CPU's frame (SDM 6.12.1). */
struct trap_frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_handler, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;                        /* when the CPL changed */
    uint32_t v86_es, v86_ds, v86_fs, v86_gs; /* when interrupting virtual-8086 mode */
};

/* The last exception the stubs saw. esp/ss are those of the frame when the
 * CPL changed (or virtual-8086 mode was left), else 0. */
struct fault {
    uint32_t vector, error, eip, cs, eflags, esp, ss, cr2;
};
extern volatile struct fault last_fault;
extern volatile uint32_t fault_count;

extern uint64_t gdt[GDT_ENTRIES];
extern const uint32_t exception_stubs[32]; /* the stubs' addresses, by vector */
extern uint64_t idt[256];
extern struct main_tss main_tss;
extern uint8_t kernel_stack_top[]; /* TSS.ESP0 */
extern uint8_t user_stack_top[];   /* ESP of try_user's ring-3 code */

/* A hook sees an exception first; nonzero means "handled": the stub IRETs
 * with the frame as the hook left it. */
typedef int (*exception_hook)(struct trap_frame* frame);
extern exception_hook exception_hooks[32];

void system_init(void);
/* Runs fn at ring 0 and returns NO_FAULT, or the vector of the exception it
 * took, which ends it (the state is then as try_call found it: ESP, the
 * callee-saved registers, flat data segments, EFLAGS = 2). */
int try_call(void (*fn)(void));
/* Runs fn at ring 3 (CS 0x1B, SS and data segments 0x23, ESP user_stack_top,
 * the given EFLAGS) by IRET; it ends by user_return() (NO_FAULT) or by an
 * exception (its vector), as try_call. */
int try_user(void (*fn)(void), uint32_t eflags);
/* The same with an IRET to the given frame (EIP, CS, EFLAGS, ...). */
int try_iret(const uint32_t* frame, uint32_t dwords);
/* Ends the try_call/try_user in progress as if it had returned `result`. */
__attribute__((noreturn)) void catch_resume(int result);
static inline __attribute__((noreturn)) void user_return(void) {
    __asm__ volatile("int $0x30");
    __builtin_unreachable();
}

uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void gdt_set(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void gdt_set_system(int index, uint32_t base, uint32_t limit, uint8_t type, uint8_t dpl);
void gdt_set_gate(int index, uint16_t selector, uint32_t offset, uint8_t type, uint8_t dpl,
                  uint8_t params);
void idt_set_gate(int vector, uint16_t selector, uint32_t offset, uint8_t type, uint8_t dpl);
/* The access byte of a GDT descriptor (byte 5). */
static inline uint8_t gdt_access(int index) { return (uint8_t)(gdt[index] >> 40); }
void ltr(uint16_t selector);

/* The printed lines: "name: <raw values> ok" or "... BAD (want ...)". */
extern uint32_t checks_bad;
const char* vector_name(int vector);
void put_hex(uint32_t v, int digits);
int check_fault(const char* name, int got, int want_vector, uint32_t want_error);
/* The same, and the faulting EIP must be `want_eip` (printed as "eip=site"). */
int check_fault_at(const char* name, int got, int want_vector, uint32_t want_error,
                   const void* want_eip);
int check_hex(const char* name, uint32_t got, uint32_t want, int digits);
int check_flag(const char* name, uint32_t got, uint32_t want);
/* What a #DB hook saw of one debug exception. */
struct debug_event {
    uint32_t eip, dr6, eflags, ecx, tr;
};
/* "<prefix>[-<index>]: #DB eip=site dr6=<hex>[ tr=<hex>] ok": the event
 * seen (none: null) against the EIP, DR6 and, unless want_tr is 0, TR
 * wanted; index < 0 prints none. */
int check_debug_event(const char* prefix, int index, const struct debug_event* seen,
                      const void* want_eip, uint32_t want_dr6, uint16_t want_tr);
/* "name: done, N bad", then the exit port. */
__attribute__((noreturn)) void finish(const char* kernel);

static inline uint32_t read_cr0(void) {
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static inline uint32_t read_cr2(void) {
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline uint32_t read_cr3(void) {
    uint32_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline uint32_t read_cr4(void) {
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static inline void write_cr0(uint32_t v) {
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}
static inline void write_cr3(uint32_t v) {
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}
static inline void write_cr4(uint32_t v) {
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}
static inline void invlpg(const volatile void* p) {
    __asm__ volatile("invlpg (%0)" : : "r"(p) : "memory");
}
static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpuid(uint32_t leaf, uint32_t* a, uint32_t* b, uint32_t* c, uint32_t* d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}
static inline uint16_t read_tr(void) {
    uint16_t v;
    __asm__ volatile("str %0" : "=r"(v));
    return v;
}

#endif
