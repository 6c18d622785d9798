// The public API of jitterbug: include this header, link jitterbug.
#pragma once

#include "jitterbug/machine.hpp"  // IWYU pragma: export
#include "jitterbug/result.hpp"   // IWYU pragma: export
