; jitterbug BIOS — power-on code.
;
; A 64 KiB image for segment F000 (mapped at 0xF0000 and at 0xFFFF0000).
; The CPU starts at F000:FFF0 (linear FFFFFFF0); the far jump there moves
; execution into the low copy. This first piece of POST sets up a stack,
; programs COM1, prints a greeting and the amount of RAM, then boots the
; primary ATA master if its first sector ends in 0x55AA (read by PIO to
; 0000:7C00, entered with DL = 0x80, interrupts off: there is no IVT yet),
; else says there is no bootable disk and halts with interrupts off.
;
; RAM size convention: read from the CMOS NVRAM as a PC BIOS does —
;   0x34/0x35: 64 KiB blocks above 16 MiB (when nonzero)
;   0x30/0x31: KiB above 1 MiB (otherwise)

bits 16
cpu 686

%define COM1            0x3F8
%define UART_THR        COM1 + 0
%define UART_DLL        COM1 + 0
%define UART_IER        COM1 + 1
%define UART_DLM        COM1 + 1
%define UART_FCR        COM1 + 2
%define UART_LCR        COM1 + 3
%define UART_MCR        COM1 + 4
%define UART_LSR        COM1 + 5
%define LSR_THRE        0x20

%define CMOS_INDEX      0x70
%define CMOS_DATA       0x71

%define STACK_TOP       0x7000

%define ATA_DATA        0x1F0
%define ATA_COUNT       0x1F2
%define ATA_LBA0        0x1F3
%define ATA_DEVICE      0x1F6
%define ATA_STATUS      0x1F7   ; read: status, write: command
%define ATA_CONTROL     0x3F6
%define ATA_BSY         0x80
%define ATA_DRQ         0x08
%define ATA_ERR         0x01
%define BOOT_SECTOR     0x7C00

section .text start=0

post:
        cli
        cld
        xor ax, ax
        mov ss, ax
        mov sp, STACK_TOP
        mov ax, cs
        mov ds, ax

        call uart_init
        mov si, msg_ok
        call puts

        call memory_kib
        mov si, msg_ram
        call puts
        call put_decimal
        mov si, msg_kib
        call puts

        call boot_ata           ; returns only without a bootable disk
        mov si, msg_no_boot
        call puts

.halt:  cli
        hlt
        jmp .halt

; Reads sector 0 of the primary master into 0000:7C00 and enters it when
; it ends in 0x55AA. Returns when there is no such disk. Every wait is
; bounded: a controller that never answers is no disk.
boot_ata:
        mov dx, ATA_STATUS
        in al, dx
        cmp al, 0xFF            ; no controller (or no drives)
        je .none
        mov dx, ATA_CONTROL
        mov al, 0x02            ; nIEN: no interrupt (there is no handler)
        out dx, al
        mov dx, ATA_DEVICE
        mov al, 0xE0            ; master, LBA
        out dx, al
        call ata_wait_ready
        jc .none
        mov dx, ATA_STATUS
        in al, dx
        test al, al             ; no master
        jz .none
        mov dx, ATA_COUNT
        mov al, 1
        out dx, al
        xor al, al
        inc dx                  ; LBA 0
        out dx, al
        inc dx
        out dx, al
        inc dx
        out dx, al
        mov dx, ATA_STATUS
        mov al, 0x20            ; READ SECTORS
        out dx, al
        mov ecx, 0x100000
.wait_drq:
        in al, dx
        test al, ATA_BSY
        jnz .next
        test al, ATA_ERR
        jnz .none
        test al, ATA_DRQ
        jnz .read
.next:  dec ecx
        jnz .wait_drq
        jmp .none
.read:  xor ax, ax
        mov es, ax
        mov di, BOOT_SECTOR
        mov cx, 256
        mov dx, ATA_DATA
        rep insw
        cmp word [es:BOOT_SECTOR + 510], 0xAA55
        jne .none
        mov si, msg_boot
        call puts
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, BOOT_SECTOR
        mov dl, 0x80
        jmp 0x0000:BOOT_SECTOR
