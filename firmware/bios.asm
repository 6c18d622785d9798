; jitterbug BIOS.
;
; A 64 KiB image for segment F000 (mapped at 0xF0000 and at 0xFFFF0000).
; The CPU starts at F000:FFF0 (linear FFFFFFF0); the far jump there moves
; execution into the low copy.
;
; POST: stack, COM1, the IVT and the BIOS data area (BDA) with a 1 KiB
; extended BDA (EBDA) below 640 KiB, the 8259A pair (vectors 08h and 70h),
; the 8254 (18.2 Hz), the RTC, the keyboard controller and keyboard, the
; text screen, the disks (ATA IDENTIFY, floppy images), an option ROM scan
; of 0xC0000-0xEFFFF, then INT 19h: the boot order is CMOS register 0x3D
; (low nibble first, then high nibble: 1 = floppy, 2 = hard disk; 0 =
; floppy then hard disk), each tried by reading its sector 0 to 0000:7C00
; and checking 0x55AA; the boot sector is entered with DL = the drive and
; interrupts on. With nothing to boot, INT 18h says so and halts.
; POST codes go to port 0x80 (see POST_* below).
;
; Services (the files included at the end):
;   video.inc     INT 10h on the 80x25 text screen; what is written is
;                 copied to COM1 so that headless runs see it
;   disk.inc      INT 13h: hard disks on the primary ATA channel (PIO), and
;                 floppies through the machine's firmware disk port; the
;                 INT 1Eh/41h/46h tables
;   keyboard.inc  INT 09h (the keyboard's IRQ 1: scan code set 1 into the
;                 BDA's buffer) and INT 16h (which also takes keys typed on
;                 COM1, as a serial console)
;   system.inc    INT 08h, 70h (timer and RTC IRQs), 11h, 12h, 14h, 15h,
;                 1Ah (with the PCI BIOS), 18h and 19h
;
; Calling convention of the service handlers: they save every register in
; a frame on the caller's stack (push ds, push es, pushad), work on the
; frame (F_* below) and return what they return by writing it there; the
; carry and zero flags they return are set in the frame's FLAGS.
;
; RAM size: read from the CMOS NVRAM as a PC BIOS does —
;   0x34/0x35: 64 KiB blocks above 16 MiB (when nonzero)
;   0x30/0x31: KiB above 1 MiB (otherwise)

bits 16
cpu 686

%include "bios.inc"

section .text start=0

