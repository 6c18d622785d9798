; The instruction sequences of system_rings: ring-3 routines (each ends by
; INT 0x30, back to try_user's caller), ring-0 routines (under try_call),
; and the ring-0 ends of the gates.
bits 32
%include "system.inc"
%include "rings.inc"

section .bss
global r3_seen, r3_segs, int80_frame, int80_esp, int80_ss
global cg_frame, cg_esp, cg_ss, r3_esp_before, r3_esp_after, r3_es_after
global g16_frame, g16_esp_entry, g16_esp_handler, g16_esp_after, gi16_seen
global jmpgate_cs, conf_target_cs, r3_flags, r3_sel, r3_result, r3_zf, down3_esp
global saved_cr0, saved_gdtr, saved_idtr, r3_scratch
r3_seen:        resd 3                  ; CS, SS, ESP at ring 3
r3_segs:        resd 4                  ; DS, ES, FS, GS after the IRET
int80_frame:    resd 5                  ; EIP, CS, EFLAGS, ESP, SS
int80_esp:      resd 1
int80_ss:       resd 1
cg_frame:       resd 6                  ; EIP, CS, param, param, ESP, SS
cg_esp:         resd 1
cg_ss:          resd 1
r3_esp_before:  resd 1
r3_esp_after:   resd 1
r3_es_after:    resd 1
g16_frame:      resd 3                  ; IP, CS, param (each a word)
g16_esp_entry:  resd 1
g16_esp_handler: resd 1
g16_esp_after:  resd 1
gi16_seen:      resd 10                 ; per 16-bit gate: IP, CS, FLAGS, EFLAGS inside, bytes pushed
jmpgate_cs:     resd 1
conf_target_cs: resd 1
r3_flags:       resd 1
r3_sel:         resd 1
r3_result:      resd 1
r3_zf:          resd 1
down3_esp:      resd 1
saved_cr0:      resd 1
saved_gdtr:     resq 1
saved_idtr:     resq 1
r3_scratch:     resq 1

section .text

; ---- IRET to ring 3, INT 0x80 back through a DPL-3 trap gate, IRET again ----
global r3_int80, r3_int80_after
r3_int80:
        mov [r3_seen], cs
        mov [r3_seen + 4], ss
        mov [r3_seen + 8], esp
        int 0x80
r3_int80_after:
        ; (DS may now be a read-only code segment: store through SS.)
        mov [ss:r3_segs], ds
        mov [ss:r3_segs + 4], es
        mov [ss:r3_segs + 8], fs
        mov [ss:r3_segs + 12], gs
        int 0x30

; Records the ring-0 frame, then returns to ring 3 with DS a conforming code
; segment (kept), ES ring-0 data (nulled), FS ring-3 data by an RPL-0
; selector (kept: only the DPL counts), GS ring-0 code (nulled). SDM Vol. 2A
; IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL.
global int80_handler
int80_handler:
        mov [int80_esp], esp
        mov [int80_ss], ss
        push eax
        mov eax, [esp + 4]
        mov [int80_frame], eax
        mov eax, [esp + 8]
        mov [int80_frame + 4], eax
        mov eax, [esp + 12]
        mov [int80_frame + 8], eax
        mov eax, [esp + 16]
        mov [int80_frame + 12], eax
        mov eax, [esp + 20]
        mov [int80_frame + 16], eax
        mov ax, SEL_DATA0
        mov es, ax
        mov ax, SEL_DATA3 & ~3
        mov fs, ax
        mov ax, SEL_CODE0
        mov gs, ax
        mov ax, SEL_CONF_CODE
        mov ds, ax
        pop eax
        iretd

; ---- a far CALL through a call gate from ring 3, 2 parameters, RETF 8 ----
global r3_callgate, r3_callgate_after
r3_callgate:
        mov [r3_esp_before], esp
        push 0x11111111
        push 0x22222222
        call (SEL_GATE32 | 3):0
r3_callgate_after:
        mov [r3_esp_after], esp
        mov [r3_es_after], es
        int 0x30

global callgate32_handler
callgate32_handler:
        mov [cg_esp], esp
        mov [cg_ss], ss
        push eax
%assign i 0
%rep 6
        mov eax, [esp + 4 + i * 4]
        mov [cg_frame + i * 4], eax
%assign i i + 1
%endrep
        mov ax, SEL_DATA0               ; nulled by the RETF to ring 3
        mov es, ax
        pop eax
        retf 8

; ---- a 16-bit call gate at ring 0: IP and CS pushed as words ----
global gate16_enter, gate16_int_enter
gate16_enter:
        mov [g16_esp_entry], esp
        jmp SEL_BASED_CODE0:(g16_caller - gate16_blob)
gate16_int_enter:
        mov [g16_esp_entry], esp
        jmp SEL_BASED_CODE0:(gi16_caller - gate16_blob)
gate16_back:
        ret

; Runs in SEL_BASED_CODE0 (based here), so that its offsets fit 16 bits.
align 16
global gate16_blob, g16_return, g16_handler
gate16_blob:
g16_caller:
        push word 0x5A5A
        call SEL_GATE16:0
g16_return:
        mov [g16_esp_after], esp
        jmp SEL_CODE0:gate16_back
g16_handler:
        mov [g16_esp_handler], esp
        push eax
        movzx eax, word [esp + 4]
        mov [g16_frame], eax
        movzx eax, word [esp + 6]
        mov [g16_frame + 4], eax
        movzx eax, word [esp + 8]
        mov [g16_frame + 8], eax
        pop eax
        o16 retf 2

; 16-bit interrupt and trap gates of the IDT (vectors 0x43, 0x44): FLAGS,
; CS, IP pushed as words, IF cleared by the interrupt gate only; the
; handlers return by a 16-bit IRET.
%macro GATE16_HANDLER 2                 ; name, slot in gi16_seen
%1:
        push eax
        movzx eax, word [esp + 4]
        mov [gi16_seen + %2 + 0], eax
        movzx eax, word [esp + 6]
        mov [gi16_seen + %2 + 4], eax
        movzx eax, word [esp + 8]
        mov [gi16_seen + %2 + 8], eax
        pushfd
        pop eax
        mov [gi16_seen + %2 + 12], eax
        lea eax, [esp + 4]
        neg eax
        add eax, [g16_esp_entry]
        mov [gi16_seen + %2 + 16], eax
        pop eax
        o16 iret
%endmacro
GATE16_HANDLER g16_int_handler, 0
GATE16_HANDLER g16_trap_handler, 20
global g16_int_handler, g16_trap_handler, gi16_int_return, gi16_trap_return

gi16_caller:
        sti
        int 0x43
gi16_int_return:
        int 0x44
gi16_trap_return:
        cli
        mov [g16_esp_after], esp
        jmp SEL_CODE0:gate16_back

; ---- far JMP through call gates ----
global r0_jmpgate, jmpgate_target, r3_jmpgate, r3_jmpgate_conf, conf_target
r0_jmpgate:
        jmp SEL_JMPGATE:0
jmpgate_target:
        mov [jmpgate_cs], cs
        ret
r3_jmpgate:
        jmp (SEL_JMPGATE | 3):0
        int 0x30
r3_jmpgate_conf:
        jmp (SEL_JMPGATE_CONF | 3):0
conf_target:
        mov [ss:conf_target_cs], cs
        int 0x30

global r3_call_gate_dpl0, r3_call_gate_np_target, r3_int_dpl0_gate, r3_int_np_gate
r3_call_gate_dpl0:
        call (SEL_GATE_DPL0 | 3):0
        int 0x30
r3_call_gate_np_target:
        call (SEL_GATE_NP | 3):0
        int 0x30
r3_int_dpl0_gate:
        int 0x81
        int 0x30
r3_int_np_gate:
        int 0x82
        int 0x30

; ---- instructions at ring 3 ----
%macro RING3 2+
global %1
%1:     %2
        int 0x30
%endmacro
RING3 r3_hlt, hlt
RING3 r3_cli, cli
RING3 r3_sti, sti
RING3 r3_read_cr0, mov eax, cr0
RING3 r3_lgdt, lgdt [saved_gdtr]
RING3 r3_lidt, lidt [saved_idtr]
RING3 r3_lmsw, lmsw [saved_cr0]
RING3 r3_clts, clts
RING3 r3_invlpg, invlpg [r3_scratch]
RING3 r3_wbinvd, wbinvd
RING3 r3_invd, invd
RING3 r3_read_dr7, mov eax, dr7
RING3 r3_sgdt, sgdt [r3_scratch]
RING3 r3_sidt, sidt [r3_scratch]
RING3 r3_smsw, smsw eax
RING3 r3_str, str eax
RING3 r3_sldt, sldt eax
RING3 r3_in80, in al, 0x80
RING3 r3_in82, in al, 0x82
RING3 r3_inw80, in ax, 0x80
RING3 r3_inw81, in ax, 0x81
RING3 r3_ind80, in eax, 0x80
RING3 r3_out80, out 0x80, al

global r3_write_cr0, r3_lldt, r3_ltr, r3_write_dr7, r3_in_dx400, r3_insb82
r3_write_cr0:
        mov eax, [saved_cr0]
        mov cr0, eax
        int 0x30
r3_lldt:
        xor eax, eax
        lldt ax
        int 0x30
r3_ltr:
        mov ax, SEL_TSS
        ltr ax
        int 0x30
r3_write_dr7:
        mov eax, 0x400
        mov dr7, eax
        int 0x30
global r3_rdmsr, r3_wrmsr
r3_rdmsr:
        mov ecx, 0x174                  ; IA32_SYSENTER_CS
        rdmsr
        int 0x30
r3_wrmsr:
        mov ecx, 0x174                  ; IA32_SYSENTER_CS, 0
        xor eax, eax
        xor edx, edx
        wrmsr
        int 0x30
r3_in_dx400:
        mov dx, 0x400                   ; beyond the TSS limit
        in al, dx
        int 0x30
r3_insb82:
        mov edi, r3_scratch
        mov dx, 0x82
        insb
        int 0x30

; POPF at ring 3: IF and IOPL change only as CPL and IOPL allow (SDM Vol.
; 2B POPF); no exception either way.
global r3_popf, r3_popf_iopl3
r3_popf:
        pushfd
        or dword [esp], EFLAGS_IF | 0x3000
        popfd
        pushfd
        pop dword [r3_flags]
        int 0x30
r3_popf_iopl3:
        pushfd
        and dword [esp], ~0x3000
        or dword [esp], EFLAGS_IF
        popfd
        pushfd
        pop dword [r3_flags]
        cli
        int 0x30

; ---- segment loads at ring 3 ----
%macro LOAD3 3                          ; name, segment register, selector
global %1
%1:     mov ax, %3
        mov %2, ax
        mov ax, SEL_DATA3
        mov %2, ax
        int 0x30
%endmacro
LOAD3 r3_load_ds_data0, ds, SEL_DATA0
LOAD3 r3_load_ds_data0_rpl3, ds, SEL_DATA0 | 3
LOAD3 r3_load_ds_conforming, ds, SEL_CONF_CODE | 3
LOAD3 r3_load_ds_code0, ds, SEL_CODE0 | 3
LOAD3 r3_load_es_np3, es, SEL_NP_DATA3 | 3
LOAD3 r3_load_ss_data0, ss, SEL_DATA0
LOAD3 r3_load_ss_np3, ss, SEL_NP_DATA3 | 3
LOAD3 r3_load_ss_null, ss, 0

; PUSH below an expand-down stack segment's lower bound: #SS(0).
global r3_push_expand_down
r3_push_expand_down:
        mov ax, SEL_DOWN3 | 3
        mov ss, ax
        mov esp, [down3_esp]
        push eax
        push eax
        push eax
        int 0x30

; LAR, LSL, VERR, VERW of [r3_sel] at ring 3.
%macro QUERY3 2+
global %1
%1:     mov eax, 0xDEADBEEF
        %2
        setz byte [r3_zf]
        mov [r3_result], eax
        int 0x30
%endmacro
QUERY3 r3_lar, lar eax, word [r3_sel]
QUERY3 r3_lsl, lsl eax, word [r3_sel]
QUERY3 r3_verr, verr word [r3_sel]
QUERY3 r3_verw, verw word [r3_sel]

; ---- segment loads and limits at ring 0 (each under try_call) ----
%macro LOAD0 3
global %1
%1:     mov ax, %3
        mov %2, ax
        mov ax, SEL_DATA0
        mov %2, ax
        ret
%endmacro
LOAD0 r0_load_ds_null, ds, 0
LOAD0 r0_load_es_np, es, SEL_NP_DATA
LOAD0 r0_load_ss_np, ss, SEL_NP_DATA
LOAD0 r0_load_ss_null, ss, 0
LOAD0 r0_load_ss_read_only, ss, SEL_RO_DATA
LOAD0 r0_load_ss_rpl3, ss, SEL_DATA0 | 3
LOAD0 r0_load_ss_dpl3, ss, SEL_DATA3 & ~3
LOAD0 r0_load_es_exec_only, es, SEL_EXEC_ONLY
LOAD0 r0_load_es_readable_code, es, SEL_CODE0
LOAD0 r0_load_es_tss, es, SEL_TSS
LOAD0 r0_load_es_beyond_gdt, es, 0x200
LOAD0 r0_load_es_ldt, es, 0x0C
LOAD0 r0_load_es_accessed, es, SEL_ACC

global r0_use_null_es
r0_use_null_es:
        xor eax, eax
        mov es, ax
        mov eax, [es:0x1000]
        mov ax, SEL_DATA0
        mov es, ax
        ret

%macro LIMIT0 4                         ; name, selector, register, offset
global %1
%1:     mov ax, %2
        mov es, ax
        mov %3, [es:%4]
        mov ax, SEL_DATA0
        mov es, ax
        ret
%endmacro
LIMIT0 r0_small_dword_fc, SEL_SMALL, eax, 0xFC
LIMIT0 r0_small_dword_fd, SEL_SMALL, eax, 0xFD
LIMIT0 r0_small_byte_ff, SEL_SMALL, al, 0xFF
LIMIT0 r0_small_byte_100, SEL_SMALL, al, 0x100
LIMIT0 r0_page_dword_ffc, SEL_PAGE, eax, 0xFFC
LIMIT0 r0_page_dword_ffd, SEL_PAGE, eax, 0xFFD
LIMIT0 r0_page_byte_1000, SEL_PAGE, al, 0x1000
LIMIT0 r0_down_byte_fff, SEL_DOWN, al, 0xFFF
LIMIT0 r0_down_byte_1000, SEL_DOWN, al, 0x1000
LIMIT0 r0_down_dword_top, SEL_DOWN, eax, 0xFFFFFFFC
LIMIT0 r0_down_dword_wrap, SEL_DOWN, eax, 0xFFFFFFFD
LIMIT0 r0_down16_byte_ffff, SEL_DOWN16, al, 0xFFFF
LIMIT0 r0_down16_byte_10000, SEL_DOWN16, al, 0x10000

global r0_ss_within_limit, r0_ss_beyond_limit
r0_ss_within_limit:
        mov ax, SEL_SS_LIMITED
        mov ss, ax
        mov eax, [ss:0x00FFFFFC]
        mov ax, SEL_DATA0
        mov ss, ax
        ret
r0_ss_beyond_limit:
        mov ax, SEL_SS_LIMITED
        mov ss, ax
        mov eax, [ss:0x00FFFFFD]
        mov ax, SEL_DATA0
        mov ss, ax
        ret

global r0_int3, r0_ud2
r0_int3:
        int3
        ret
r0_ud2:
        ud2
        ret

section .note.GNU-stack noalloc noexec nowrite progbits
