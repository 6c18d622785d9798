/* The integer workloads as a multiboot guest: the report goes to COM1. The
 * kernel command line may give the scale ("scale=N"). */
#include "runtime.h"
#include "workloads/workloads.h"

static void report(const char* name, uint32_t value) {
    serial_puts(name);
    serial_puts(": ");
    serial_put_hex(value);
    serial_puts("\n");
}

static uint32_t scale_from(const char* cmdline) {
    for (const char* p = cmdline; p && *p; ++p) {
        if (p[0] == 's' && p[1] == 'c' && p[2] == 'a' && p[3] == 'l' && p[4] == 'e' &&
            p[5] == '=') {
            uint32_t v = 0;
            for (p += 6; *p >= '0' && *p <= '9'; ++p)
                v = v * 10 + (uint32_t)(*p - '0');
            return v ? v : 1;
        }
    }
    return 1;
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) return 0x7F;
    const char* cmdline = (info->flags & 4) ? (const char*)info->cmdline : "";
    run_workloads(scale_from(cmdline), report);
    return 0;
}
