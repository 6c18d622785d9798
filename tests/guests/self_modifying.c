/* Self-modifying code: a store into an instruction that follows in the same
 * block, a patched function called again, and a REP MOVSB that overwrites
 * code that has already run. Each check prints its result; the test
 * expects the values the modified code produces. */
#include "runtime.h"

static void report(const char* name, uint32_t value) {
    serial_puts(name);
    serial_puts(" ");
    serial_put_hex(value);
    serial_puts("\n");
}

/* The store patches the immediate of the very next instruction. */
static uint32_t patch_next_instruction(uint8_t value) {
    uint32_t result;
    __asm__ volatile(
        "movb %b1, 1f+1\n\t"
        "1: movb $0, %%al\n\t"
        "movzbl %%al, %0\n\t"
        : "=r"(result)
        : "q"(value)
        : "eax", "memory");
    return result;
}

/* A loop of two blocks, X (a jump) and Y. Once both are translated they
 * run chained, X -> Y -> X, without the dispatcher, which last entered X; on
 * the last round Y's store lands in Y itself, on the immediate it loads
 * next. Earlier rounds store into a data byte and load the original 0. */
static uint32_t patch_chained_block(void) {
    static uint8_t scratch;
    uint32_t sum;
    __asm__ volatile(
        "xorl %%ebx, %%ebx\n\t"
        "movl $8, %%ecx\n\t"
        "movl %[scratch], %%edi\n\t"
        "jmp 1f\n\t"
        "1: nop\n\t"
        "jmp 2f\n\t"
        "2: movb %%cl, (%%edi)\n\t"
        "3: movb $0, %%al\n\t"
        "movzbl %%al, %%eax\n\t"
        "addl %%eax, %%ebx\n\t"
        "movl %[scratch], %%edi\n\t"
        "movl $3b+1, %%esi\n\t"
        "cmpl $2, %%ecx\n\t"
        "cmovel %%esi, %%edi\n\t"
        "decl %%ecx\n\t"
        "jnz 1b\n\t"
        : "=b"(sum)
        : [scratch] "i"(&scratch)
        : "eax", "ecx", "esi", "edi", "memory", "cc");
    return sum;
}

/* A function built in memory: mov eax, imm32; ret. */
static uint8_t code_buffer[16] __attribute__((aligned(16)));

static uint32_t call_buffer(void) { return ((uint32_t(*)(void))code_buffer)(); }

static void write_function(uint32_t imm) {
    code_buffer[0] = 0xB8;
    for (int i = 0; i < 4; ++i) code_buffer[1 + i] = (uint8_t)(imm >> (8 * i));
    code_buffer[5] = 0xC3;
}

/* A function already run (so translated), then overwritten by REP MOVSB. */
static uint32_t patch_with_rep_movsb(uint32_t imm) {
    uint8_t replacement[6] = {0xB8, 0, 0, 0, 0, 0xC3};
    for (int i = 0; i < 4; ++i) replacement[1 + i] = (uint8_t)(imm >> (8 * i));
    memcpy(code_buffer, replacement, sizeof replacement);  /* rep movsb */
    return call_buffer();
}

int guest_main(uint32_t magic, const struct multiboot_info* info) {
    (void)magic;
    (void)info;
    report("same_block", patch_next_instruction(0x42));
    report("same_block_again", patch_next_instruction(0x17));
    /* Again and again: by now the block runs chained to its predecessor. */
    uint32_t sum = 0;
    for (uint32_t i = 0; i < 10; ++i) sum += patch_next_instruction((uint8_t)(3 * i + 1));
    report("same_block_chained", sum);
    report("chained_block", patch_chained_block());
    write_function(0x11111111);
    report("function", call_buffer());
    write_function(0x22222222);
    report("patched_function", call_buffer());
    report("rep_movsb", patch_with_rep_movsb(0x600D));
    return 0;
}
