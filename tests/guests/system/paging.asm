; SYSENTER/SYSEXIT round trip for system_paging: ring 0 -> SYSEXIT -> ring 3
; -> SYSENTER -> ring 0, each side recording CS, SS and ESP.
bits 32
%include "system.inc"

section .bss
global sysexit_seen, sysenter_seen
sysexit_seen:   resd 3                  ; CS, SS, ESP in ring 3
sysenter_seen:  resd 4                  ; CS, SS, ESP, EFLAGS in ring 0

section .text
extern catch_resume
extern user_stack_top

; void sysexit_round_trip(void) (under try_call): EDX = ring-3 EIP, ECX = ESP.
global sysexit_round_trip
sysexit_round_trip:
        push 2                          ; known EFLAGS on both sides
        popfd
        mov edx, .ring3
        mov ecx, user_stack_top
        sysexit
.ring3: mov [sysexit_seen], cs
        mov [sysexit_seen + 4], ss
        mov [sysexit_seen + 8], esp
        sysenter

; IA32_SYSENTER_EIP.
global sysenter_entry
sysenter_entry:
        mov [sysenter_seen + 8], esp
        mov [sysenter_seen], cs
        mov [sysenter_seen + 4], ss
        pushfd
        pop dword [sysenter_seen + 12]
        push -1
        call catch_resume

global do_sysenter, do_sysexit
do_sysenter:
        sysenter
do_sysexit:
        mov edx, do_sysexit
        mov ecx, user_stack_top
        sysexit

section .note.GNU-stack noalloc noexec nowrite progbits
