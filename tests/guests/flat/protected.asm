; A flat 32-bit program (loaded at 0x200000): sends the low bytes of EAX,
; ECX, EDX, EBX, EBP, ESI and EDI to COM1, proves the stack works at the
; ESP it was given, reloads DS from the loader's GDT (selector 0x10) and
; reads its own data through it, then exits with the byte at `answer`.
bits 32
org 0x200000

start:
    push edx
    mov dx, 0x3F8
    out dx, al          ; EAX
    mov al, cl
    out dx, al          ; ECX
    pop eax
    out dx, al          ; EDX (through the stack)
    mov al, bl
    out dx, al          ; EBX
    mov eax, ebp
    out dx, al          ; EBP
    mov eax, esi
    out dx, al          ; ESI
    mov eax, edi
    out dx, al          ; EDI
    mov ax, 0x10
    mov ds, ax
    mov al, [answer]
    out 0xF4, al
    cli
    hlt
answer:
    db 0x2A
