# cmake -DCLI=path/to/jitterbug [-DBACKENDS="jit;interp"] -P compare_backends.cmake
# `jitterbug run` boots the firmware with each backend: each run must print
# the firmware's lines and exit 0, and all must print the same bytes. The
# output is compared in hex: execute_process would turn CR LF into LF.
string(HEX "jitterbug: firmware ok\r\njitterbug: RAM 65536 KiB\r\njitterbug: no bootable disk\r\n" expected)
set(first "")
foreach(backend IN LISTS BACKENDS)
    set(file "${CMAKE_CURRENT_BINARY_DIR}/cli-output-${backend}.txt")
    execute_process(COMMAND ${CLI} run --backend ${backend}
                    OUTPUT_FILE ${file} RESULT_VARIABLE status TIMEOUT 60)
    file(READ ${file} out HEX)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "jitterbug run --backend ${backend} exited with ${status}")
    endif()
    if(NOT out STREQUAL expected)
        message(FATAL_ERROR "jitterbug run --backend ${backend} printed (hex):\n${out}\nexpected:\n${expected}")
    endif()
    if(first STREQUAL "")
        set(first "${out}")
    elseif(NOT out STREQUAL first)
        message(FATAL_ERROR "the backends printed different bytes")
    endif()
    message(STATUS "--backend ${backend}: ok")
endforeach()
