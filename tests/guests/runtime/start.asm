; Entry point of the freestanding C test guests: a multiboot v1 header, a
; stack, and a call to guest_main(magic, info); its return value goes to the
; exit port.
bits 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00000003          ; page-align modules, want memory info

; A flat-binary copy of a guest (objcopy -O binary) starts here, at the load
; address: the benchmarks run them under Unicorn that way.
section .entry progbits alloc exec nowrite align=4
        jmp _start

section .multiboot progbits alloc noexec nowrite align=4
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)

section .bss nobits alloc noexec write align=16
stack_bottom:
        resb 65536
stack_top:

section .text progbits alloc exec nowrite align=16
global _start
extern guest_main
extern guest_exit
_start:
        mov esp, stack_top
        cld
        push ebx                    ; multiboot information
        push eax                    ; boot loader magic
        call guest_main
        push eax
        call guest_exit
.hang:  cli
        hlt
        jmp .hang

section .note.GNU-stack noalloc noexec nowrite progbits
