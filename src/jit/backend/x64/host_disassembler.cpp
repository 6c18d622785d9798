#include "jit/backend/x64/host_disassembler.hpp"

#include <capstone.h>
#include <fmt/format.h>

namespace jitterbug::jit::x64 {

std::string disassemble_host(const std::uint8_t* code, std::size_t size) {
    csh handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return "  <capstone unavailable>\n";
    cs_insn* insns = nullptr;
    const std::size_t count =
        cs_disasm(handle, code, size, reinterpret_cast<std::uintptr_t>(code), 0, &insns);
    std::string out;
    std::size_t covered = 0;
    for (std::size_t i = 0; i < count; ++i) {
        out += fmt::format("  {:6x}  {} {}\n",
                           insns[i].address - reinterpret_cast<std::uintptr_t>(code),
                           insns[i].mnemonic, insns[i].op_str);
        covered += insns[i].size;
    }
    // Data after the code (events raised by the block) does not disassemble.
    if (covered < size) out += fmt::format("  ({} bytes of data)\n", size - covered);
    cs_free(insns, count);
    cs_close(&handle);
    return out;
}

}  // namespace jitterbug::jit::x64
