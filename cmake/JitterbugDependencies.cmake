# Every dependency comes from Debian's packages (scripts/install-deps).
find_package(PkgConfig REQUIRED)

find_package(zydis 4 REQUIRED CONFIG)
pkg_check_modules(capstone REQUIRED IMPORTED_TARGET capstone)
find_package(spdlog REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
# The VGA's screenshots.
find_package(PNG REQUIRED)
# The VGA's font: the 8x16 VGA font from Debian's console-data, embedded at
# build time.
find_program(GZIP_EXECUTABLE gzip REQUIRED)
find_file(JITTERBUG_VGA_FONT NAMES default8x16.psf.gz default8x16.psfu.gz
          PATHS /usr/share/consolefonts /usr/share/kbd/consolefonts NO_DEFAULT_PATH
          DOC "The VGA text font: an 8x16 PC Screen Font (PSF1 or PSF2), gzip-compressed")
if(NOT EXISTS "${JITTERBUG_VGA_FONT}")
    message(FATAL_ERROR "The VGA font (/usr/share/consolefonts/default8x16.psf.gz) is missing: "
                        "install Debian's console-data package (scripts/install-deps does), "
                        "or set JITTERBUG_VGA_FONT to an 8x16 .psf.gz font")
endif()
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
