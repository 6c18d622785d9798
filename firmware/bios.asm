; jitterbug BIOS — power-on code.
;
; A 64 KiB image for segment F000 (mapped at 0xF0000 and at 0xFFFF0000).
; The CPU starts at F000:FFF0 (linear FFFFFFF0); the far jump there moves
; execution into the low copy. This first piece of POST sets up a stack,
; programs COM1, prints a greeting and the amount of RAM, then boots the
; primary ATA master if its first sector ends in 0x55AA (read by PIO to
; 0000:7C00, entered with DL = 0x80 and interrupts off), else says there is
; no bootable disk and halts with interrupts off.
;
; Services so far: an IVT whose every vector IRETs, but INT 10h: AH=0Eh
; teletype (on the 80x25 text screen at the BDA's cursor, CR, LF,
; backspace, bell ignored, scrolling; every character also sent to COM1),
; AH=02h set and AH=03h get the cursor (page 0), AH=0Fh the mode (3).
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

; The BIOS data area (segment 0x40, here addressed from segment 0).
%define BDA_VIDEO_MODE  0x449
%define BDA_COLUMNS     0x44A
%define BDA_CURSOR      0x450   ; page 0: column, then row
%define BDA_CURSOR_TYPE 0x460
%define BDA_CRTC_PORT   0x463
%define BDA_ROWS        0x484   ; rows - 1
%define TEXT_SEGMENT    0xB800
%define COLUMNS         80
%define ROWS            25

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
        call ivt_init
        call video_init
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

; Every vector to a bare IRET, then the services there are.
ivt_init:
        push es
        xor ax, ax
        mov es, ax
        xor di, di
        mov cx, 256
.vector:
        mov word [es:di], default_handler
        mov word [es:di + 2], 0xF000
        add di, 4
        loop .vector
        mov word [es:0x10 * 4], int10
        pop es
        ret

default_handler:
        iret

; Mode 3 as the VGA's reset state has it: the BDA's video fields, a blank
; screen, the cursor at the top left.
video_init:
        push es
        xor ax, ax
        mov es, ax
        mov byte [es:BDA_VIDEO_MODE], 3
        mov word [es:BDA_COLUMNS], COLUMNS
        mov word [es:BDA_CURSOR], 0
        mov word [es:BDA_CURSOR_TYPE], 0x0D0E
        mov word [es:BDA_CRTC_PORT], 0x3D4
        mov byte [es:BDA_ROWS], ROWS - 1
        mov ax, TEXT_SEGMENT
        mov es, ax
        xor di, di
        mov ax, 0x0720
        mov cx, COLUMNS * ROWS
        rep stosw
        pop es
        xor dx, dx
        call set_hw_cursor
        ret

; INT 10h: video services.
int10:
        cmp ah, 0x0E
        je .teletype
        cmp ah, 0x02
        je .set_cursor
        cmp ah, 0x03
        je .get_cursor
        cmp ah, 0x0F
        je .get_mode
        iret
.set_cursor:                    ; DH = row, DL = column
        push ds
        push ax
        xor ax, ax
        mov ds, ax
        mov [BDA_CURSOR], dx
        call set_hw_cursor
        pop ax
        pop ds
        iret
.get_cursor:                    ; -> DH, DL; CX = cursor shape
        push ds
        xor cx, cx
        mov ds, cx
        mov dx, [BDA_CURSOR]
        mov cx, [BDA_CURSOR_TYPE]
        pop ds
        iret
.get_mode:                      ; -> AL = mode, AH = columns, BH = page
        mov ax, (COLUMNS << 8) | 3
        xor bh, bh
        iret
.teletype:
        push ds
        push es
        push ax
        push cx
        push dx
        push si
        push di
        call putc               ; (a copy on COM1 for headless runs)
        xor dx, dx
        mov ds, dx
        mov dx, [BDA_CURSOR]    ; DL = column, DH = row
        cmp al, 13
        je .cr
        cmp al, 10
        je .lf
        cmp al, 8
        je .bs
        cmp al, 7
        je .done
        push ax
        mov cx, TEXT_SEGMENT
        mov es, cx
        mov al, dh
        mov cl, COLUMNS
        mul cl                  ; AX = row * 80
        xor cx, cx
        mov cl, dl
        add ax, cx
        shl ax, 1
        mov di, ax
        pop ax
        mov ah, 0x07
        mov [es:di], ax
        inc dl
        cmp dl, COLUMNS
        jb .moved
        xor dl, dl
        jmp .lf
.cr:    xor dl, dl
        jmp .moved
.bs:    test dl, dl
        jz .moved
        dec dl
        jmp .moved
.lf:    inc dh
        cmp dh, ROWS
        jb .moved
        dec dh
        call scroll_up
.moved: mov [BDA_CURSOR], dx
        call set_hw_cursor
.done:  pop di
        pop si
        pop dx
        pop cx
        pop ax
        pop es
        pop ds
        iret

; The text screen one row up, a blank row at the bottom.
scroll_up:
        push ds
        push es
        push ax
        push cx
        cld
        mov ax, TEXT_SEGMENT
        mov ds, ax
        mov es, ax
        mov si, COLUMNS * 2
        xor di, di
        mov cx, COLUMNS * (ROWS - 1)
        rep movsw
        mov ax, 0x0720
        mov cx, COLUMNS
        rep stosw
        pop cx
        pop ax
        pop es
        pop ds
        ret

; The CRTC's cursor location for DH = row, DL = column.
set_hw_cursor:
        push ax
        push bx
        push dx
        mov al, dh
        mov bl, COLUMNS
        mul bl
        xor dh, dh
        add ax, dx
        mov bx, ax
        mov dx, 0x3D4
        mov al, 0x0E
        mov ah, bh
        out dx, ax
        mov al, 0x0F
        mov ah, bl
        out dx, ax
        pop dx
        pop bx
        pop ax
        ret

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
