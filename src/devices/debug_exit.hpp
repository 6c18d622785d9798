// DebugExit: QEMU's isa-debug-exit at port 0xF4 (one byte wide). A write of
// value v asks the machine to end the run with exit status (v << 1) | 1.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class DebugExit final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kPort = 0xF4;
    using ExitFn = std::function<void(int status)>;

    explicit DebugExit(ExitFn on_exit) : on_exit_(std::move(on_exit)) {}

    std::uint32_t io_read(std::uint16_t, unsigned size) override {
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    }
    void io_write(std::uint16_t, unsigned, std::uint32_t value) override {
        if (on_exit_) on_exit_(static_cast<int>(((value & 0xFF) << 1) | 1));
    }

  private:
    ExitFn on_exit_;
};

}  // namespace jitterbug::devices
