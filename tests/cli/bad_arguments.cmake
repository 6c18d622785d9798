# cmake -DCLI=path/to/jitterbug -P bad_arguments.cmake
# Bad arguments give a one-line error and a non-zero status, never a crash.
function(expect_failure expected_status pattern)
    execute_process(COMMAND ${CLI} ${ARGN}
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status TIMEOUT 60)
    if(NOT status EQUAL expected_status)
        message(FATAL_ERROR "jitterbug ${ARGN}: status ${status}, expected ${expected_status}\n${err}")
    endif()
    if(NOT err MATCHES "${pattern}")
        message(FATAL_ERROR "jitterbug ${ARGN}: stderr does not match '${pattern}':\n${err}")
    endif()
endfunction()

expect_failure(2 "not a size" run --memory lots)
expect_failure(2 "between 1 MiB and 3 GiB" run --memory 512K)
expect_failure(2 "between 1 MiB and 3 GiB" run --memory 4G)
expect_failure(2 "--append and --initrd need --kernel" run --append "x")
expect_failure(2 "--append and --initrd need --kernel" run --initrd ${CMAKE_CURRENT_LIST_FILE})
expect_failure(105 "backend" run --backend turbo)
expect_failure(2 "no optimisation .warp. .there are: chain, .*address-modes.*, all" run --disable chain,warp)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/not-a-kernel.bin "hello")
expect_failure(1 "no multiboot header" run --kernel ${CMAKE_CURRENT_BINARY_DIR}/not-a-kernel.bin)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/empty.bin "")
expect_failure(1 "is empty" run --kernel ${CMAKE_CURRENT_BINARY_DIR}/empty.bin)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/initrd.bin "initrd")
expect_failure(1 "an initrd needs a Linux kernel" run --kernel ${CMAKE_CURRENT_BINARY_DIR}/not-a-kernel.bin
               --initrd ${CMAKE_CURRENT_BINARY_DIR}/initrd.bin)
