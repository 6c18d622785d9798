/* Native half of the host-differential test: a 32-bit Linux program that
 * reads cases (struct hd_case) from stdin, runs each instruction on the real
 * CPU, and writes the outcome (struct hd_result) to stdout.
 *
 * The instruction is copied to HD_CODE_BASE followed by an indirect jump to
 * landing 0; HD_LANDING1 jumps to landing 1. Registers and EFLAGS are loaded
 * from the case just before, and stored at the landing before anything else
 * runs. A fault arrives as a signal (on an alternate stack, so the data area
 * keeps its bytes); its context gives the registers and the vector. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "protocol.h"

struct hd_case g_case;
struct hd_result g_result;
uint32_t g_saved_esp;
uint32_t g_landing0;
uint32_t g_landing1;
uint32_t g_code = HD_CODE_BASE;
static sigjmp_buf g_jump;

_Static_assert(__builtin_offsetof(struct hd_case, regs) == 52, "run_case loads regs at +52");
_Static_assert(__builtin_offsetof(struct hd_case, eflags) == 84, "run_case loads eflags at +84");
_Static_assert(__builtin_offsetof(struct hd_result, eflags) == 32, "the landings store eflags at +32");
_Static_assert(__builtin_offsetof(struct hd_result, eip) == 40, "the landings store the landing at +40");
_Static_assert(__builtin_offsetof(struct hd_result, sregs) == 44, "the landings store ES..GS at +44");

void run_case(void);
void landing0(void);
void landing1(void);

/* run_case: load the state, jump to the code; the landings store it back. */
__asm__(
    ".text\n"
    ".globl run_case\n"
    "run_case:\n"
    "    pushal\n"
    "    movl %esp, g_saved_esp\n"
    "    pushl g_case+84\n" /* offsets: see the static assertions below */
    "    popfl\n"
    "    movl g_case+52, %eax\n"
    "    movl g_case+56, %ecx\n"
    "    movl g_case+60, %edx\n"
    "    movl g_case+64, %ebx\n"
    "    movl g_case+72, %ebp\n"
    "    movl g_case+76, %esi\n"
    "    movl g_case+80, %edi\n"
    "    movl g_case+68, %esp\n"
    "    jmp *g_code\n"
    ".globl landing0\n"
    "landing0:\n"
    "    movl $0, %ss:g_result+40\n" /* SS holds the user data selector; DS may not */
    "    jmp 1f\n"
    ".globl landing1\n"
    "landing1:\n"
    "    movl $1, %ss:g_result+40\n"
    "1:  movl %eax, %ss:g_result+0\n"
    "    movl %ecx, %ss:g_result+4\n"
    "    movl %edx, %ss:g_result+8\n"
    "    movl %ebx, %ss:g_result+12\n"
    "    movl %esp, %ss:g_result+16\n"
    "    movl %ebp, %ss:g_result+20\n"
    "    movl %esi, %ss:g_result+24\n"
    "    movl %edi, %ss:g_result+28\n"
    "    movw %es, %ss:g_result+44\n"
    "    movw %cs, %ss:g_result+46\n"
    "    movw %ss, %ss:g_result+48\n"
    "    movw %ds, %ss:g_result+50\n"
    "    movw %fs, %ss:g_result+52\n"
    "    movw %gs, %ss:g_result+54\n"
    "    movl %ss, %eax\n" /* DS and ES back to the user data selector, FS to null */
    "    movl %eax, %ds\n"
    "    movl %eax, %es\n"
    "    movl $0, %eax\n" /* (no flags touched before they are saved) */
    "    movl %eax, %fs\n"
    "    movl g_saved_esp, %esp\n"
    "    pushfl\n"
    "    popl g_result+32\n"
    "    pushl $0x202\n" /* back to plain flags: DF and AC clear */
    "    popfl\n"
    "    popal\n"
    "    ret\n");

static void on_fault(int sig, siginfo_t* info, void* context) {
    (void)sig;
    (void)info;
    const ucontext_t* uc = context;
    const greg_t* g = uc->uc_mcontext.gregs;
    g_result.regs[0] = g[REG_EAX];
    g_result.regs[1] = g[REG_ECX];
    g_result.regs[2] = g[REG_EDX];
    g_result.regs[3] = g[REG_EBX];
    g_result.regs[4] = g[REG_UESP];
    g_result.regs[5] = g[REG_EBP];
    g_result.regs[6] = g[REG_ESI];
    g_result.regs[7] = g[REG_EDI];
    g_result.eflags = g[REG_EFL];
    g_result.eip = g[REG_EIP];
    g_result.vector = g[REG_TRAPNO];
    g_result.error_code = g[REG_ERR];
    g_result.sregs[0] = (uint16_t)g[REG_ES];
    g_result.sregs[1] = (uint16_t)g[REG_CS];
    g_result.sregs[2] = (uint16_t)g[REG_SS];
    g_result.sregs[3] = (uint16_t)g[REG_DS];
    g_result.sregs[4] = (uint16_t)g[REG_FS];
    g_result.sregs[5] = (uint16_t)g[REG_GS];
    siglongjmp(g_jump, 1);
}

static void* map_at(uint32_t addr, uint32_t size, int prot) {
    void* p = mmap((void*)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void*)addr) {
        perror("host_runner: mmap");
        exit(2);
    }
    return p;
}

static int read_all(void* buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(0, (char*)buf + done, n - done);
        if (r <= 0) return 0;
        done += (size_t)r;
    }
    return 1;
}

static void write_all(const void* buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = write(1, (const char*)buf + done, n - done);
        if (r <= 0) exit(3);
        done += (size_t)r;
    }
}

/* An indirect jump through an absolute pointer, read through SS (the
 * instruction under test may have loaded DS with anything): 36 FF 25 imm32. */
static void put_jump(uint8_t* at, const uint32_t* target) {
    at[0] = 0x36;
    at[1] = 0xFF;
    at[2] = 0x25;
    uint32_t p = (uint32_t)target;
    memcpy(at + 3, &p, 4);
}

int main(void) {
    uint8_t* data = map_at(HD_DATA_BASE, HD_DATA_SIZE, PROT_READ | PROT_WRITE);
    uint8_t* code = map_at(HD_CODE_BASE, HD_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
    g_landing0 = (uint32_t)landing0;
    g_landing1 = (uint32_t)landing1;

    static uint8_t alt_stack[65536];
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    const int signals[] = {SIGSEGV, SIGILL, SIGFPE, SIGTRAP, SIGBUS};
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; ++i) sigaction(signals[i], &sa, NULL);

    while (read_all(&g_case, sizeof g_case)) {
        if (g_case.code_len > HD_MAX_CODE) exit(4);
        memset(code, 0xCC, HD_CODE_SIZE);
        memcpy(code, g_case.code, g_case.code_len);
        put_jump(code + g_case.code_len, &g_landing0);
        put_jump(code + (HD_LANDING1 - HD_CODE_BASE), &g_landing1);
        memcpy(data, g_case.data, HD_DATA_SIZE);
        memset(&g_result, 0, sizeof g_result);
        g_result.vector = -1;
        if (sigsetjmp(g_jump, 1) == 0) run_case();
        __asm__ volatile("pushl $0x202; popfl; xorl %%eax, %%eax; movl %%eax, %%fs" ::: "eax", "cc", "memory");
        if (g_result.vector < 0) {
            g_result.eip = g_result.eip ? HD_LANDING1 : HD_CODE_BASE + g_case.code_len;
        }
        memcpy(g_result.data, data, HD_DATA_SIZE);
        write_all(&g_result, sizeof g_result);
    }
    return 0;
}
