/* The exchange between the host-differential test (64-bit) and its native
 * 32-bit helper: a case to run, and what running it natively produced. Plain
 * C, fixed layout, little-endian on both sides. */
#ifndef JITTERBUG_HOST_PROTOCOL_H
#define JITTERBUG_HOST_PROTOCOL_H

#include <stdint.h>

/* Guest/native memory layout shared by both sides. */
#define HD_DATA_BASE 0x10000000u /* data area: memory operands, stack */
#define HD_DATA_SIZE 0x1000u
#define HD_CODE_BASE 0x10010000u /* the instruction under test */
#define HD_CODE_SIZE 0x1000u
#define HD_LANDING1 (HD_CODE_BASE + 0x80u) /* where taken branches go */
#define HD_MAX_CODE 48

/* Registers in encoding order: EAX ECX EDX EBX ESP EBP ESI EDI. */
struct hd_case {
    uint8_t code[HD_MAX_CODE];
    uint32_t code_len;
    uint32_t regs[8];
    uint32_t eflags;
    uint8_t data[HD_DATA_SIZE];
};

struct hd_result {
    uint32_t regs[8];
    uint32_t eflags;
    int32_t vector;      /* -1: no exception; else the vector (REG_TRAPNO) */
    uint32_t eip;        /* landing 0 (after the instruction), landing 1, or the faulting EIP */
    uint16_t sregs[6];   /* ES CS SS DS FS GS selectors */
    uint32_t error_code; /* of a fault that pushes one (#TS #NP #SS #GP #PF #AC) */
    uint8_t data[HD_DATA_SIZE];
};

#endif
