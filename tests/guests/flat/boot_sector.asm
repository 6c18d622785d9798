; A boot sector (a disk's sector 0, entered at 0000:7C00): reports DL, the
; drive the BIOS booted it from, on COM1 and exits with 0x42.
bits 16
org 0x7C00

start:
    mov bl, dl
    mov si, message
    mov dx, 0x3F8
.next:
    lodsb
    test al, al
    jz .dl
    out dx, al
    jmp .next
.dl:
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

hex:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    out dx, al
    ret

message: db "boot sector: DL=", 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
