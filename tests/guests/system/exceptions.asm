; The faulting and trapping instructions of system_exceptions.
bits 32
%include "system.inc"

section .data
bounds:         dd 1, 3

section .text
global de_run, de_site, ud_run, ud_site, nm_run, nm_site, nm_x87_run, nm_x87_site
global br_run, br_site, br_inside_run, of_run, of_after, of_clear_run
de_run:
        xor edx, edx
        mov eax, 1
        xor ecx, ecx
de_site:
        div ecx                         ; #DE: a fault, EIP at the DIV
        ret
ud_run:
ud_site:
        ud2                             ; #UD
        ret
nm_run:
nm_site:
        fwait                           ; #NM with CR0.MP and CR0.TS
        ret
nm_x87_run:
nm_x87_site:
        fninit                          ; #NM with CR0.EM
        ret
br_run:
        mov eax, 5
br_site:
        bound eax, [bounds]             ; 5 outside [1, 3]: #BR, a fault
        ret
br_inside_run:
        mov eax, 2
        bound eax, [bounds]
        ret
of_run:
        mov al, 0x7F
        add al, 1                       ; OF = 1
        into                            ; #OF: a trap, EIP after the INTO
of_after:
        ret
of_clear_run:
        xor eax, eax                    ; OF = 0: INTO does nothing
        into
        ret

section .note.GNU-stack noalloc noexec nowrite progbits
