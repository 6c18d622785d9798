/* system_exceptions: the exceptions single instructions raise, through
 * 32-bit interrupt gates of the IDT (SDM Vol. 3A, 6.15): #DE, #UD, #NM (by
 * FWAIT with CR0.MP and TS, by an x87 instruction with CR0.EM), #BR and
 * #OF. Faults report the faulting instruction, the #OF trap the next one. */
#include "system.h"

#define VEC_OF 4
#define VEC_BR 5
#define VEC_NM 7
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)

typedef void routine(void);
routine de_run, de_site, ud_run, ud_site, nm_run, nm_site, nm_x87_run, nm_x87_site, br_run, br_site,
    br_inside_run, of_run, of_after, of_clear_run;

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    check_fault_at("divide-by-zero", try_call(de_run), VEC_DE, 0, (const void*)de_site);
    check_fault_at("ud2", try_call(ud_run), VEC_UD, 0, (const void*)ud_site);

    const uint32_t cr0 = read_cr0();
    write_cr0(cr0 | CR0_MP | CR0_TS);
    check_fault_at("fwait-mp-ts", try_call(nm_run), VEC_NM, 0, (const void*)nm_site);
    __asm__ volatile("clts");
    check_fault("fwait-after-clts", try_call(nm_run), NO_FAULT, 0);
    write_cr0((cr0 | CR0_EM) & ~CR0_TS);
    check_fault_at("x87-with-em", try_call(nm_x87_run), VEC_NM, 0, (const void*)nm_x87_site);
    write_cr0(cr0);

    check_fault_at("bound-outside", try_call(br_run), VEC_BR, 0, (const void*)br_site);
    check_fault("bound-inside", try_call(br_inside_run), NO_FAULT, 0);
    check_fault_at("into-overflow", try_call(of_run), VEC_OF, 0, (const void*)of_after);
    check_fault("into-no-overflow", try_call(of_clear_run), NO_FAULT, 0);
    finish("system_exceptions");
}
