#include "devices/port_io_bus.hpp"

#include <fmt/format.h>

namespace jitterbug::devices {

PortIoBus::PortIoBus() { handlers_.push_back({nullptr, "unassigned"}); }

Result<void> PortIoBus::map(std::uint16_t first, unsigned count, PortIoHandler& handler,
                            std::string name) {
    if (count == 0 || first + count > 0x10000) {
        return Error{fmt::format("port range {:#x}+{} of '{}' is invalid", first, count, name)};
    }
    if (handlers_.size() >= 0xFF) return Error{"too many port I/O devices"};
    for (unsigned p = first; p < first + count; ++p) {
        if (const std::uint8_t index = owner(static_cast<std::uint16_t>(p)); index != 0) {
            return Error{fmt::format("port {:#x} of '{}' is already claimed by '{}'", p, name,
                                     handlers_[index].name)};
        }
    }
    handlers_.push_back({&handler, std::move(name)});
    const auto index = static_cast<std::uint8_t>(handlers_.size() - 1);
    for (unsigned p = first; p < first + count; ++p) {
        std::unique_ptr<OwnerPage>& page = owner_[p >> 8];
        if (!page) page = std::make_unique<OwnerPage>();  // (zeroed: unclaimed)
        (*page)[p & 0xFF] = index;
    }
    return {};
}

std::uint32_t PortIoBus::read(std::uint16_t port, unsigned size) {
    const std::uint8_t index = owner(port);
    if (index == 0) return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    return handlers_[index].handler->io_read(port, size);
}

void PortIoBus::write(std::uint16_t port, unsigned size, std::uint32_t value) {
    const std::uint8_t index = owner(port);
    if (index != 0) handlers_[index].handler->io_write(port, size, value);
}

}  // namespace jitterbug::devices
