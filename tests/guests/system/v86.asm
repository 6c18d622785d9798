; The virtual-8086 program of system_v86 (run at linear 0x20000 = CS 0x2000,
; its data at DS 0x2100, its stack at SS 0x3000), and the ring-0 handler of
; INT 0x40, which the program reaches through the IDT when IOPL = 3.
bits 32
%include "system.inc"

section .bss
global int40_frame, int40_segs
int40_frame:    resd 9                  ; EIP CS EFLAGS ESP SS ES DS FS GS
int40_segs:     resd 4                  ; DS ES FS GS in the handler

section .text
global v86_int40_handler
v86_int40_handler:
        ; DS..GS are null here: store through SS.
        mov [ss:int40_segs], ds
        mov [ss:int40_segs + 4], es
        mov [ss:int40_segs + 8], fs
        mov [ss:int40_segs + 12], gs
        push eax
%assign i 0
%rep 9
        mov eax, [esp + 4 + i * 4]
        mov [ss:int40_frame + i * 4], eax
%assign i i + 1
%endrep
        pop eax
        iretd

; Data offsets (DS = 0x2100): the monitor writes 0, the program the rest.
D_MARK          equ 0
D_MARK_SEEN     equ 4
D_CS            equ 8
D_SS            equ 10
D_SP            equ 12
D_PUSHF         equ 14                  ; PUSHF, emulated by the monitor
D_INT21_AX      equ 16
D_IOPL3_FLAGS   equ 18                  ; three PUSHF images at IOPL 3
D_DS_AFTER_INT  equ 24
D_TASK_CS       equ 26                  ; written by the program of the v86 task
D_TASK_MARK     equ 28

section .text.v86 progbits alloc exec nowrite align=4096
bits 16
global v86_blob, v86_phase1, v86_phase2, v86_int21
global v86_site_cli, v86_site_sti, v86_site_pushf, v86_site_popf, v86_site_int21
global v86_site_iret, v86_site_in_denied, v86_site_hlt, v86_site_int41, v86_site_in_denied3
global v86_int40_return, v86_phase3, v86_site_task_cli
v86_blob:

; IOPL = 0: CLI, STI, PUSHF, POPF, INT n, IRET and HLT trap to the monitor;
; IN is checked against the I/O permission bit map alone.
v86_phase1:
        mov eax, [D_MARK]
        mov [D_MARK_SEEN], eax
        mov [D_CS], cs
        mov [D_SS], ss
        mov [D_SP], sp
v86_site_cli:
        cli
v86_site_sti:
        sti
v86_site_pushf:
        pushf
        pop word [D_PUSHF]
        push word 0
v86_site_popf:
        popf
v86_site_int21:
        int 0x21
        mov [D_INT21_AX], ax
        in al, 0x80                     ; allowed by the bit map
v86_site_in_denied:
        in al, 0x82
v86_site_hlt:
        hlt

v86_int21:
        mov ax, 0x2121
v86_site_iret:
        iret

; IOPL = 3: the flag instructions run, IOPL stays; INT n goes through the
; IDT; IN is still checked against the bit map; INT 0x30 ends the program.
v86_phase2:
        cli
        pushf
        pop word [D_IOPL3_FLAGS]
        sti
        pushf
        pop word [D_IOPL3_FLAGS + 2]
        cli
        push word 0x0002                ; IOPL 0 in the image: not taken
        popf
        pushf
        pop word [D_IOPL3_FLAGS + 4]
        int 0x40
v86_int40_return:
        mov [D_DS_AFTER_INT], ds
v86_site_int41:
        int 0x41                        ; a DPL-0 gate
v86_site_in_denied3:
        in al, 0x82
        in al, 0x80
        int 0x30

; The program of a task whose TSS has VM set: entered by a JMP to that TSS;
; its CLI traps to the monitor, which switches back to the kernel's task.
v86_phase3:
        mov [D_TASK_CS], cs
        mov word [D_TASK_MARK], 0x7A7A
v86_site_task_cli:
        cli
        hlt

section .note.GNU-stack noalloc noexec nowrite progbits
