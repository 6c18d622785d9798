; A flat real-mode program (at 0x7C00) that reads the keyboard the way a
; BIOS does, by polling the i8042: controller self-test (0xAA -> 0x55),
; command byte 0x44 (translation to set 1, system flag, keyboard clock on,
; no interrupts), then each byte from port 0x60 sent to COM1 as two hex
; digits and a space, until the release of Enter (0x9C); then it exits.
bits 16
org 0x7C00

start:
    mov al, 0xAA
    out 0x64, al
    call read_byte
    cmp al, 0x55
    jne fail
    mov al, 0x60                ; write the command byte
    out 0x64, al
    mov al, 0x44
    out 0x60, al
.next:
    call read_byte
    mov ah, al
    shr al, 4
    call hex_digit
    mov al, ah
    and al, 0x0F
    call hex_digit
    mov al, ' '
    call putc
    cmp ah, 0x9C
    jne .next
    mov al, 1
    out 0xF4, al
    cli
    hlt
fail:
    mov al, 2
    out 0xF4, al
    cli
    hlt

; AL = the next byte of the controller's output buffer.
read_byte:
    in al, 0x64
    test al, 1
    jz read_byte
    in al, 0x60
    ret

hex_digit:
    add al, '0'
    cmp al, '9'
    jbe putc
    add al, 'A' - '9' - 1
putc:
    mov dx, 0x3F8
    out dx, al
    ret
