# Every dependency comes from Debian's packages (scripts/install-deps).
find_package(PkgConfig REQUIRED)

find_package(zydis 4 REQUIRED CONFIG)
pkg_check_modules(capstone REQUIRED IMPORTED_TARGET capstone)
find_package(spdlog REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
if(JITTERBUG_JIT)
    find_package(xbyak REQUIRED CONFIG)
endif()
if(JITTERBUG_TESTS)
    find_package(doctest REQUIRED CONFIG)
    # The hardware-captured CPU test data (tests/isa) comes gzip-compressed,
    # with its metadata in JSON.
    find_package(ZLIB REQUIRED)
    find_package(nlohmann_json 3 REQUIRED CONFIG)
endif()
if(JITTERBUG_BENCH)
    find_package(benchmark REQUIRED CONFIG)
endif()

find_program(NASM_EXECUTABLE nasm REQUIRED)
