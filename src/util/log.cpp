#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace jitterbug::log {
namespace {

constexpr std::array<std::string_view, 5> kNames = {"cpu", "mmu", "jit", "devices", "machine"};

spdlog::level::level_enum level_for(std::string_view component, std::string_view spec) {
    // spec: "level" or "name=level,name=level"; a bare level applies to all.
    spdlog::level::level_enum result = spdlog::level::warn;
    while (!spec.empty()) {
        const auto comma = spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            result = spdlog::level::from_str(std::string(item));
        } else if (item.substr(0, eq) == component) {
            result = spdlog::level::from_str(std::string(item.substr(eq + 1)));
        }
    }
    return result;
}

struct Loggers {
    std::array<std::shared_ptr<spdlog::logger>, kNames.size()> loggers;

    Loggers() {
        auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        const char* env = std::getenv("JITTERBUG_LOG");
        const std::string_view spec = env ? env : "";
        for (std::size_t i = 0; i < kNames.size(); ++i) {
            loggers[i] = std::make_shared<spdlog::logger>(std::string(kNames[i]), sink);
            loggers[i]->set_level(level_for(kNames[i], spec));
            loggers[i]->set_pattern("[%n] %l: %v");
        }
    }
};

}  // namespace

spdlog::logger& get(Component component) {
    // Created once, thread-safely; process-wide like the stderr it writes to.
    static const Loggers instance;
    return *instance.loggers[static_cast<std::size_t>(component)];
}

}  // namespace jitterbug::log
