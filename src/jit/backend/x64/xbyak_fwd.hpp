// xbyak, configured once for the whole backend.
#pragma once

#define XBYAK_NO_OP_NAMES
#include <xbyak/xbyak.h>
