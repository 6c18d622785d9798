/* system_modes: leaving protected mode for real mode and coming back (SDM
 * Vol. 3A, 9.9), with the descriptor caches real mode keeps: a segment
 * loaded with a 4 GiB limit in protected mode keeps it in real mode and
 * through real-mode loads ("unreal" mode), while a 64 KiB one faults past
 * its limit; real-mode exceptions and INT n go through the IVT. */
#include "system.h"

#define RM_BASE 0x8000u
#define PATTERN_ADDR 0x00200000u
#define PATTERN 0x600DF00Du

typedef void routine(void);
extern uint8_t rm_start[], rm_end[], rm_gp_handler[], rm_int50_handler[], rm_gp_site[];
extern uint8_t r_bx[], r_cs[], r_unreal[], r_unreal_reloaded[], r_gp_count[], r_gp_ip[], r_int50[],
    r_int50_sp[];
routine mode_round_trip;

/* The copy of a blob symbol at RM_BASE, and its real-mode offset. */
#define BLOB_OFFSET(sym) ((uint32_t)((sym)-rm_start))
#define BLOB16(sym) (*(volatile uint16_t*)(RM_BASE + BLOB_OFFSET(sym)))
#define BLOB32(sym) (*(volatile uint32_t*)(RM_BASE + BLOB_OFFSET(sym)))

static void set_ivt(int vector, uint8_t* handler) {
    /* (The IVT is at address 0, which C calls null: the compiler must not
     * see the constant.) */
    volatile uint16_t* ivt;
    __asm__("" : "=r"(ivt) : "0"(0));
    ivt[vector * 2] = (uint16_t)BLOB_OFFSET(handler);
    ivt[vector * 2 + 1] = (uint16_t)(RM_BASE >> 4);
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    const uint8_t code = ACC_P | ACC_S | ACC_CODE | ACC_READABLE | ACC_ACCESSED;
    const uint8_t data = ACC_P | ACC_S | ACC_WRITABLE | ACC_ACCESSED;
    gdt_set(6, RM_BASE, 0xFFFF, code, 0);
    gdt_set(7, 0, 0xFFFF, data, 0);
    memcpy((void*)RM_BASE, rm_start, (uint32_t)(rm_end - rm_start));
    *(volatile uint32_t*)PATTERN_ADDR = PATTERN;
    set_ivt(VEC_GP, rm_gp_handler);
    set_ivt(0x50, rm_int50_handler);

    check_fault("real-mode-round-trip", try_call(mode_round_trip), NO_FAULT, 0);
    check_hex("after-cr0-pe-clear-old-cs-runs", BLOB16(r_bx), 0x1234, 4);
    check_hex("real-mode-cs", BLOB16(r_cs), RM_BASE >> 4, 4);
    check_hex("unreal-fs-reads-past-1m", BLOB32(r_unreal), PATTERN, 8);
    check_hex("unreal-fs-reload-keeps-limit", BLOB32(r_unreal_reloaded), PATTERN, 8);
    check_hex("real-mode-ds-limit-gp-count", BLOB16(r_gp_count), 1, 2);
    check_hex("real-mode-gp-ip-at-access", BLOB16(r_gp_ip), BLOB_OFFSET(rm_gp_site), 4);
    check_hex("real-mode-int-ivt", BLOB16(r_int50), 0x5050, 4);
    check_hex("real-mode-int-pushes-6-bytes", BLOB16(r_int50_sp), 0x7000 - 6, 4);
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    check_hex("protected-mode-again-cs", cs, SEL_CODE0, 4);
    check_hex("protected-mode-again-pe", read_cr0() & 1, 1, 1);
    finish("system_modes");
}
