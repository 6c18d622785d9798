// Reader of the MOO format of the SingleStepTests CPU test suites
// (https://github.com/dbalsom/moo, doc/moo_format_v1.md): gzip-compressed
// chunks of single-instruction tests with initial and final state.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "jitterbug/result.hpp"

namespace jitterbug::test::moo {

// Register order of REGS chunks: bit i of the mask names register i.
enum Reg : unsigned { AX, BX, CX, DX, CS, SS, DS, ES, SP, BP, SI, DI, IP, FLAGS, kNumRegs };

struct State {
    std::array<std::uint16_t, kNumRegs> regs{};
    std::uint16_t present = 0;  // mask of the registers given
    std::vector<std::pair<std::uint32_t, std::uint8_t>> ram;
};

struct Test {
    std::uint32_t index = 0;
    std::string name;                 // disassembly
    std::vector<std::uint8_t> bytes;  // the instruction and the HLT after it
    State initial;
    State final;  // registers not present keep their initial value
    bool has_exception = false;
    std::uint8_t exception_vector = 0;

    std::uint16_t final_reg(Reg r) const {
        return (final.present >> r) & 1 ? final.regs[r] : initial.regs[r];
    }
};

// Reads every test of a .MOO.gz file.
Result<std::vector<Test>> read_file(const std::filesystem::path& path);

}  // namespace jitterbug::test::moo
