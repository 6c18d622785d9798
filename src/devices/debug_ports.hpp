// Two write-mostly ports firmware and kernels print to: the debug console
// at 0xE9 (Bochs's and QEMU's: each byte written goes to the host; a read
// answers 0xE9, which is how software finds it) and the POST code port 0x80
// (each code written is kept and reported; a read gives the last one).
#pragma once

#include <cstdint>
#include <functional>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class DebugConsole final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kPort = 0xE9;
    using ByteFn = std::function<void(std::uint8_t)>;

    explicit DebugConsole(ByteFn out) : out_(std::move(out)) {}

    std::uint32_t io_read(std::uint16_t, unsigned) override { return kPort; }
    void io_write(std::uint16_t, unsigned size, std::uint32_t value) override {
        for (unsigned i = 0; i < size; ++i) {
            if (out_) out_(static_cast<std::uint8_t>(value >> (8 * i)));
        }
    }

  private:
    ByteFn out_;
};

class PostCodePort final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kPort = 0x80;
    using CodeFn = std::function<void(std::uint8_t)>;

    explicit PostCodePort(CodeFn report = {}) : report_(std::move(report)) {}

    std::uint8_t last() const { return last_; }
    std::uint32_t io_read(std::uint16_t, unsigned) override { return last_; }
    void io_write(std::uint16_t, unsigned, std::uint32_t value) override {
        last_ = static_cast<std::uint8_t>(value);
        if (report_) report_(last_);
    }

  private:
    CodeFn report_;
    std::uint8_t last_ = 0;
};

}  // namespace jitterbug::devices
