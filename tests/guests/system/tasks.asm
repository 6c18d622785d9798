; The tasks of system_tasks and the switches between them: task A is the
; kernel (the main TSS), B is entered by JMP, C by CALL through a task gate,
; DF and INT through IDT task gates. Each task's code records what it sees.
bits 32
%include "system.inc"

SEL_TSS_B       equ 0x30
SEL_TSS_C       equ 0x38
SEL_GATE_C      equ 0x40
SEL_LDT_B       equ 0x48
SEL_TSS_DF      equ 0x50
SEL_TSS_INT     equ 0x58
SEL_TSS_SHORT   equ 0x60
SEL_TSS_NP      equ 0x68
SEL_TSS_S       equ 0x70
SEL_LDT_DATA    equ 0x04                ; LDT index 0, TI = 1
GUARDED_ESP     equ 0x00401008          ; 8 bytes above a not-present page

extern gdt, main_tss

section .bss
global a_regs, b_regs, b_seen, c_seen, df_seen, int_seen, overflow_esp
a_regs:         resd 7                  ; EAX EBX ECX EDX ESI EDI EBP after the switch back
b_regs:         resd 8                  ; EAX EBX ECX EDX ESI EDI EBP ESP as task B began
b_seen:         resd 8                  ; TR, LDTR, CR3, EFLAGS, [8 MiB], LDT data, A and B access bytes
c_seen:         resd 5                  ; TR, EFLAGS, A and C access bytes, ESP
df_seen:        resd 5                  ; TR, EFLAGS, error code, ESP, CR2
int_seen:       resd 3                  ; TR, EFLAGS, ESP
overflow_esp:   resd 1

section .text

; ---- JMP to task B and B's JMP back ----
global task_jmp_to_b, task_a_resumed
task_jmp_to_b:
        pushad
        mov eax, 0xA0A0A0A0
        mov ebx, 0xA1A1A1A1
        mov ecx, 0xA2A2A2A2
        mov edx, 0xA3A3A3A3
        mov esi, 0xA4A4A4A4
        mov edi, 0xA5A5A5A5
        jmp SEL_TSS_B:0
task_a_resumed:
        mov [a_regs], eax
        mov [a_regs + 4], ebx
        mov [a_regs + 8], ecx
        mov [a_regs + 12], edx
        mov [a_regs + 16], esi
        mov [a_regs + 20], edi
        mov [a_regs + 24], ebp
        popad
        ret

global task_b_entry, task_b_after_jmp
task_b_entry:
        mov [b_regs], eax
        mov [b_regs + 4], ebx
        mov [b_regs + 8], ecx
        mov [b_regs + 12], edx
        mov [b_regs + 16], esi
        mov [b_regs + 20], edi
        mov [b_regs + 24], ebp
        mov [b_regs + 28], esp
        str [b_seen]
        sldt [b_seen + 4]
        mov eax, cr3
        mov [b_seen + 8], eax
        pushfd
        pop dword [b_seen + 12]
        mov eax, [0x00800000]           ; through task B's own CR3
        mov [b_seen + 16], eax
        mov ax, SEL_LDT_DATA            ; through task B's LDT
        mov es, ax
        mov eax, [es:0]
        mov [b_seen + 20], eax
        movzx eax, byte [gdt + SEL_TSS + 5]
        mov [b_seen + 24], eax
        movzx eax, byte [gdt + SEL_TSS_B + 5]
        mov [b_seen + 28], eax
        mov eax, 0xB1B1B1B1             ; saved into B's TSS by the JMP back
        jmp SEL_TSS:0
task_b_after_jmp:
        jmp task_b_entry

; ---- CALL through a task gate to task C, IRET back ----
global task_call_c
task_call_c:
        pushad
        call SEL_GATE_C:0
        popad
        ret

global task_c_entry
task_c_entry:
        str [c_seen]
        pushfd
        pop dword [c_seen + 4]
        movzx eax, byte [gdt + SEL_TSS + 5]
        mov [c_seen + 8], eax
        movzx eax, byte [gdt + SEL_TSS_C + 5]
        mov [c_seen + 12], eax
        mov [c_seen + 16], esp
        iretd                           ; NT = 1: back to the calling task
        jmp task_c_entry

; ---- IRET with NT set and a back link to a task that is not busy ----
global task_iret_nt
task_iret_nt:
        pushfd
        or dword [esp], EFLAGS_NT
        popfd
        iretd                           ; #TS(back link), in the current task
        ret

; ---- JMP to busy, short and absent TSSes ----
global jmp_busy_tss, call_busy_tss, jmp_short_tss, jmp_absent_tss, ltr_busy
jmp_busy_tss:
        jmp SEL_TSS:0
        ret
call_busy_tss:
        call SEL_TSS:0
        ret
jmp_short_tss:
        jmp SEL_TSS_SHORT:0
        ret
jmp_absent_tss:
        jmp SEL_TSS_NP:0
        ret
ltr_busy:
        mov ax, SEL_TSS
        ltr ax
        ret

; ---- the classic double fault: the kernel stack runs into a guard page;
; the #PF cannot be delivered on it, and the #DF goes to a task of its own ----
global stack_overflow, overflow_recovered
stack_overflow:
        pushad
        mov [overflow_esp], esp
        mov esp, GUARDED_ESP
        push eax
        push eax
        push eax                        ; #PF, #PF delivering it, #DF
        hlt
overflow_recovered:
        popad
        ret

global task_df_entry
task_df_entry:
        str [df_seen]
        pushfd
        pop dword [df_seen + 4]
        pop dword [df_seen + 8]         ; the #DF error code, on this task's stack
        mov [df_seen + 12], esp
        mov eax, cr2
        mov [df_seen + 16], eax
        ; Resume the interrupted task at overflow_recovered on its own stack.
        mov dword [main_tss + 0x20], overflow_recovered ; EIP
        mov eax, [overflow_esp]
        mov [main_tss + 0x38], eax      ; ESP
        mov dword [main_tss + 0x24], 2  ; EFLAGS
        iretd
        jmp task_df_entry

; ---- INT 0x40 through an IDT task gate ----
global task_int, task_int_entry
task_int:
        pushad
        int 0x40
        popad
        ret
task_int_entry:
        str [int_seen]
        pushfd
        pop dword [int_seen + 4]
        mov [int_seen + 8], esp
        iretd
        jmp task_int_entry

; ---- single-stepping across a task switch, and the T bit ----
global step_call_s, step_back, step_and, step_popf, step_ret, call_s, task_s_entry, task_s_resume
extern s_runs, s_seen
step_call_s:
        pushfd
        or dword [esp], EFLAGS_TF
        popfd
        call SEL_TSS_S:0                ; the trap comes in task S, before its first instruction
step_back:
        pushfd                          ; TF is back with task A's EFLAGS: traps again
step_and:
        and dword [esp], ~EFLAGS_TF
step_popf:
        popfd
step_ret:
        ret

call_s:
        call SEL_TSS_S:0
        ret

task_s_entry:                           ; runs with its TSS's EFLAGS (TF clear)
        inc dword [s_runs]
        mov eax, [0x00402000]           ; what its CR3 maps there
        mov [s_seen], eax
        iretd                           ; NT: back to the caller
task_s_resume:
        jmp task_s_entry                ; (a later switch resumes here)

section .note.GNU-stack noalloc noexec nowrite progbits
