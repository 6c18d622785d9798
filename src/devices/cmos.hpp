// Cmos: the battery-backed NVRAM of the PC's MC146818 RTC at ports
// 0x70 (index, bit 7 = NMI disable) and 0x71 (data). Only the NVRAM is
// modelled yet: the clock registers 0x00-0x0D hold what was last written.
// The machine fills in the memory-size fields the firmware reads:
//   0x15/0x16 base memory in KiB (640)
//   0x17/0x18 and 0x30/0x31 extended memory above 1 MiB in KiB (max 65535)
//   0x34/0x35 memory above 16 MiB in 64 KiB blocks
#pragma once

#include <array>
#include <cstdint>

#include "devices/port_io_bus.hpp"

namespace jitterbug::devices {

class Cmos final : public PortIoHandler {
  public:
    static constexpr std::uint16_t kIndexPort = 0x70;
    static constexpr std::uint16_t kDataPort = 0x71;

    Cmos() { nvram_.fill(0); }

    std::uint8_t get(std::uint8_t index) const { return nvram_[index & 0x7F]; }
    void set(std::uint8_t index, std::uint8_t value) { nvram_[index & 0x7F] = value; }
    // Writes the standard memory-size fields for `ram_bytes` of RAM.
    void set_memory_size(std::uint64_t ram_bytes);
    bool nmi_disabled() const { return nmi_disabled_; }

    std::uint32_t io_read(std::uint16_t port, unsigned size) override;
    void io_write(std::uint16_t port, unsigned size, std::uint32_t value) override;

  private:
    std::array<std::uint8_t, 128> nvram_{};
    std::uint8_t index_ = 0;
    bool nmi_disabled_ = false;
};

}  // namespace jitterbug::devices
