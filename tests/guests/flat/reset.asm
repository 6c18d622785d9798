; A flat real-mode program (loaded at 0x7C00, entered with CS = 0) that
; resets the machine three ways and counts its boots in CMOS NVRAM byte
; 0x40, which a reset keeps: boot 1 pulses the keyboard controller's reset
; line (command 0xFE), boot 2 sets port 0x92's fast-reset bit, boot 3
; writes the reset-control register 0xCF9; boot 4 reports the count
; through the exit port. EBX holds what the loader set, sent to COM1 at
; each boot so the test sees registers arrive.
bits 16
org 0x7C00

start:
    mov dx, 0x3F8
    mov al, bl
    out dx, al
    mov al, 0x40
    out 0x70, al
    in al, 0x71
    inc al
    mov ah, al
    mov al, 0x40
    out 0x70, al
    mov al, ah
    out 0x71, al
    cmp ah, 1
    je .keyboard
    cmp ah, 2
    je .port92
    cmp ah, 3
    je .cf9
    mov al, ah
    out 0xF4, al
    cli
    hlt
.keyboard:
    mov al, 0xFE
    out 0x64, al
    jmp $
.port92:
    in al, 0x92
    or al, 1
    out 0x92, al
    jmp $
.cf9:
    mov dx, 0xCF9
    mov al, 0x06
    out dx, al
    jmp $