.none:  ret

; CF clear once the selected drive is not busy; CF set after a bounded wait.
ata_wait_ready:
        mov dx, ATA_STATUS
        mov ecx, 0x100000
.poll:  in al, dx
        test al, ATA_BSY
        jz .ready
        dec ecx
        jnz .poll
        stc
        ret
.ready: clc
        ret

; Programs COM1 for 115200 baud, 8 data bits, no parity, one stop bit,
; FIFOs on, interrupts off.
uart_init:
        mov dx, UART_IER
        xor al, al
        out dx, al
        mov dx, UART_LCR
        mov al, 0x80            ; DLAB: expose the divisor latch
        out dx, al
        mov dx, UART_DLL
        mov al, 1               ; 115200 / 1
        out dx, al
        mov dx, UART_DLM
        xor al, al
        out dx, al
        mov dx, UART_LCR
        mov al, 0x03            ; 8N1, DLAB off
        out dx, al
        mov dx, UART_FCR
        mov al, 0xC7            ; enable and clear FIFOs, 14-byte trigger
        out dx, al
        mov dx, UART_MCR
        mov al, 0x03            ; DTR, RTS
        out dx, al
        ret

; Sends AL on COM1 once the transmitter holding register is empty.
putc:
        push dx
        push ax
        mov dx, UART_LSR
.wait:  in al, dx
        test al, LSR_THRE
        jz .wait
        pop ax
        mov dx, UART_THR
        out dx, al
        pop dx
        ret

; Sends the NUL-terminated string at DS:SI.
puts:
        push ax
.next:  mov al, [si]
        inc si
        test al, al
        jz .done
        call putc
        jmp .next
.done:  pop ax
        ret

; AL = CMOS index -> AL = value.
cmos_read:
        out CMOS_INDEX, al
        in al, CMOS_DATA
        ret

; EAX = RAM size in KiB, from the CMOS.
memory_kib:
        push bx
        mov al, 0x35
        call cmos_read
        mov bh, al
        mov al, 0x34
        call cmos_read
        mov bl, al              ; BX = 64 KiB blocks above 16 MiB
        test bx, bx
        jz .below_16m
        movzx eax, bx
        shl eax, 6              ; KiB
        add eax, 16 * 1024
        pop bx
        ret
.below_16m:
        mov al, 0x31
        call cmos_read
        mov bh, al
        mov al, 0x30
        call cmos_read
        mov bl, al              ; BX = KiB above 1 MiB
        movzx eax, bx
        add eax, 1024
        pop bx
        ret

; Prints EAX in decimal, by repeated subtraction of powers of ten.
put_decimal:
        push ebx
        push cx
        push si
        mov si, powers_of_ten
        xor cx, cx              ; CL: a nonzero digit was printed
.power: mov ebx, [si]
        mov ch, '0'
.sub:   cmp eax, ebx
        jb .digit
        sub eax, ebx
        inc ch
        jmp .sub
.digit: cmp ch, '0'
        jne .print
        test cl, cl
        jnz .print
        cmp ebx, 1              ; always print the last digit
        jne .skip
.print: push ax
        mov al, ch
        call putc
        pop ax
        mov cl, 1
.skip:  add si, 4
        cmp ebx, 1
        jne .power
        pop si
        pop cx
        pop ebx
        ret

powers_of_ten:
        dd 1000000000, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1

msg_ok:  db "jitterbug: firmware ok", 13, 10, 0
msg_ram: db "jitterbug: RAM ", 0
msg_kib: db " KiB", 13, 10, 0
msg_boot: db "jitterbug: booting from the hard disk", 13, 10, 0
msg_no_boot: db "jitterbug: no bootable disk", 13, 10, 0

; ---- The reset vector and the PC/AT identification bytes -------------------
        times 0xFFF0 - ($ - $$) db 0
reset_vector:
        jmp 0xF000:post
        db "11/21/26"           ; BIOS date at F000:FFF5
        db 0
        db 0xFC                 ; model byte at F000:FFFE: PC/AT
        db 0
