# Guest programs are built at build time from source: nasm for flat binaries,
# gcc -m32 for freestanding C linked as multiboot v1 ELF kernels.

find_program(JITTERBUG_GUEST_CC NAMES gcc REQUIRED)

# jitterbug_nasm_binary(<output> <source> [DEPENDS files...])
# Assembles <source> into the flat binary <output>.
function(jitterbug_nasm_binary output source)
    cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
    get_filename_component(src_dir ${source} DIRECTORY)
    add_custom_command(
        OUTPUT ${output}
        COMMAND ${NASM_EXECUTABLE} -f bin -w+all -I ${src_dir}/ -o ${output} ${source}
        DEPENDS ${source} ${ARG_DEPENDS}
        COMMENT "nasm ${source}"
        VERBATIM)
endfunction()

set(JITTERBUG_GUEST_RUNTIME_DIR ${CMAKE_SOURCE_DIR}/tests/guests/runtime)

# jitterbug_guest_kernel(<name> SOURCES c-files... [ASM_SOURCES asm-files...]
#                        [DEPENDS headers...])
# Builds build/guests/<name>.elf: freestanding 32-bit C plus the guest runtime
# (multiboot header, start code, serial and exit-port helpers), linked at 1 MiB.
# ASM_SOURCES are nasm (elf32) files, assembled with their own folder on the
# include path; DEPENDS are headers or include files the sources use.
function(jitterbug_guest_kernel name)
    cmake_parse_arguments(ARG "" "" "SOURCES;ASM_SOURCES;DEPENDS" ${ARGN})
    set(out_dir ${CMAKE_BINARY_DIR}/guests)
    set(obj_dir ${out_dir}/${name}.obj)
    set(cflags -m32 -march=i686 -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector
               -fno-asynchronous-unwind-tables -fno-builtin -nostdlib -Wall -Wextra
               -I${JITTERBUG_GUEST_RUNTIME_DIR} -I${CMAKE_SOURCE_DIR}/tests/guests)
    set(objects)
    set(runtime_c ${JITTERBUG_GUEST_RUNTIME_DIR}/runtime.c)
    set(runtime_asm ${JITTERBUG_GUEST_RUNTIME_DIR}/start.asm)
    foreach(src IN LISTS ARG_SOURCES runtime_c)
        get_filename_component(base ${src} NAME_WE)
        set(obj ${obj_dir}/${base}.o)
        add_custom_command(
            OUTPUT ${obj}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${obj_dir}
            COMMAND ${JITTERBUG_GUEST_CC} ${cflags} -c ${src} -o ${obj}
            DEPENDS ${src} ${JITTERBUG_GUEST_RUNTIME_DIR}/runtime.h ${ARG_DEPENDS}
            COMMENT "guest cc ${src}"
            VERBATIM)
        list(APPEND objects ${obj})
    endforeach()
    # (.asm.o: an assembly file may share its base name with a C file.)
    foreach(src IN LISTS ARG_ASM_SOURCES)
        get_filename_component(base ${src} NAME_WE)
        get_filename_component(src_dir ${src} DIRECTORY)
        set(obj ${obj_dir}/${base}.asm.o)
        add_custom_command(
            OUTPUT ${obj}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${obj_dir}
            COMMAND ${NASM_EXECUTABLE} -f elf32 -w+all -I ${src_dir}/ -o ${obj} ${src}
            DEPENDS ${src} ${ARG_DEPENDS}
            COMMENT "guest nasm ${src}"
            VERBATIM)
        list(APPEND objects ${obj})
    endforeach()
    set(start_obj ${obj_dir}/start.o)
    add_custom_command(
        OUTPUT ${start_obj}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${obj_dir}
        COMMAND ${NASM_EXECUTABLE} -f elf32 -o ${start_obj} ${runtime_asm}
        DEPENDS ${runtime_asm}
        COMMENT "guest nasm ${runtime_asm}"
        VERBATIM)
    set(elf ${out_dir}/${name}.elf)
    add_custom_command(
        OUTPUT ${elf}
        COMMAND ${JITTERBUG_GUEST_CC} -m32 -nostdlib -static -no-pie -Wl,--build-id=none
                -T ${JITTERBUG_GUEST_RUNTIME_DIR}/link.ld -o ${elf} ${start_obj} ${objects} -lgcc
        DEPENDS ${start_obj} ${objects} ${JITTERBUG_GUEST_RUNTIME_DIR}/link.ld
        COMMENT "guest link ${name}.elf"
        VERBATIM)
    # The same image as a flat binary, entered at its first byte (1 MiB).
    set(bin ${out_dir}/${name}.bin)
    add_custom_command(
        OUTPUT ${bin}
        COMMAND objcopy -O binary ${elf} ${bin}
        DEPENDS ${elf}
        COMMENT "guest objcopy ${name}.bin"
        VERBATIM)
    add_custom_target(guest_${name} ALL DEPENDS ${elf} ${bin})
endfunction()
