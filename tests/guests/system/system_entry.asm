; The exception stubs, the descriptor-table loads, and try_call/try_user:
; run code at ring 0 or ring 3 and come back to the caller when it faults.
bits 32
%include "system.inc"

section .text

; Vectors 8, 10-14 and 17 push an error code (SDM Table 6-1); the others get
; a 0 so that every frame has the same shape.
%macro STUB 1
exception_stub_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17
%else
        push 0
%endif
        push %1
        jmp exception_common
%endmacro
%assign v 0
%rep 32
STUB v
%assign v v + 1
%endrep

global exception_stubs
exception_stubs:
%assign v 0
%rep 32
        dd exception_stub_ %+ v
%assign v v + 1
%endrep

extern exception_dispatch
exception_common:
        pushad
        push ds
        push es
        push fs
        push gs
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        cld
        push esp
        call exception_dispatch         ; returns only when a hook handled it
        add esp, 4
        pop gs
        pop fs
        pop es
        pop ds
        popad
        add esp, 8
        iretd

; void load_tables(const void* gdtr, const void* idtr): LGDT, LIDT, and the
; shared flat segments in every segment register.
global load_tables
load_tables:
        mov eax, [esp + 4]
        lgdt [eax]
        mov eax, [esp + 8]
        lidt [eax]
        jmp SEL_CODE0:.flat
.flat:  mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        ret

section .bss
catch_esp:      resd 1
global catch_armed
catch_armed:    resd 1

section .text

; int try_call(void (*fn)(void))
global try_call
try_call:
        push ebp
        push ebx
        push esi
        push edi
        mov [catch_esp], esp
        mov dword [catch_armed], 1
        call [esp + 20]
        mov dword [catch_armed], 0
        mov eax, -1
        pop edi
        pop esi
        pop ebx
        pop ebp
        ret

; int try_user(void (*fn)(void), uint32_t eflags)
extern user_stack_top
global try_user
try_user:
        push ebp
        push ebx
        push esi
        push edi
        mov [catch_esp], esp
        mov dword [catch_armed], 1
        mov eax, [esp + 20]
        mov ecx, [esp + 24]
        push SEL_DATA3                  ; SS
        push user_stack_top             ; ESP
        push ecx                        ; EFLAGS
        push SEL_CODE3                  ; CS
        push eax                        ; EIP
        mov dx, SEL_DATA3
        mov ds, dx
        mov es, dx
        mov fs, dx
        mov gs, dx
        iretd

; int try_iret(const uint32_t* frame, uint32_t dwords): IRET to the frame
; (EIP first, as the CPU pops it), e.g. into virtual-8086 mode.
global try_iret
try_iret:
        push ebp
        push ebx
        push esi
        push edi
        mov [catch_esp], esp
        mov dword [catch_armed], 1
        mov esi, [esp + 20]
        mov ecx, [esp + 24]
.push:  push dword [esi + ecx * 4 - 4]
        loop .push
        iretd

; void catch_resume(int result): back to try_call/try_user's caller.
global catch_resume
catch_resume:
        mov eax, [esp + 4]
        mov dx, SEL_DATA0
        mov ss, dx
        mov esp, [catch_esp]
        mov ds, dx
        mov es, dx
        mov fs, dx
        mov gs, dx
        mov dword [catch_armed], 0
        push 2                          ; EFLAGS: IF, TF, DF, NT, IOPL all 0
        popfd
        pop edi
        pop esi
        pop ebx
        pop ebp
        ret

; INT 0x30 (a DPL-3 interrupt gate): ring-3 code is done.
global user_return_isr
user_return_isr:
        mov ax, SEL_DATA0
        mov ds, ax
        push -1
        call catch_resume

section .note.GNU-stack noalloc noexec nowrite progbits
