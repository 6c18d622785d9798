// A 16550A UART at 0x3F8 for the tests, with a clock the test moves and
// the register offsets of the PC16550D's Table II.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "devices/uart16550.hpp"

namespace jitterbug::devices::test {

inline constexpr std::uint16_t kBase = 0x3F8;
// Register offsets (PC16550D Table II).
inline constexpr unsigned kRbr = 0, kThr = 0, kDll = 0, kIer = 1, kDlm = 1, kIir = 2, kFcr = 2,
                          kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;

// The time (ns, rounded up) when `chars` characters of `half_bits` half bits
// each have gone by since `start`: a bit lasts 16 * divisor / 1.8432 MHz.
inline std::uint64_t after_chars(std::uint64_t start, std::uint64_t chars, std::uint64_t divisor,
                                 std::uint64_t half_bits) {
    const std::uint64_t num = chars * half_bits * divisor * 8'000'000'000;
    const std::uint64_t den = 1'843'200;
    return start + (num + den - 1) / den;
}

// 8 data bits, no parity, 1 stop bit, with the start bit: 10 bits.
inline constexpr std::uint64_t k8N1 = 20;

// A UART at 0x3F8 with a clock the test moves, recording what it sends and
// each change of its interrupt line.
struct Rig {
    std::uint64_t now = 0;
    std::string sent;
    std::vector<bool> irq_changes;
    bool line = false;
    Uart16550 uart;

    explicit Rig(bool with_clock = true)
        : uart(
              kBase, [this](std::uint8_t b) { sent.push_back(static_cast<char>(b)); },
              [this](bool level) {
                  line = level;
                  irq_changes.push_back(level);
              },
              with_clock ? Uart16550::NowFn([this] { return now; }) : Uart16550::NowFn{}) {}
    Rig(const Rig&) = delete;
    Rig& operator=(const Rig&) = delete;

    std::uint8_t in(unsigned reg) {
        return static_cast<std::uint8_t>(uart.io_read(kBase + reg, 1));
    }
    void out(unsigned reg, unsigned value) {
        uart.io_write(kBase + reg, 1, static_cast<std::uint8_t>(value));
    }
    // The machine's clock reaches `t` and it calls update().
    void at(std::uint64_t t) {
        now = t;
        uart.update();
    }
    void set_line(std::uint16_t divisor, std::uint8_t lcr) {
        out(kLcr, 0x80);
        out(kDll, divisor & 0xFF);
        out(kDlm, divisor >> 8);
        out(kLcr, lcr);
    }
    void send(const std::string& s) {
        for (char c : s)
            uart.receive(static_cast<std::uint8_t>(c));
    }
    std::string read_all() {
        std::string got;
        while (in(kLsr)&0x01)
            got.push_back(static_cast<char>(in(kRbr)));
        return got;
    }
};

}  // namespace jitterbug::devices::test
