; The instruction sequences of system_debug: single-stepping (over an INT n
; too), instruction breakpoints, data breakpoints, DR4/DR5.
bits 32
%include "system.inc"

section .data
align 8
global watch, watch2
watch:          dd 0, 0                 ; DR2: writes, 4 bytes
watch2:         dd 0, 0                 ; DR3: reads and writes, 2 bytes

mss_ss_value:   dd SEL_DATA0
global mss_int_count
mss_int_count:  dd 0
rep_src:        db 1, 2, 3, 0
rep_dst:        db 0, 0, 0, 0

section .bss
global step_int_count, ibp_count
step_int_count: resd 1
ibp_count:      resd 1

section .text

; ---- single-step ----
global step_run, step_a, step_b, step_c, step_d, step_e, step_f, step_f1, step_f2, step_g
step_run:
        pushfd
        or dword [esp], EFLAGS_TF
        popfd                           ; no trap after the POPF that sets TF
step_a: nop
step_b: mov eax, 1
step_c: add eax, eax
step_d: int 0x41                        ; the handler runs with TF clear
step_e: nop
step_f: pushfd
step_f1:
        and dword [esp], ~EFLAGS_TF
step_f2:
        popfd                           ; TF was set as it began: a trap after it
step_g: ret

global step_int_handler
step_int_handler:
        inc dword [step_int_count]
        nop
        iretd

; ---- instruction breakpoints (DR0, DR1): faults before the instruction ----
global ibp_run, ibp_target0, ibp_target1
ibp_run:
        nop
ibp_target0:
        inc dword [ibp_count]
        nop
ibp_target1:
        inc dword [ibp_count]
        ret

; ---- data breakpoints (DR2 writes, DR3 reads and writes): traps after ----
global dbp_run, dbp_after_write, dbp_after_partial_write, dbp_after_read, dbp_after_rw_write
dbp_run:
        mov eax, [watch]                ; a read: DR2 watches writes only
        mov dword [watch], 1
dbp_after_write:
        mov byte [watch + 3], 2         ; overlaps the watched dword
dbp_after_partial_write:
        mov byte [watch + 4], 3         ; past it
        mov ax, [watch2]
dbp_after_read:
        mov byte [watch2 + 1], 4
dbp_after_rw_write:
        mov al, [watch2 + 2]            ; past the watched word
        ret

; ---- REP MOVSB single-stepped: a trap after each iteration ----
global rep_step_run, rep_step_movs, rep_step_after, rep_step_and, rep_step_popf, rep_step_ret
global rep_src, rep_dst
rep_step_run:
        push esi
        push edi
        mov esi, rep_src
        mov edi, rep_dst
        mov ecx, 3
        cld
        pushfd
        or dword [esp], EFLAGS_TF
        popfd
        nop
rep_step_movs:
        rep movsb                       ; EIP stays here until ECX runs out
rep_step_after:
        pushfd
rep_step_and:
        and dword [esp], ~EFLAGS_TF
rep_step_popf:
        popfd
rep_step_ret:
        pop edi
        pop esi
        ret

; ---- a data breakpoint met by one iteration of REP STOSD ----
global rep_watch_run, rep_watch_stos, rep_watch_after
rep_watch_run:
        push edi
        mov edi, watch - 8
        mov ecx, 4
        mov eax, 0x55555555
        cld
rep_watch_stos:
        rep stosd                       ; the third dword is watch: a trap after it
rep_watch_after:
        pop edi
        ret

; ---- an I/O breakpoint (CR4.DE, DR0 R/W = 10) ----
global io_watch_run, io_watch_after_out, io_watch_after_word
io_watch_run:
        mov al, 0
        out 0x80, al                    ; DR0 = 0x80, one byte
io_watch_after_out:
        in al, 0x81                     ; not watched
        mov dx, 0x7F
        out dx, ax                      ; ports 7F-80: meets it
io_watch_after_word:
        ret

; ---- DR7.GD: MOV DR faults with DR6.BD ----
global gd_run, gd_mov
gd_run:
        mov eax, 0x00002000
        mov dr7, eax                    ; GD set: the next MOV DR faults
gd_mov:
        mov eax, dr0
        ret

; ---- MOV SS holds debug traps over the next instruction ----
global mss_step_run, mss_site, mss_load, mss_next, mss_after, mss_and, mss_popf, mss_ret
mss_step_run:
        pushfd
        or dword [esp], EFLAGS_TF
        popfd
        nop
mss_site:
        mov ax, ss
mss_load:
        mov ss, ax                      ; no trap after it...
mss_next:
        nop                             ; ...but after this one
mss_after:
        pushfd
mss_and:
        and dword [esp], ~EFLAGS_TF
mss_popf:
        popfd
mss_ret:
        ret

; A data breakpoint met by MOV SS, then INT n: the #DB arrives before the
; handler's first instruction, in the handler's context.
global mss_int_run, mss_int_handler, mss_ss_value
mss_int_run:
        mov ss, [mss_ss_value]          ; DR0 watches mss_ss_value (SEL_DATA0)
        int 0x42
        ret
mss_int_handler:
        inc dword [mss_int_count]
        iretd

; ---- INT3 ----
global int3_run, int3_after
int3_run:
        int3
int3_after:
        ret

; ---- DR4 and DR5 with CR4.DE = 0: DR6 and DR7 (SDM 17.2.2) ----
global write_dr5, read_dr5, write_dr4, read_dr4
write_dr5:
        mov eax, [esp + 4]
        db 0x0F, 0x23, 0xE8             ; mov dr5, eax
        ret
read_dr5:
        db 0x0F, 0x21, 0xE8             ; mov eax, dr5
        ret
write_dr4:
        mov eax, [esp + 4]
        db 0x0F, 0x23, 0xE0             ; mov dr4, eax
        ret
read_dr4:
        db 0x0F, 0x21, 0xE0             ; mov eax, dr4
        ret

section .note.GNU-stack noalloc noexec nowrite progbits
