/* system_triple: a triple fault (SDM Vol. 3A, 6.15, #DF): with an IDT too
 * short for any vector, INT3 raises #GP, whose delivery raises #GP again
 * (contributory twice: #DF), whose delivery faults once more: the
 * processor shuts down, and the machine stops there. */
#include "system.h"

struct pseudo_descriptor {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    system_init();
    serial_puts("triple-fault: next\n");
    static const struct pseudo_descriptor empty_idt = {0, 0};
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty_idt));
    serial_puts("triple-fault: still running BAD\n");
    finish("system_triple");
}
