# cmake -DCLI=path/to/jitterbug -DWORKLOADS=workloads.elf -DOUT=dir -P run_options.cmake
# --serial's three sinks, --timeout, --screen and --stats, on the firmware's
# own boot (it prints two lines on COM1 and halts) and a long guest.
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
