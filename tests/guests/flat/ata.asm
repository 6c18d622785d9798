; A flat real-mode program (at 0x7C00) that drives the primary ATA channel
; by PIO with interrupts off (nIEN): reads LBA 0 and sends its first 8
; bytes to COM1, writes "written!" and 504 zeros to LBA 1, reads LBA 1
; back and sends its first 8 bytes, then exits.
bits 16
org 0x7C00

buffer equ 0x8000

start:
    mov dx, 0x3F6
    mov al, 0x02                ; nIEN
    out dx, al
    xor eax, eax                ; LBA 0
    mov bl, 0x20                ; READ SECTORS
    call command
    call read_sector
    call send8
    mov di, buffer              ; the sector to write
    mov si, message
    mov cx, 8
    rep movsb
    xor al, al
    mov cx, 504
    rep stosb
    mov eax, 1
    mov bl, 0x30                ; WRITE SECTORS
    call command
    call wait_drq
    mov si, buffer
    mov dx, 0x1F0
    mov cx, 256
    rep outsw
    call wait_ready
    mov eax, 1
    mov bl, 0x20
    call command
    call read_sector
    call send8
    mov al, 1
    out 0xF4, al
    cli
    hlt

; Command BL for one sector at LBA EAX (LBA28, master).
command:
    push eax
    call wait_ready
    mov dx, 0x1F2
    mov al, 1
    out dx, al
    pop eax
    inc dx
    out dx, al                  ; 0x1F3 LBA 0-7
    shr eax, 8
    inc dx
    out dx, al                  ; 0x1F4 LBA 8-15
    shr eax, 8
    inc dx
    out dx, al                  ; 0x1F5 LBA 16-23
    shr eax, 8
    and al, 0x0F
    or al, 0xE0                 ; LBA, master
    inc dx
    out dx, al                  ; 0x1F6
    inc dx
    mov al, bl
    out dx, al                  ; 0x1F7
    ret

wait_ready:
    mov dx, 0x1F7
.poll:
    in al, dx
    test al, 0x80
    jnz .poll
    ret

wait_drq:
    mov dx, 0x1F7
.poll:
    in al, dx
    test al, 0x80
    jnz .poll
    test al, 0x01
    jnz fail
    test al, 0x08
    jz .poll
    ret

read_sector:
    call wait_drq
    mov di, buffer
    mov dx, 0x1F0
    mov cx, 256
    rep insw
    ret

send8:
    mov si, buffer
    mov cx, 8
    mov dx, 0x3F8
.next:
    lodsb
    out dx, al
    loop .next
    ret

fail:
    mov al, 2
    out 0xF4, al
    cli
    hlt

message: db "written!"
