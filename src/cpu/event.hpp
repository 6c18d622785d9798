// Exceptions and interrupts on their way to the guest.
#pragma once

#include <cstdint>

namespace jitterbug::cpu {

// Exception vectors (SDM Vol. 3A, Table 6-1).
namespace vector {
constexpr std::uint8_t DE = 0;  // divide error
constexpr std::uint8_t DB = 1;  // debug
constexpr std::uint8_t NMI = 2;
constexpr std::uint8_t BP = 3;   // INT3
constexpr std::uint8_t OF = 4;   // INTO
constexpr std::uint8_t BR = 5;   // BOUND range exceeded
constexpr std::uint8_t UD = 6;   // invalid opcode
constexpr std::uint8_t NM = 7;   // device not available
constexpr std::uint8_t DF = 8;   // double fault
constexpr std::uint8_t TS = 10;  // invalid TSS
constexpr std::uint8_t NP = 11;  // segment not present
constexpr std::uint8_t SS = 12;  // stack-segment fault
constexpr std::uint8_t GP = 13;  // general protection
constexpr std::uint8_t PF = 14;  // page fault
constexpr std::uint8_t MF = 16;  // x87 floating-point error
constexpr std::uint8_t AC = 17;  // alignment check
}  // namespace vector

enum class EventKind : std::uint8_t {
    None,
    Fault,              // reported with EIP of the faulting instruction
    Trap,               // reported with EIP of the next instruction
    SoftwareInterrupt,  // INT n / INT3 / INTO: next EIP, gate DPL checked
    External,           // hardware interrupt
};

struct Event {
    EventKind kind = EventKind::None;
    std::uint8_t vector = 0;
    bool has_error_code = false;
    std::uint32_t error_code = 0;
    // EIP to push for traps and software interrupts (the next instruction).
    std::uint32_t next_eip = 0;
    // #PF: the linear address that faulted (loaded into CR2 on delivery).
    std::uint32_t fault_address = 0;

    bool pending() const { return kind != EventKind::None; }
};

}  // namespace jitterbug::cpu
