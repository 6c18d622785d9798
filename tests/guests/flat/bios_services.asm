; A boot program (a disk's sector 0 plus the sectors after it, entered by a
; PC BIOS at 0000:7C00 with DL = the boot drive) that calls the standard
; PC BIOS services and reports each result as one "bios: ..." line,
; CR LF ended, written straight to COM1's UART (never through the BIOS, so
; no BIOS has to mirror its console to serial). Every number is in hex.
; It boots as a hard disk (DL = 80) and as a 1.44 MiB floppy (DL = 00):
; everything it reads or writes lies on cylinder 0, head 0, so the CHS
; reads work with any geometry of 9 or more sectors a track.
;
; Disk layout (LBA = CHS sector - 1):
;   LBA 0                 this boot sector: the UART and print helpers,
;                         and the AH=02h load of LBA 1 .. PROGRAM_SECTORS-1
;   LBA 1                 a fixed data pattern whose 16-bit word sum is
;                         PATTERN_SUM, so the read checksums do not move
;                         when the code does
;   LBA 2 ..              the rest of the program
;   LBA PROGRAM_SECTORS   a scratch sector it writes (AH=03h); the disk
;                         image must be at least one sector longer
;
; The last lines wait for three keys through INT 16h (a harness types
; "a", "B", Enter after "bios: press a key"); then it prints "bios: done"
; and halts with interrupts off, which is the stop condition.
bits 16
org 0x7C00

COM1            equ 0x3F8
CHS_SEGMENT     equ 0x1000          ; buffer of the AH=02h re-read
LBA_SEGMENT     equ 0x2000          ; buffer of the AH=42h read
SCRATCH_SEGMENT equ 0x3000          ; the written sector and its read-back
PROGRAM_SECTORS equ (image_end - $$) / 512
LOAD_SECTORS    equ PROGRAM_SECTORS - 1
SCRATCH_LBA     equ PROGRAM_SECTORS
SMAP            equ 0x534D4150      ; 'SMAP', the E820 signature
E820_MAX        equ 32              ; a bound in case a BIOS never ends the map

; Print the string that follows the call (inline, so each line reads as it
; prints); `line` puts "bios: " before it. Both keep the flags, so they can
; sit between a test and put_zf_yes; every helper keeps all registers but
; the ones it returns.
%macro say 1
    call print_inline
    db %1, 0
%endmacro
%macro line 1
    call print_tagged
    db %1, 0
%endmacro

; ---- Sector 0: the boot sector ----------------------------------------------

start:
    jmp 0:.cs_zero              ; some BIOSes enter at 07C0:0000
.cs_zero:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti                         ; the tick count and INT 16h need IRQs
    cld
    mov [boot_drive], dl
    call serial_init
    line "boot drive="
    mov al, [boot_drive]
    call hex8
    call newline

    ; The rest of the program, by CHS so a floppy boots too. A real floppy
    ; may fail the first read while its motor spins up: reset and retry.
    mov byte [load_tries], 3
.load:
    mov ax, 0x0200 | LOAD_SECTORS
    mov bx, 0x7E00
    mov cx, 0x0002              ; cylinder 0, sector 2
    xor dh, dh
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    jnc .loaded
    dec byte [load_tries]
    jz .loaded
    xor ah, ah
    mov dl, [boot_drive]
    int 0x13
    jmp .load
.loaded:
    line "load chs"
    call put_cf_ah
    call put_al
    call newline
    test byte [s_flags], 1
    jnz halt
    jmp main

halt:
    line "done"
    call newline
    mov dx, COM1 + 5            ; let the UART drain before stopping
.drain:
    in al, dx
    test al, 0x40
    jz .drain
    cli
.stop:
    hlt
    jmp .stop

; COM1 at 115200 8N1, no interrupts, FIFOs on: what a BIOS would have set.
serial_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                  ; IER: no interrupts
    mov dl, (COM1 + 3) & 0xFF
    mov al, 0x80
    out dx, al                  ; LCR: divisor latch
    mov dl, COM1 & 0xFF
    mov al, 1
    out dx, al                  ; divisor 1 = 115200
    inc dx
    xor al, al
    out dx, al
    mov dl, (COM1 + 3) & 0xFF
    mov al, 0x03
    out dx, al                  ; LCR: 8N1
    dec dx
    mov al, 0x07
    out dx, al                  ; FCR: FIFOs on and cleared
    mov dl, (COM1 + 4) & 0xFF
    mov al, 0x03
    out dx, al                  ; MCR: DTR, RTS
    ret

