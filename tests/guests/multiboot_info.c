/* Reports what the boot loader handed over: the magic, the information
 * structure's flags, memory sizes, the command line, the boot loader name,
 * the modules (string, size, page alignment, first bytes) and the memory
 * map, then exits with code 0x21. The test checks every line. */
#include "runtime.h"

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    serial_puts("magic ");
    serial_put_hex(magic);
    serial_puts("\nflags ");
    serial_put_hex(info->flags);
    serial_puts("\nmem_lower ");
    serial_put_dec(info->mem_lower);
    serial_puts("\nmem_upper ");
    serial_put_dec(info->mem_upper);
    serial_puts("\ncmdline '");
    serial_puts((const char*)info->cmdline);
    serial_puts("'\nloader '");
    serial_puts((const char*)info->boot_loader_name);
    serial_puts("'\nmods ");
    serial_put_dec(info->mods_count);
    serial_puts("\n");
    const uint32_t* mod = (const uint32_t*)info->mods_addr;
    for (uint32_t i = 0; i < info->mods_count; ++i, mod += 4) {
        serial_puts("mod '");
        serial_puts((const char*)mod[2]);
        serial_puts("' size ");
        serial_put_dec(mod[1] - mod[0]);
        serial_puts(mod[0] % 4096 == 0 && mod[0] >= 0x100000 ? " aligned '" : " misplaced '");
        const char* bytes = (const char*)mod[0];
        for (uint32_t k = 0; k < mod[1] - mod[0] && k < 8; ++k) {
            const char c[2] = {bytes[k], 0};
            serial_puts(c);
        }
        serial_puts("'\n");
    }
    const uint8_t* p = (const uint8_t*)info->mmap_addr;
    const uint8_t* end = p + info->mmap_length;
    while (p < end) {
        const struct multiboot_mmap_entry* e = (const struct multiboot_mmap_entry*)p;
        serial_puts("mmap ");
        serial_put_hex((uint32_t)(e->addr >> 32));
        serial_put_hex((uint32_t)e->addr);
        serial_puts(" ");
        serial_put_hex((uint32_t)(e->len >> 32));
        serial_put_hex((uint32_t)e->len);
        serial_puts(" ");
        serial_put_dec(e->type);
        serial_puts("\n");
        p += e->size + 4;
    }
    return 0x21;
}
