// One spdlog logger per component. The loggers are created once, on first
// use, and only their level changes afterwards (from the JITTERBUG_LOG
// environment variable: "debug", "trace", ... or "jit=trace,cpu=debug").
// Trace-level calls go through JB_TRACE, which compiles to nothing unless the
// build defines JITTERBUG_TRACE_LOGGING.
#pragma once

#include <spdlog/logger.h>

namespace jitterbug::log {

enum class Component { Cpu, Mmu, Jit, Devices, Machine };

spdlog::logger& get(Component component);

inline spdlog::logger& cpu() { return get(Component::Cpu); }
inline spdlog::logger& mmu() { return get(Component::Mmu); }
inline spdlog::logger& jit() { return get(Component::Jit); }
inline spdlog::logger& devices() { return get(Component::Devices); }
inline spdlog::logger& machine() { return get(Component::Machine); }

}  // namespace jitterbug::log

#ifdef JITTERBUG_TRACE_LOGGING
#define JB_TRACE(logger, ...) (logger).trace(__VA_ARGS__)
#else
#define JB_TRACE(logger, ...) ((void)0)
#endif
