; A boot sector for INT 15h AH=87h: with A20 off, it copies 512 bytes of a
; pattern from 0000:8000 to 0x110000 (above 1 MiB) and back to 0000:A000,
; then checks the copy, that 1000:0000 (where a copy to 0x110000 would land
; with A20 off) stayed zero, and that A20 is off again. Exits with 0x11
; when all holds (status 0x23), else with the number of the failed check.
bits 16
org 0x7C00

%define GDT 0x9000

start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    cld
    mov ax, 0x2400              ; A20 off: the BIOS must turn it on itself
    int 0x15
    mov di, 0x8000              ; the pattern
    xor ax, ax
    mov cx, 512
.fill:
    stosb
    add al, 7
    loop .fill
    push word 0x1000            ; 1000:0000 zero
    pop es
    xor di, di
    mov cx, 256
    xor ax, ax
    rep stosw
    push ds
    pop es
    mov al, 1
    mov ebx, 0x008000
    mov edx, 0x110000
    call move
    jc fail
    mov al, 2
    mov ebx, 0x110000
    mov edx, 0x00A000
    call move
    jc fail
    mov al, 3
    mov si, 0x8000
    mov di, 0xA000
    mov cx, 512
    repe cmpsb
    jne fail
    mov al, 4
    push word 0x1000
    pop es
    xor di, di
    mov cx, 256
    xor ax, ax
    repe scasw
    mov al, 4
    jne fail
    mov ax, 0x2402              ; A20 as it was: off
    int 0x15
    cmp al, 0
    mov al, 5
    jne fail
    mov al, 0x11
fail:
    out 0xF4, al
    cli
    hlt

; Copies 256 words from linear EBX to linear EDX with INT 15h AH=87h; CF
; from the BIOS.
move:
    push ax
    push es
    xor ax, ax
    mov es, ax
    mov di, GDT
    mov cx, 24
    rep stosw
    mov word [GDT + 0x10], 0xFFFF
    mov [GDT + 0x12], ebx
    mov byte [GDT + 0x15], 0x93
    mov word [GDT + 0x18], 0xFFFF
    mov [GDT + 0x1A], edx
    mov byte [GDT + 0x1D], 0x93
    mov si, GDT
    mov cx, 256
    mov ah, 0x87
    int 0x15
    pop es
    pop ax
    ret

    times 510 - ($ - $$) db 0
    dw 0xAA55
