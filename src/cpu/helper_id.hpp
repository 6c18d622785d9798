// The runtime helpers IR can call (declared in helpers.inc).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace jitterbug::cpu {

namespace helper_props {
constexpr unsigned kMayFault = 1u << 0;
constexpr unsigned kWritesState = 1u << 1;
constexpr unsigned kControl = 1u << 2;
}  // namespace helper_props

enum class HelperId : std::uint8_t {
#define HELPER(name, props) name,
#include "cpu/helpers.inc"
#undef HELPER
};

struct HelperInfo {
    std::string_view name;
    unsigned props;
};

inline constexpr std::array kHelperInfo = {
#define HELPER(name, props)                      \
    HelperInfo{#name, [] {                       \
                   using namespace helper_props; \
                   return unsigned{props};       \
               }()},
#include "cpu/helpers.inc"
#undef HELPER
};

constexpr std::size_t kNumHelpers = kHelperInfo.size();

constexpr const HelperInfo& helper_info(HelperId id) {
    return kHelperInfo[static_cast<std::size_t>(id)];
}

}  // namespace jitterbug::cpu
