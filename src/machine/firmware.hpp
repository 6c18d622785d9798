// The firmware image built from firmware/ at build time and embedded here.
#pragma once

#include <cstdint>
#include <span>

namespace jitterbug::firmware {

// Our BIOS: 64 KiB, mapped at 0xF0000 and at 0xFFFF0000.
std::span<const std::uint8_t> bios_image();

}  // namespace jitterbug::firmware
