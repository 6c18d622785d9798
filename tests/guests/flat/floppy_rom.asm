; A floppy boot sector that asks INT 13h to read a sector into the BIOS ROM
; (F000:0000): the machine copies only into RAM, so the BIOS must answer
; with CF set and AH = 20h (controller failure), the ROM unchanged. Exits
; with AH (status (AH << 1) | 1), or 0x7F when CF was clear.
bits 16
org 0x7C00

start:
    mov ax, 0xF000
    mov es, ax
    xor bx, bx
    mov ax, 0x0201              ; read one sector
    mov cx, 0x0001              ; cylinder 0, sector 1
    xor dh, dh                  ; head 0, DL = the boot drive
    int 0x13
    jnc .no_error
    cmp word [es:0xFFFE], 0x00FC ; the model byte is still there
    jne .no_error
    mov al, ah
    out 0xF4, al
.no_error:
    mov al, 0x7F
    out 0xF4, al

    times 510 - ($ - $$) db 0
    dw 0xAA55
