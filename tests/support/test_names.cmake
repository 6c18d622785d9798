# Fails when a doctest case's name holds a comma: doctest reads commas in
# --test-case filters as separators, so doctest_discover_tests cannot ask
# such a case for its suite, and its ctest test loses its label (-L would
# silently skip it). Run as: cmake -DTESTS=<jitterbug_tests> -P test_names.cmake
execute_process(COMMAND ${TESTS} --list-test-cases --no-version
                OUTPUT_VARIABLE listing RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    message(FATAL_ERROR "${TESTS} --list-test-cases failed (${status})")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(bad "")
set(count 0)
foreach(line IN LISTS lines)
    if(line MATCHES "^\\[doctest\\]" OR line MATCHES "^====" OR line STREQUAL "")
        continue()
    endif()
    math(EXPR count "${count} + 1")
    if(line MATCHES ",")
        string(APPEND bad "\n  ${line}")
    endif()
endforeach()
if(count LESS 10)
    message(FATAL_ERROR "only ${count} test cases listed: the listing was not understood")
endif()
if(NOT bad STREQUAL "")
    message(FATAL_ERROR "test case names with commas (they lose their ctest label):${bad}")
endif()
message(STATUS "${count} test case names, none with a comma")
