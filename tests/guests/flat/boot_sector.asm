; A boot sector (a disk's sector 0, entered at 0000:7C00): prints, through
; the BIOS's INT 10h teletype, 30 lines (the screen scrolls) and then the
; drive the BIOS booted it from (DL); exits with 0x42.
bits 16
org 0x7C00

start:
    mov bl, dl
    mov cx, 30
.line:
    mov si, line
    call print
    loop .line
    mov si, message
    call print
    mov al, bl
    shr al, 4
    call hex
    mov al, bl
    and al, 0x0F
    call hex
    mov al, 0x42
    out 0xF4, al
    cli
    hlt

print:
    lodsb
    test al, al
    jz .done
    mov ah, 0x0E
    int 0x10
    jmp print
.done:
    ret

hex:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    mov ah, 0x0E
    int 0x10
    ret

line: db "scroll", 13, 10, 0
message: db "boot sector: DL=", 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
