# cmake -DINPUT=file.gz -DGZIP=gzip -DDECOMPRESSED=file -DOUTPUT=file.cpp
#       -DSYMBOL=name -DNAMESPACE=ns -P embed_gzip.cmake
# Decompresses a gzip file to DECOMPRESSED and embeds that as
# embed_binary.cmake does.
execute_process(COMMAND "${GZIP}" -dc "${INPUT}"
                OUTPUT_FILE "${DECOMPRESSED}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    message(FATAL_ERROR "could not decompress ${INPUT} (${GZIP} -dc: ${status})")
endif()
set(INPUT "${DECOMPRESSED}")
include(${CMAKE_CURRENT_LIST_DIR}/embed_binary.cmake)