; AL to the UART once its transmit holding register is empty (LSR bit 5).
putc:
    push dx
    push ax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop ax
    mov dx, COM1
    out dx, al
    pop dx
    ret

; The string at CS:SI; SI ends past its terminator.
puts:
    pushf
    push ax
.next:
    cs lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop ax
    popf
    ret

print_tagged:
    push si
    mov si, tag
    call puts
    pop si
print_inline:
    push bp
    mov bp, sp
    push si
    mov si, [bp + 2]            ; the return address: the string
    call puts
    mov [bp + 2], si            ; return past the terminator
    pop si
    pop bp
    ret

tag: db "bios: ", 0

newline:
    push ax
    mov al, 13
    call putc
    mov al, 10
    call putc
    pop ax
    ret

hex32:
    push eax
    shr eax, 16
    call hex16
    pop eax
hex16:
    push ax
    mov al, ah
    call hex8
    pop ax
hex8:
    push ax
    shr al, 4
    call hex_digit
    pop ax
    push ax
    and al, 0x0F
    call hex_digit
    pop ax
    ret

hex_digit:
    push ax
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    call putc
    pop ax
    ret

; Keep the registers and flags a BIOS call returned, so the lines can be
; printed from them in any order; call it right after the INT.
snapshot:
    pushf
    pop word [cs:s_flags]
    mov [cs:s_eax], eax
    mov [cs:s_ebx], ebx
    mov [cs:s_ecx], ecx
    mov [cs:s_edx], edx
    mov [cs:s_esi], esi
    mov [cs:s_edi], edi
    mov [cs:s_es], es
    ret

; " cf=N ah=NN" from the snapshot.
put_cf_ah:
    call put_cf
put_ah:
    push ax
    say " ah="
    mov al, [s_eax + 1]
    call hex8
    pop ax
    ret

put_cf:
    push ax
    say " cf="
    mov al, [s_flags]
    and al, 1
    call hex_digit
    pop ax
    ret

put_al:
    push ax
    say " al="
    mov al, [s_eax]
    call hex8
    pop ax
    ret

; "yes" if ZF is set, else "no".
put_zf_yes:
    jnz .no
    say "yes"
    ret
.no:
    say "no"
    ret

    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---- Sector 1: the data pattern ---------------------------------------------
; Word i is i * 0x0301 + 0x1234: not a permutation of the byte values, so
; its sum (PATTERN_SUM) changes if the sector comes back shifted or torn.

%assign PATTERN_SUM 0
%assign i 0
%rep 256
    dw (i * 0x0301 + 0x1234) & 0xFFFF
    %assign PATTERN_SUM (PATTERN_SUM + i * 0x0301 + 0x1234) & 0xFFFF
    %assign i i + 1
%endrep

; ---- Sector 2 on: the tests -------------------------------------------------

main:
    call disk_tests
    call memory_tests
    call a20_tests
    call clock_tests
    call video_tests
    call keyboard_tests
    jmp halt

; ---- INT 13h ----------------------------------------------------------------

disk_tests:
    ; AH=08h: the geometry. ES:DI = 0 first, as RBIL advises against BIOSes
    ; that return a floppy's parameter table only when asked.
    mov ah, 0x08
    mov dl, [boot_drive]
    xor di, di
    mov es, di
    clc
    int 0x13
    call snapshot
    xor ax, ax
    mov es, ax                  ; a floppy gets ES:DI = its parameter table
    mov al, [s_ecx]
    and al, 0x3F
    mov [max_sector], al
    mov al, [s_edx + 1]
    mov [max_head], al
    line "int13 08 params"
    call put_cf_ah
    say " max_cyl="
    mov al, [s_ecx]
    xor ah, ah
    shl ax, 2
    mov al, [s_ecx + 1]         ; CH = cylinder bits 0-7, CL 7:6 = bits 9:8
    call hex16
    say " max_head="
    mov al, [max_head]
    call hex8
    say " max_sector="
    mov al, [max_sector]
    call hex8
    say " drives="
    mov al, [s_edx]
    call hex8
    test byte [boot_drive], 0x80
    jnz .no_type
    say " type="                ; BL: the floppy drive type (4 = 1.44 MiB)
    mov al, [s_ebx]
    call hex8
