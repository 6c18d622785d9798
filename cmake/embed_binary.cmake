# cmake -DINPUT=file -DOUTPUT=file.cpp -DSYMBOL=name -DNAMESPACE=ns -P embed_binary.cmake
# Turns a binary file into a C++ source defining
#   std::span<const std::uint8_t> NAMESPACE::SYMBOL()
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR byte_count "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by cmake/embed_binary.cmake. Do not edit.
#include <array>
#include <cstdint>
#include <span>

namespace ${NAMESPACE} {
namespace {
constexpr std::array<std::uint8_t, ${byte_count}> kData = {
    ${bytes}
};
}  // namespace

std::span<const std::uint8_t> ${SYMBOL}() { return kData; }
}  // namespace ${NAMESPACE}
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