post:
        cli
        cld
        xor ax, ax
        mov ss, ax
        mov sp, POST_STACK
        mov ds, ax

        ; A CMOS shutdown code of 05h or 0Ah is a program's way back to
        ; real mode through a reset (the 286's only one): resume at the
        ; far pointer in 40:67 instead of starting over.
        mov al, 0x0F
        call cmos_read
        mov bl, al
        mov al, 0x0F
        xor ah, ah
        call cmos_write_ah
        cmp bl, 0x05
        je .resume_eoi
        cmp bl, 0x0A
        je .resume
        jmp .cold
.resume_eoi:
        mov al, 0x20
        out PIC1_CMD, al
.resume:
        jmp far [BDA_RESUME]

.cold:  POST_CODE POST_START
        mov ax, cs
        mov ds, ax
        call uart_init
        call bda_init
        call ivt_init
        POST_CODE POST_INTERRUPTS
        call pic_init
        call pit_init
        call rtc_init
        POST_CODE POST_TIMERS
        call video_init
        mov si, msg_ok
        call puts
        call memory_init
        mov si, msg_ram
        call puts
        call put_decimal
        mov si, msg_kib
        call puts
        POST_CODE POST_MEMORY
        call keyboard_init
        POST_CODE POST_KEYBOARD
        call disks_init
        POST_CODE POST_DISKS
        call option_rom_scan
        POST_CODE POST_OPTION_ROMS
        POST_CODE POST_BOOT
        int 0x19
.halt:  cli
        hlt
        jmp .halt

; ---- POST steps ----------------------------------------------------------

; The BDA (0x400-0x4FF) and the EBDA: cleared, then what is known now.
bda_init:
        push es
        xor ax, ax
        mov es, ax
        mov di, 0x400
        mov cx, 0x80
        rep stosw
        mov word [es:BDA_COM_PORTS], 0x3F8
        mov word [es:BDA_COM_PORTS + 2], 0x2F8
        mov word [es:BDA_COM_PORTS + 4], 0x3E8
        mov word [es:BDA_COM_PORTS + 6], 0x2E8
        mov byte [es:BDA_COM_TIMEOUT], 1
        mov byte [es:BDA_COM_TIMEOUT + 1], 1
        mov byte [es:BDA_COM_TIMEOUT + 2], 1
        mov byte [es:BDA_COM_TIMEOUT + 3], 1
        ; Four serial ports, an x87, 80x25 colour; floppies are added by
        ; disks_init.
        mov word [es:BDA_EQUIPMENT], (4 << 9) | (2 << 4) | 0x02
        mov word [es:BDA_BASE_MEMORY], EBDA_SEGMENT >> 6
        mov word [es:BDA_EBDA], EBDA_SEGMENT
        mov word [es:BDA_KBD_HEAD], KBD_BUFFER
        mov word [es:BDA_KBD_TAIL], KBD_BUFFER
        mov word [es:BDA_KBD_START], KBD_BUFFER
        mov word [es:BDA_KBD_END], KBD_BUFFER_END
        mov byte [es:BDA_KBD_FLAGS3], 0x10      ; an enhanced keyboard
        mov ax, EBDA_SEGMENT
        mov es, ax
        xor di, di
        xor ax, ax
        mov cx, 512
        rep stosw
        mov byte [es:EB_SIZE], 1
        pop es
        ret

; Every vector to a bare IRET, then the services and IRQ handlers there are.
ivt_init:
        push es
        xor ax, ax
        mov es, ax
        xor di, di
        mov cx, 256
.vector:
        mov word [es:di], default_handler
        mov word [es:di + 2], BIOS_SEGMENT
        add di, 4
        loop .vector
        mov si, vector_table
.set:   mov bx, [cs:si]
        cmp bx, 0xFFFF
        je .irqs
        shl bx, 2
        mov ax, [cs:si + 2]
        mov [es:bx], ax
        add si, 4
        jmp .set
.irqs:  ; IRQ 2-7 and 9-15 without a handler of their own just end.
        mov bx, 0x0A * 4
        mov cx, 6
.master:
        mov word [es:bx], irq_master_default
        add bx, 4
        loop .master
        mov bx, 0x71 * 4
        mov cx, 7
.slave: mov word [es:bx], irq_slave_default
        add bx, 4
        loop .slave
        mov word [es:0x75 * 4], irq13
        mov word [es:0x76 * 4], irq14
        ; Vectors that are tables, not code: none for 1Dh/1Fh, 43h.
        mov dword [es:0x1D * 4], 0
        mov dword [es:0x1F * 4], 0
        mov dword [es:0x43 * 4], 0
        mov word [es:0x1E * 4], diskette_parameters
        pop es
        ret

; (vector, handler) pairs, 0xFFFF ends.
vector_table:
        dw 0x08, irq0
        dw 0x09, irq1
        dw 0x10, int10
        dw 0x11, int11
        dw 0x12, int12
        dw 0x13, int13
        dw 0x14, int14
        dw 0x15, int15
        dw 0x16, int16
        dw 0x18, int18
        dw 0x19, int19
        dw 0x1A, int1a
        dw 0x40, int13          ; (the floppy service, where DOS looks for it)
        dw 0x70, irq8
        dw 0xFFFF

default_handler:
        iret

irq_master_default:
        push ax
        mov al, PIC_EOI
        out PIC1_CMD, al
        pop ax
        iret

irq_slave_default:
        push ax
        mov al, PIC_EOI
        out PIC2_CMD, al
        out PIC1_CMD, al
        pop ax
        iret

; IRQ 13, the x87's error (FERR through the latch at port 0xF0): cleared,
; then handed to INT 02h as the AT did.
irq13:
        push ax
        xor al, al
        out 0xF0, al
        mov al, PIC_EOI
        out PIC2_CMD, al
        out PIC1_CMD, al
        pop ax
        int 0x02
        iret

; IRQ 14, the primary ATA channel: reading the status clears the request.
irq14:
        push ax
        push dx
        mov dx, ATA_STATUS
        in al, dx
        mov al, PIC_EOI
        out PIC2_CMD, al
        out PIC1_CMD, al
        pop dx
        pop ax
        iret

; The 8259A pair: IRQ 0-7 at vectors 08h-0Fh, IRQ 8-15 at 70h-77h, the
; slave on IRQ 2; the timer, keyboard, cascade and RTC unmasked.
pic_init:
        mov al, 0x11            ; ICW1: edge, cascade, ICW4
        out PIC1_CMD, al
        out PIC2_CMD, al
        mov al, 0x08
        out PIC1_DATA, al
        mov al, 0x70
        out PIC2_DATA, al
        mov al, 0x04            ; the slave on IR2
        out PIC1_DATA, al
        mov al, 0x02
        out PIC2_DATA, al
        mov al, 0x01            ; 8086 mode
        out PIC1_DATA, al
        out PIC2_DATA, al
        mov al, 0xF8
        out PIC1_DATA, al
        mov al, 0xFE
        out PIC2_DATA, al
        ret

; Channel 0 as a rate generator dividing by 65536: IRQ 0 at 18.2 Hz.
pit_init:
        mov al, 0x34
        out PIT_CONTROL, al
        xor al, al
        out PIT_COUNTER0, al
        out PIT_COUNTER0, al
        ret

; The RTC in BCD and 24-hour mode, 1024 Hz periodic rate, no interrupts;
; the tick count from its time of day (ticks = seconds * 1193180 / 65536,
; i.e. seconds * 18643 / 1024 in 32 bits).
rtc_init:
        mov al, CMOS_REG_A
        mov ah, 0x26
        call cmos_write_ah
        mov al, CMOS_REG_B
        mov ah, 0x02
        call cmos_write_ah
        mov al, CMOS_REG_C
        call cmos_read
        mov al, CMOS_REG_D
        call cmos_read
        call rtc_wait_update
        mov al, CMOS_HOURS
        call cmos_read_bin
        movzx ebx, al
        imul ebx, ebx, 60
        mov al, CMOS_MINUTES
        call cmos_read_bin
        movzx eax, al
        add ebx, eax
        imul ebx, ebx, 60
        mov al, CMOS_SECONDS
        call cmos_read_bin
        movzx eax, al
        add eax, ebx
        imul eax, eax, 18643
        shr eax, 10
        push ds
        xor bx, bx
        mov ds, bx
        mov [BDA_TICKS], eax
        pop ds
        ret

; Waits (bounded) while the RTC is updating, so that its registers read
; consistently.
rtc_wait_update:
        push cx
        mov cx, 0xFFFF
.poll:  mov al, CMOS_REG_A
        call cmos_read
        test al, 0x80
        jz .done
        loop .poll
.done:  pop cx
        ret

; RAM: the BDA's base memory (639 KiB, the EBDA above it) and the E820
; map in the EBDA. Returns EAX = RAM in KiB (for the greeting).
memory_init:
        call memory_kib
        push eax
        push es
        push di
        mov bx, EBDA_SEGMENT
        mov es, bx
        shl eax, 10
        mov [es:EB_RAM_END], eax
        mov di, EB_E820
        ; 0 - EBDA: usable
        xor eax, eax
        mov ebx, EBDA_SEGMENT << 4
        mov cl, E820_RAM
        call e820_add
        ; EBDA - 640 KiB: reserved
        mov eax, EBDA_SEGMENT << 4
        mov ebx, 0xA0000
        mov cl, E820_RESERVED
        call e820_add
        ; the BIOS: reserved
        mov eax, 0xF0000
        mov ebx, 0x100000
        mov cl, E820_RESERVED
        call e820_add
        ; 1 MiB - end of RAM: usable
        mov eax, 0x100000
        mov ebx, [es:EB_RAM_END]
        mov cl, E820_RAM
        cmp ebx, eax
        jbe .alias
        call e820_add
.alias: ; the BIOS's copy below 4 GiB: reserved
        mov eax, 0xFFFF0000
        xor ebx, ebx            ; (4 GiB: the end wraps to 0)
        mov cl, E820_RESERVED
        call e820_add
        pop di
        pop es
        pop eax
        ret

; Appends [EAX, EBX) of type CL to the E820 map at ES:DI (EBX = 0: 4 GiB).
e820_add:
        mov [es:di], eax
        mov dword [es:di + 4], 0
        sub ebx, eax
        mov [es:di + 8], ebx
        mov dword [es:di + 12], 0
        cmp ebx, 0              ; (a length reaching 4 GiB: 2^32 - base)
        jne .type
        mov dword [es:di + 12], 1
.type:  movzx ecx, cl
        mov [es:di + 16], ecx
        add di, E820_ENTRY
        inc byte [es:EB_E820_COUNT]
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

; Option ROMs: every 2 KiB from 0xC0000 to 0xEFFFF, a block starting 55 AA
; with its length (in 512-byte units) at offset 2 and a byte sum of zero
; is initialised by a far call to its offset 3.
option_rom_scan:
        push es
        mov bx, 0xC000
.next:  mov es, bx
        cmp word [es:0], 0xAA55
        jne .skip
        movzx cx, byte [es:2]
        test cx, cx
        jz .skip
        shl cx, 9               ; bytes
        xor si, si
        xor al, al
.sum:   add al, [es:si]
        inc si
        loop .sum
        test al, al
        jnz .skip
        push bx
        push es
        mov ax, EBDA_SEGMENT
        mov es, ax
        mov word [es:EB_ROM_ENTRY], 3
        mov [es:EB_ROM_ENTRY + 2], bx
        pushad
        push ds
        call far [es:EB_ROM_ENTRY]
        pop ds
        popad
        cld
        pop es
        pop bx
        movzx ax, byte [es:2]   ; (the ROM may have shrunk itself)
        add ax, 3
        and ax, ~3              ; 2 KiB steps
        shl ax, 5
        add bx, ax
        jmp .check
.skip:  add bx, 0x80            ; 2 KiB
.check: cmp bx, 0xF000
        jb .next
        pop es
        ret

; ---- Helpers used everywhere ---------------------------------------------

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

; Sends AL on COM1 once the transmitter holding register is empty (a
; bounded wait: a port that never empties loses the byte).
putc:
        push cx
        push dx
        push ax
        mov dx, UART_LSR
        mov cx, 0xFFFF
.wait:  in al, dx
        test al, LSR_THRE
        jnz .send
        loop .wait
.send:  pop ax
        mov dx, UART_THR
        out dx, al
        pop dx
        pop cx
        ret

; Sends the NUL-terminated string at CS:SI on COM1 and the screen.
puts:
        push ax
        push bx
.next:  cs lodsb
        test al, al
        jz .done
        mov ah, 0x0E
        xor bx, bx
        int 0x10
        jmp .next
.done:  pop bx
        pop ax
        ret

; AL = CMOS index -> AL = value.
cmos_read:
        out CMOS_INDEX, al
        in al, CMOS_DATA
        ret

; AL = CMOS index, AH = value.
cmos_write_ah:
        out CMOS_INDEX, al
        mov al, ah
        out CMOS_DATA, al
        ret

; AL = CMOS index of a time field -> AL in binary (the RTC is in BCD).
cmos_read_bin:
        call cmos_read
        push bx
        mov bl, al
        shr al, 4
        mov bh, 10
        mul bh
        and bl, 0x0F
        add al, bl
        pop bx
        ret

; Prints EAX in decimal (screen and COM1), by repeated subtraction of
; powers of ten.
put_decimal:
        push ebx
        push cx
        push si
        mov si, powers_of_ten
        xor cx, cx              ; CL: a nonzero digit was printed
.power: mov ebx, [cs:si]
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
        push bx
        mov al, ch
        mov ah, 0x0E
        xor bx, bx
        int 0x10
        pop bx
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

%include "video.inc"
%include "disk.inc"
%include "keyboard.inc"
%include "system.inc"

; ---- Fixed addresses, as the IBM PC/AT's ROM has them ---------------------
; (Software jumps to or reads some of these directly.)
        times 0xE6F5 - ($ - $$) db 0
system_configuration:           ; INT 15h AH=C0h
        dw 8                    ; bytes that follow
        db 0xFC                 ; model: AT
        db 0x01                 ; submodel
        db 0x00                 ; BIOS revision
        db 0x74                 ; second 8259, RTC, INT 15h 4Fh, EBDA
        db 0x40                 ; INT 16h 09h
        db 0, 0, 0

        times 0xEFC7 - ($ - $$) db 0
diskette_parameters:            ; INT 1Eh: a 1.44 MiB drive
        db 0xDF, 0x02, 0x25, 0x02, 18, 0x1B, 0xFF, 0x54, 0xF6, 0x0F, 0x08

; ---- The reset vector and the PC/AT identification bytes -------------------
        times 0xFFF0 - ($ - $$) db 0
reset_vector:
        jmp BIOS_SEGMENT:post
        db "12/07/26"           ; BIOS date at F000:FFF5
        db 0
        db 0xFC                 ; model byte at F000:FFFE: PC/AT
        db 0