.no_type:
    call newline

    ; AH=41h: are the extensions (42h, 48h) there? A floppy normally says no.
    mov byte [have_ext], 0
    mov ah, 0x41
    mov bx, 0x55AA
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    line "int13 41 extensions"
    call put_cf_ah
    test byte [s_flags], 1
    jnz .ext_done
    say " bx="
    mov ax, [s_ebx]
    call hex16
    say " cx="
    mov ax, [s_ecx]
    call hex16
    cmp word [s_ebx], 0xAA55
    jne .ext_done
    test byte [s_ecx], 1        ; bit 0: the packet calls (42h-44h, 47h, 48h)
    jz .ext_done
    mov byte [have_ext], 1
.ext_done:
    call newline

    ; AH=02h: LBA 1 .. again, into a buffer of its own.
    mov ax, CHS_SEGMENT
    mov es, ax
    xor bx, bx
    mov ax, 0x0200 | LOAD_SECTORS
    mov cx, 0x0002
    xor dh, dh
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    xor ax, ax
    mov es, ax
    line "int13 02 read"
    call put_cf_ah
    call put_al
    call newline
    line "int13 02 sector2 sum="
    mov ax, CHS_SEGMENT
    call sector_sum
    call hex16
    cmp ax, PATTERN_SUM
    say " expected="
    call put_zf_yes
    call newline

    ; AH=42h: the same sectors by LBA through a disk address packet.
    cmp byte [have_ext], 0
    jne .lba
    line "int13 42 skipped"
    call newline
    line "int13 48 skipped"
    call newline
    jmp .write
.lba:
    mov word [dap], 0x0010      ; size 16, reserved 0
    mov word [dap + 2], LOAD_SECTORS
    mov word [dap + 4], 0
    mov word [dap + 6], LBA_SEGMENT
    mov dword [dap + 8], 1
    mov dword [dap + 12], 0
    mov ah, 0x42
    mov dl, [boot_drive]
    mov si, dap
    clc
    int 0x13
    call snapshot
    line "int13 42 read"
    call put_cf_ah
    say " count="               ; the BIOS writes back how many it moved
    mov ax, [dap + 2]
    call hex16
    call newline
    line "int13 42 sector2 sum="
    mov ax, LBA_SEGMENT
    call sector_sum
    call hex16
    cmp ax, PATTERN_SUM
    say " expected="
    call put_zf_yes
    call newline
    line "int13 02/42 same="
    push ds
    mov ax, CHS_SEGMENT
    mov ds, ax
    mov ax, LBA_SEGMENT
    mov es, ax
    xor si, si
    xor di, di
    mov cx, LOAD_SECTORS * 512
    repe cmpsb
    pop ds
    call put_zf_yes
    call newline
    push word 0
    pop es

    ; AH=48h: the drive's size. A 1Ah-byte (EDD 1.x) buffer, the smallest
    ; every EDD BIOS fills the same way.
    mov si, edd_params
    mov word [si], 0x001A
    mov ah, 0x48
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    line "int13 48 params"
    call put_cf_ah
    say " size="
    mov ax, [edd_params]
    call hex16
    say " sectors="
    mov eax, [edd_params + 0x10]
    call hex32
    say " bytes_per_sector="
    mov ax, [edd_params + 0x18]
    call hex16
    call newline

.write:
    ; AH=03h: a pattern into the scratch sector after the program, read it
    ; back with AH=02h and verify it with AH=04h.
    mov ax, SCRATCH_SEGMENT
    mov es, ax
    xor di, di
    xor bx, bx
