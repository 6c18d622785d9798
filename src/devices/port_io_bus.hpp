// PortIoBus: the x86 I/O port space. Devices register port ranges; reads of
// ports no device claims return all ones (an undriven ISA bus), writes to
// them are dropped.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jitterbug/result.hpp"

namespace jitterbug::devices {

class PortIoHandler {
  public:
    virtual ~PortIoHandler() = default;
    // `port` is absolute; size is 1, 2 or 4 bytes.
    virtual std::uint32_t io_read(std::uint16_t port, unsigned size) = 0;
    virtual void io_write(std::uint16_t port, unsigned size, std::uint32_t value) = 0;
};

class PortIoBus {
  public:
    PortIoBus();

    // Claims ports [first, first + count) for `handler`, which must outlive the bus.
    Result<void> map(std::uint16_t first, unsigned count, PortIoHandler& handler, std::string name);

    std::uint32_t read(std::uint16_t port, unsigned size);
    void write(std::uint16_t port, unsigned size, std::uint32_t value);

  private:
    struct Entry {
        PortIoHandler* handler;
        std::string name;
    };
    // Port -> handler index (0: none), in pages of 256 ports made when a
    // device claims one (a flat table was a tenth of creating a machine).
    using OwnerPage = std::array<std::uint8_t, 256>;
    std::uint8_t owner(std::uint16_t port) const {
        const OwnerPage* page = owner_[port >> 8].get();
        return page ? (*page)[port & 0xFF] : 0;
    }
    std::vector<Entry> handlers_;  // index 0 unused: "no device"
    std::array<std::unique_ptr<OwnerPage>, 256> owner_;
};

}  // namespace jitterbug::devices
