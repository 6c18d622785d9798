/* The integer workloads as a multiboot guest: the report goes to COM1. The
 * kernel command line may give the scale ("scale=N") and one workload to run
 * ("only=NAME"). */
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

/* The value of "only=" in the command line, copied (ends at a space). */
static const char* only_from(const char* cmdline, char* buf, unsigned size) {
    buf[0] = 0;
    for (const char* p = cmdline; p && *p; ++p) {
        if (p[0] == 'o' && p[1] == 'n' && p[2] == 'l' && p[3] == 'y' && p[4] == '=') {
            unsigned n = 0;
            for (p += 5; *p && *p != ' ' && n + 1 < size; ++p) buf[n++] = *p;
            buf[n] = 0;
            break;
        }
    }
    return buf;
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) return 0x7F;
    const char* cmdline = (info->flags & 4) ? (const char*)info->cmdline : "";
    char only[32];
    /* "only=none" runs nothing: the start-up cost, for the benchmarks. */
    run_workloads(scale_from(cmdline), only_from(cmdline, only, sizeof only), report);
    return 0;
}