.fill:
    mov al, bl
    xor al, 0xA5
    add al, bh
    stosb
    inc bx
    cmp bx, 512
    jb .fill
    mov cx, 512
    xor al, al
    rep stosb                   ; clear the read-back buffer after it
    mov ax, 0x0301
    xor bx, bx
    mov cx, SCRATCH_LBA + 1
    xor dh, dh
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    line "int13 03 write"
    call put_cf_ah
    call put_al
    call newline
    mov ax, 0x0201
    mov bx, 512
    mov cx, SCRATCH_LBA + 1
    xor dh, dh
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    line "int13 02 readback"
    call put_cf_ah
    call put_al
    say " same="
    push ds
    mov ax, SCRATCH_SEGMENT
    mov ds, ax
    xor si, si
    mov di, 512
    mov cx, 512
    repe cmpsb
    pop ds
    call put_zf_yes
    call newline
    mov ax, 0x0401
    mov bx, 512
    mov cx, SCRATCH_LBA + 1
    xor dh, dh
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    xor ax, ax
    mov es, ax
    line "int13 04 verify"
    call put_cf_ah
    call put_al
    call newline

    ; Two reads a BIOS must refuse, each followed by AH=01h, which returns
    ; the last operation's status; then AH=00h resets and clears it.
    mov ax, CHS_SEGMENT
    mov es, ax
    mov ax, 0x0201
    xor bx, bx
    mov cx, 0x0000              ; sector 0: sectors count from 1
    xor dh, dh
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    line "int13 02 sector0"
    call put_cf_ah
    call newline
    call disk_status
    mov ax, 0x0201
    xor bx, bx
    mov cx, 0x0001
    mov dh, [max_head]
    inc dh                      ; one head past the geometry
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    xor ax, ax
    mov es, ax
    line "int13 02 head_beyond"
    call put_cf_ah
    call newline
    call disk_status
    xor ah, ah
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    line "int13 00 reset"
    call put_cf_ah
    call newline
    call disk_status

    ; AH=15h: the disk type in AH (not a status): 1 or 2 for a floppy
    ; without or with change-line, 3 for a hard disk with CX:DX sectors.
    mov ah, 0x15
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    line "int13 15 type"
    call put_cf_ah
    cmp byte [s_eax + 1], 3
    jne .type_done
    say " sectors="
    mov ax, [s_ecx]
    call hex16
    mov ax, [s_edx]
    call hex16
.type_done:
    call newline
    ret

disk_status:
    mov ah, 0x01
    mov dl, [boot_drive]
    clc
    int 0x13
    call snapshot
    line "int13 01 status"
    call put_cf_ah
    call newline
    ret

; AX = the sum of the 256 words at AX:0000.
sector_sum:
    push ds
    push si
    push cx
    push bx
    mov ds, ax
    xor si, si
    xor bx, bx
    mov cx, 256
.add:
    lodsw
    add bx, ax
    loop .add
    mov ax, bx
    pop bx
    pop cx
    pop si
    pop ds
    ret

; ---- INT 15h memory, INT 11h, INT 12h -----------------------------------------

memory_tests:
    ; E820: one line an entry, EBX carrying the continuation; 24-byte
    ; entries offered with the ACPI 3 "valid" bit preset, as the spec asks.
    mov word [e820_count], 0
    xor ebx, ebx
.e820_next:
    mov di, e820_entry
    mov dword [di + 20], 1
    mov eax, 0xE820
    mov edx, SMAP
    mov ecx, 24
    clc
    int 0x15
    call snapshot
    jc .e820_end                ; some BIOSes end with CF set, not EBX = 0
    cmp eax, SMAP
    jne .e820_end
    line "e820 base="
    mov eax, [e820_entry + 4]
    call hex32
    mov eax, [e820_entry]
    call hex32
    say " length="
    mov eax, [e820_entry + 12]
    call hex32
    mov eax, [e820_entry + 8]
    call hex32
    say " type="
    mov eax, [e820_entry + 16]
    call hex32
    call newline
    inc word [e820_count]
    mov ebx, [s_ebx]
    test ebx, ebx
    jz .e820_end
    cmp word [e820_count], E820_MAX
    jb .e820_next
.e820_end:
    line "e820 entries="
    mov ax, [e820_count]
    call hex16
    call newline

    ; E801: some BIOSes answer in AX/BX only, so CX/DX start at 0.
    xor cx, cx
    xor dx, dx
    mov ax, 0xE801
    clc
    int 0x15
    call snapshot
    line "int15 e801"
    call put_cf
    say " ax="
    mov ax, [s_eax]
    call hex16
    say " bx="
    mov ax, [s_ebx]
    call hex16
    say " cx="
    mov ax, [s_ecx]
    call hex16
    say " dx="
    mov ax, [s_edx]
    call hex16
    call newline

    mov ah, 0x88
    clc
    int 0x15
    call snapshot
    line "int15 88 extended"
    call put_cf
    say " ax="
    mov ax, [s_eax]
    call hex16
    call newline

    ; AH=C0h: ES:BX = the configuration table: size word, model, submodel,
    ; BIOS revision, feature byte 1.
    mov ah, 0xC0
    clc
    int 0x15
    call snapshot
    line "int15 c0 config"
    call put_cf_ah
    test byte [s_flags], 1
    jnz .config_done
    mov es, [s_es]
    mov bx, [s_ebx]
    say " model="
    mov al, [es:bx + 2]
    call hex8
    say " submodel="
    mov al, [es:bx + 3]
    call hex8
    say " revision="
    mov al, [es:bx + 4]
    call hex8
    say " feature1="
    mov al, [es:bx + 5]
    call hex8
