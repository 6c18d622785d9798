; The mode switches of system_modes: from 32-bit protected mode through a
; 16-bit protected-mode segment to real mode (CR0.PE cleared, a far jump
; reloading CS), real-mode work with an "unreal" FS whose 4 GiB limit the
; descriptor cache keeps, a #GP and an INT n through the IVT, and back to
; 32-bit protected mode (SDM Vol. 3A, 9.9).
bits 32
%include "system.inc"

G_CODE16        equ 6 << 3              ; base RM_BASE, limit 0xFFFF, 16-bit code
G_DATA16        equ 7 << 3              ; base 0, limit 0xFFFF, data
RM_BASE         equ 0x8000              ; where modes.c copies the blob
RM_SEG          equ RM_BASE >> 4
RM_STACK        equ 0x7000
PATTERN_ADDR    equ 0x00200000          ; above 1 MiB: modes.c stores a pattern there

section .data
saved_esp:      dd 0
saved_idtr:     dw 0
                dd 0
real_idtr:      dw 0x3FF                ; the IVT at 0
                dd 0

section .text
; void mode_round_trip(void), run by try_call.
global mode_round_trip
mode_round_trip:
        pushad
        mov [saved_esp], esp
        sidt [saved_idtr]
        lidt [real_idtr]
        jmp G_CODE16:(pm16_entry - rm_start)
back32:
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, [saved_esp]
        lidt [saved_idtr]
        popad
        ret

; ---- the blob modes.c copies to RM_BASE: offsets are from rm_start ----
bits 16
global rm_start, rm_end, rm_gp_handler, rm_int50_handler, rm_gp_site
global r_bx, r_cs, r_unreal, r_unreal_reloaded, r_gp_count, r_gp_ip, r_int50, r_int50_sp
rm_start:
pm16_entry:                             ; 16-bit protected mode, CS = G_CODE16
        mov ax, G_DATA16
        mov ds, ax
        mov es, ax
        mov gs, ax
        mov ss, ax
        mov sp, RM_STACK
        mov ax, SEL_DATA0
        mov fs, ax                      ; flat, 4 GiB: kept into real mode
        mov eax, cr0
        and eax, ~1
        mov cr0, eax
        mov bx, 0x1234                  ; runs from the CS cache until the far jump
        jmp RM_SEG:(real_entry - rm_start)
real_entry:
        mov ax, RM_SEG
        mov ds, ax
        xor ax, ax
        mov ss, ax
        mov sp, RM_STACK
        mov [r_bx - rm_start], bx
        mov ax, cs
        mov [r_cs - rm_start], ax
        mov eax, [fs:dword PATTERN_ADDR]        ; past 1 MiB through the unreal FS
        mov [r_unreal - rm_start], eax
        mov ax, 0x1000                  ; a real-mode load: base 0x10000, the limit stays
        mov fs, ax
        mov eax, [fs:dword PATTERN_ADDR - 0x10000]
        mov [r_unreal_reloaded - rm_start], eax
rm_gp_site:
        mov eax, [dword 0x10000]        ; past DS's 64 KiB limit: #GP through the IVT
rm_gp_resume:
        int 0x50
        cli
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp dword SEL_CODE0:back32

rm_gp_handler:                          ; IVT vector 13: note IP, resume past the access
        push bp
        mov bp, sp
        mov ax, [bp + 2]
        mov [cs:r_gp_ip - rm_start], ax
        mov word [bp + 2], rm_gp_resume - rm_start
        inc word [cs:r_gp_count - rm_start]
        pop bp
        iret

rm_int50_handler:                       ; IVT vector 0x50
        mov word [cs:r_int50 - rm_start], 0x5050
        mov [cs:r_int50_sp - rm_start], sp
        iret

align 4
r_unreal:               dd 0
r_unreal_reloaded:      dd 0
r_bx:                   dw 0
r_cs:                   dw 0
r_gp_count:             dw 0
r_gp_ip:                dw 0
r_int50:                dw 0
r_int50_sp:             dw 0
rm_end:

section .note.GNU-stack noalloc noexec nowrite progbits
