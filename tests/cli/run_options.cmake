# cmake -DCLI=path/to/jitterbug -DWORKLOADS=workloads.elf -DOUT=dir
#       -DBOOT_SECTOR=flat_boot_sector.bin -DWAITING=flat_typing.bin -P run_options.cmake
# --serial's three sinks, --timeout, --screen and --stats, on the firmware's
# own boot (it prints two lines on COM1 and halts) and a long guest;
# --floppy, --disk and --boot with a boot sector that reports its drive.
function(run_cli)
    execute_process(COMMAND ${CLI} ${ARGN} INPUT_FILE /dev/null
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status TIMEOUT 60)
    set(out "${out}" PARENT_SCOPE)
    set(err "${err}" PARENT_SCOPE)
    set(status "${status}" PARENT_SCOPE)
endfunction()
function(fail message)
    message(FATAL_ERROR "${message}\nstatus ${status}\nstdout: ${out}\nstderr: ${err}")
endfunction()

run_cli(run --serial stdio)
if(NOT out MATCHES "jitterbug: firmware ok" OR NOT status EQUAL 0)
    fail("--serial stdio: the firmware's line is not on stdout, or the status is not 0")
endif()

set(file ${OUT}/serial-output.txt)
file(REMOVE ${file})
run_cli(run --serial file:${file})
file(READ ${file} text)
if(NOT text MATCHES "jitterbug: firmware ok")
    fail("--serial file: the firmware's line is not in the file")
endif()
if(NOT out STREQUAL "")
    fail("--serial file: something went to stdout")
endif()

run_cli(run --serial none --stats --screen)
if(NOT out STREQUAL "")
    fail("--serial none: something went to stdout")
endif()
if(NOT err MATCHES "guest instructions in [0-9.]+ s wall \\([0-9.]+ MIPS\\), [0-9]+ blocks translated .* [0-9]+ TLB misses")
    fail("--stats: no statistics line")
endif()
if(NOT err MATCHES "the screen at exit")
    fail("--screen: no screen")
endif()

# A guest that runs for minutes, stopped after a second.
run_cli(run --serial none --timeout 1 --kernel ${WORKLOADS} --append "scale=1000000")
if(NOT status EQUAL 124 OR NOT err MATCHES "timeout: the guest ran for 1 s")
    fail("--timeout: not status 124 with its message")
endif()

# --screen also prints the screen as it changes: a boot sector that waits
# for keys, stopped after a second.
file(WRITE ${OUT}/waiting-disk.img "")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy ${WAITING} ${OUT}/waiting-disk.img)
run_cli(run --serial none --deterministic --screen --timeout 1 --disk ${OUT}/waiting-disk.img)
if(NOT err MATCHES "jitterbug: the screen:\njitterbug: firmware ok\n.*booting from the hard disk"
   OR NOT err MATCHES "the screen at exit" OR NOT status EQUAL 124)
    fail("--screen: no screen printed as it changed")
endif()

# The boot sector from a floppy and from a hard disk: --boot picks the first.
file(READ ${BOOT_SECTOR} sector HEX)
string(LENGTH "${sector}" hex_length)
if(NOT hex_length EQUAL 1024)
    fail("${BOOT_SECTOR} is not one sector")
endif()
file(WRITE ${OUT}/boot-floppy.img "")
file(WRITE ${OUT}/boot-disk.img "")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy ${BOOT_SECTOR} ${OUT}/boot-floppy.img)
execute_process(COMMAND ${CMAKE_COMMAND} -E copy ${BOOT_SECTOR} ${OUT}/boot-disk.img)
execute_process(COMMAND truncate -s 1474560 ${OUT}/boot-floppy.img)
execute_process(COMMAND truncate -s 65536 ${OUT}/boot-disk.img)
foreach(order a c)
    run_cli(run --serial stdio --deterministic --floppy ${OUT}/boot-floppy.img
            --disk ${OUT}/boot-disk.img --boot ${order})
    if(order STREQUAL "a")
        set(expected "booting from the floppy disk.*boot sector: DL=00")
    else()
        set(expected "booting from the hard disk.*boot sector: DL=80")
    endif()
    # (The boot sector exits with 0x42: status 0x85.)
    if(NOT out MATCHES "${expected}" OR NOT status EQUAL 133)
        fail("--boot ${order}: not '${expected}' with status 133")
    endif()
endforeach()