.config_done:
    call newline
    xor ax, ax
    mov es, ax

    int 0x11
    line "int11 equipment="
    call hex16
    call newline
    int 0x12
    line "int12 base_kib="
    call hex16
    call newline
    ret

; ---- INT 15h AX=24xxh: the A20 gate ------------------------------------------

a20_tests:
    call a20_status
    call a20_memory
    mov ax, 0x2400
    clc
    int 0x15
    call snapshot
    line "int15 2400 disable"
    call put_cf_ah
    call newline
    call a20_status
    call a20_memory
    mov ax, 0x2401
    clc
    int 0x15
    call snapshot
    line "int15 2401 enable"
    call put_cf_ah
    call newline
    call a20_status
    call a20_memory
    mov ax, 0x2403
    clc
    int 0x15
    call snapshot
    line "int15 2403 support"
    call put_cf_ah
    say " bx="
    mov ax, [s_ebx]
    call hex16
    call newline
    ret

a20_status:
    mov ax, 0x2402
    clc
    int 0x15
    call snapshot
    line "int15 2402 status"
    call put_cf_ah
    call put_al
    call newline
    ret

; Whether FFFF:0510 (linear 100500h) is its own byte or wraps onto
; 0000:0500, as it does with A20 off; both bytes are put back.
a20_memory:
    push ds
    push es
    xor ax, ax
    mov ds, ax
    dec ax
    mov es, ax
    mov bl, [0x0500]
    mov bh, [es:0x0510]
    mov byte [0x0500], 0x00
    mov byte [es:0x0510], 0xFF
    cmp byte [0x0500], 0xFF     ; ZF: the write wrapped
    mov [es:0x0510], bh
    mov [0x0500], bl            ; last, so it wins if the two are one byte
    pop es
    pop ds
    line "a20 memory wraps="
    call put_zf_yes
    call newline
    ret

; ---- INT 1Ah and INT 15h AH=86h: time -------------------------------------------

clock_tests:
    ; The tick count must move across a 110000 us (1ADB0h) wait: two ticks
    ; of 54.9 ms nominally, so at least one however the wait lines up.
    xor ah, ah
    int 0x1A
    mov [ticks], dx
    mov [ticks + 2], cx
    mov ah, 0x86
    mov cx, 0x0001
    mov dx, 0xADB0
    clc
    int 0x15
    call snapshot
    line "int15 86 wait"
    call put_cf
    call newline
    xor ah, ah
    int 0x1A
    mov ax, dx
    mov dx, cx
    sub ax, [ticks]
    sbb dx, [ticks + 2]         ; DX:AX = ticks elapsed
    test dx, dx
    jnz .advanced
    test ax, ax
    jnz .advanced
    line "int1a 00 ticks stuck"
    call newline
    jmp .rtc
.advanced:
    line "int1a 00 ticks ok"
    call newline
.rtc:
    ; The RTC in BCD: time (depends on when it runs) and date.
    mov ah, 0x02
    clc
    int 0x1A
    call snapshot
    line "int1a 02 time"
    call put_cf
    mov al, ' '
    call putc
    mov al, [s_ecx + 1]
    call hex8
    mov al, ':'
    call putc
    mov al, [s_ecx]
    call hex8
    mov al, ':'
    call putc
    mov al, [s_edx + 1]
    call hex8
    call newline
    mov ah, 0x04
    clc
    int 0x1A
    call snapshot
    line "int1a 04 date"
    call put_cf
    mov al, ' '
    call putc
    mov ax, [s_ecx]             ; CH century, CL year
    call hex16
    mov al, '-'
    call putc
    mov al, [s_edx + 1]
    call hex8
    mov al, '-'
    call putc
    mov al, [s_edx]
    call hex8
    call newline
    ret

; ---- INT 10h ------------------------------------------------------------------

