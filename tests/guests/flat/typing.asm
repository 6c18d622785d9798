; A boot sector that lets keys pile up (INT 15h AH=86h, a quarter of a
; second) while the test types more of them than the BIOS's buffer holds,
; then reads them with INT 16h until Enter and writes their ASCII to COM1
; itself: none may be lost. Halts after the line.
bits 16
org 0x7C00

start:
    xor ax, ax
    mov ds, ax
    mov dx, 0x3F8 + 5
    mov si, ready
.ready:
    lodsb
    test al, al
    jz .wait
    call put
    jmp .ready
.wait:
    mov cx, 0x0003              ; 0x3D090 microseconds
    mov dx, 0xD090
    mov ah, 0x86
    int 0x15
.key:
    xor ah, ah
    int 0x16
    call put
    cmp al, 13
    jne .key
    mov al, 10
    call put
    cli
.halt:
    hlt
    jmp .halt

; AL to COM1 (polling the line status register).
put:
    push ax
    push dx
    mov ah, al
    mov dx, 0x3F8 + 5
.busy:
    in al, dx
    test al, 0x20
    jz .busy
    mov al, ah
    mov dx, 0x3F8
    out dx, al
    pop dx
    pop ax
    ret

ready: db "typing: ready", 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xAA55
