/* The freestanding runtime of jitterbug's C test guests: COM1 output, the
 * exit port, and the few library functions gcc may call. */
#ifndef JITTERBUG_GUEST_RUNTIME_H
#define JITTERBUG_GUEST_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower;
    uint32_t mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
};

struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t addr;
    uint64_t len;
    uint32_t type;
} __attribute__((packed));

static inline void outb(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void serial_putc(char c);
void serial_puts(const char* s);
void serial_put_hex(uint32_t v);
void serial_put_dec(uint32_t v);
/* Ends the run: the exit port turns `code` into exit status (code << 1) | 1. */
__attribute__((noreturn)) void guest_exit(int code);

int guest_main(uint32_t magic, const struct multiboot_info* info);

void* memcpy(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
void* memmove(void* dst, const void* src, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);

#endif