video_tests:
    mov ah, 0x0F
    int 0x10
    call snapshot
    line "int10 0f mode="
    mov al, [s_eax]
    call hex8
    say " columns="
    mov al, [s_eax + 1]
    call hex8
    say " page="
    mov al, [s_ebx + 1]
    call hex8
    call newline

    ; Where the cursor is at boot depends on what the BIOS printed, so
    ; that line is the BIOS's own; the ones after start from known places.
    mov ah, 0x03
    xor bh, bh
    int 0x10
    line "int10 03 boot cursor row="
    mov al, dh
    call hex8
    say " col="
    mov al, dl
    call hex8
    say " shape="
    mov ax, cx
    call hex16
    call newline
    mov ah, 0x02
    xor bh, bh
    mov dx, 0x050A              ; row 5, column 10
    int 0x10
    call cursor_line

    ; Rows 10-11 blanked (AH=06h, AL=0 clears the window) in attribute 07.
    mov ax, 0x0600
    mov bh, 0x07
    mov cx, 0x0A00
    mov dx, 0x0B4F
    int 0x10

    ; AH=13h, AL=1: attribute in BL, cursor moved past the string.
    mov ax, 0x1301
    mov bx, 0x001E              ; page 0, yellow on blue
    mov cx, hello_length
    mov dx, 0x0A00
    mov bp, hello
    int 0x10
    call cursor_line
    mov dx, 0x0A01
    mov cx, 0x1E00 | 'E'
    call check_cell

    ; AH=09h: 3 times 'X' in 4F from row 11 column 0; the cursor stays.
    mov ah, 0x02
    xor bh, bh
    mov dx, 0x0B00
    int 0x10
    mov ax, 0x0900 | 'X'
    mov bx, 0x004F
    mov cx, 3
    int 0x10
    call cursor_line
    mov dx, 0x0B02
    mov cx, 0x4F00 | 'X'
    call check_cell
    mov dx, 0x0B03
    mov cx, 0x0700 | ' '
    call check_cell

    ; AH=06h: rows 10-11 up one line: the X's move to row 10, row 11 is
    ; filled with blanks in attribute 17.
    mov ax, 0x0601
    mov bh, 0x17
    mov cx, 0x0A00
    mov dx, 0x0B4F
    int 0x10
    mov dx, 0x0A00
    mov cx, 0x4F00 | 'X'
    call check_cell
    mov dx, 0x0A03
    mov cx, 0x0700 | ' '
    call check_cell
    mov dx, 0x0B00
    mov cx, 0x1700 | ' '
    call check_cell
    ret

cursor_line:
    mov ah, 0x03
    xor bh, bh
    int 0x10
    line "int10 03 cursor row="
    mov al, dh
    call hex8
    say " col="
    mov al, dl
    call hex8
    call newline
    ret

; The cell at row DH, column DL through AH=02h and AH=08h, against the
; expected character CL and attribute CH.
check_cell:
    mov ah, 0x02
    xor bh, bh
    int 0x10
    mov ah, 0x08
    xor bh, bh
    int 0x10
    mov bx, ax
    line "int10 08 cell row="
    mov al, dh
    call hex8
    say " col="
    mov al, dl
    call hex8
    say " char="
    mov al, bl
    call hex8
    say " attr="
    mov al, bh
    call hex8
    say " expected="
    cmp bx, cx
    call put_zf_yes
    call newline
    ret

hello: db "HELLO"
hello_length equ $ - hello

; ---- INT 16h --------------------------------------------------------------------

keyboard_tests:
    call key_check
    mov ah, 0x02
    int 0x16
    line "int16 02 shift="
    call hex8
    call newline
    mov cx, 3
.key:
    line "press a key"
    call newline
    push cx
    xor ah, ah
    int 0x16
    pop cx
    line "int16 00 scan="
    push ax
    mov al, ah
    call hex8
    pop ax
    say " ascii="
    call hex8
    call newline
    loop .key
    call key_check
    ret

; AH=01h: ZF set when no key is waiting.
key_check:
    mov ah, 0x01
    int 0x16
    line "int16 01 empty="
    call put_zf_yes
    call newline
    ret

    times (512 - ($ - $$) % 512) % 512 db 0
image_end:

; ---- Variables, after the image so no load overwrites them ------------------------

absolute image_end
boot_drive: resb 1
load_tries: resb 1
have_ext:   resb 1
max_head:   resb 1
max_sector: resb 1
            resb 3      ; (dword alignment)
s_eax:      resd 1
s_ebx:      resd 1
s_ecx:      resd 1
s_edx:      resd 1
s_esi:      resd 1
s_edi:      resd 1
s_es:       resw 1
s_flags:    resw 1
ticks:      resd 1
e820_count: resw 1
            resb 2
dap:        resb 16
edd_params: resb 0x42
            resb 2
e820_entry: resb 24
