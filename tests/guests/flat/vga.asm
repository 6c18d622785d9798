; A flat real-mode program (at 0x7C00) that writes two lines into the VGA
; text buffer, a box-drawing corner among them, moves the hardware cursor
; through the CRTC to row 2, column 5, and exits.
bits 16
org 0x7C00

start:
    mov ax, 0xB800
    mov es, ax
    xor di, di
    mov si, line1
    mov ah, 0x1F                ; white on blue
    call puts
    mov di, 160                 ; row 1
    mov si, line2
    mov ah, 0x4E                ; yellow on red
    call puts
    mov dx, 0x3D4
    mov ax, 0x000E              ; cursor location high = 0
    out dx, ax
    mov ax, (2 * 80 + 5) << 8 | 0x0F
    out dx, ax
    mov al, 1
    out 0xF4, al
    cli
    hlt

puts:
    lodsb
    test al, al
    jz .done
    stosw
    jmp puts
.done:
    ret

line1: db "jitterbug VGA", 0
line2: db 0xC9, 0xCD, 0xBB, " box", 0
