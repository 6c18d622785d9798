// The x87's transcendental instructions on Float80 (SDM Vol. 1, 8.3.10;
// Vol. 2, F2XM1 FYL2X FYL2XP1 FPATAN FSIN FCOS FSINCOS FPTAN): each value
// is computed in Wide (about 126 bits) and rounded once to 64 bits by the
// rounding control (precision control does not apply), with the special
// operands of the SDM's tables and the exception flags of Float80. FSIN,
// FCOS, FSINCOS and FPTAN reduce their operand modulo the x87's 66-bit
// approximation of pi, as the hardware does: sin(pi) is not the double
// pi's error but the 66-bit pi's.
#pragma once

#include "cpu/x87/float80.hpp"

namespace jitterbug::cpu::x87 {

// F2XM1: 2^x - 1. Outside [-1, 1], where the SDM leaves the result
// undefined, x itself, inexact (what AMD's x87 gives).
Float80 f2xm1(Float80 x, Env& env);
// FYL2X: y * log2(x).
Float80 yl2x(Float80 y, Float80 x, Env& env);
// FYL2XP1: y * log2(x + 1).
Float80 yl2xp1(Float80 y, Float80 x, Env& env);
// FPATAN: the angle of (x, y), in [-pi, pi].
Float80 atan2(Float80 y, Float80 x, Env& env);

// FSIN, FCOS, FPTAN: false (C2) when |x| >= 2^63, where the instruction
// leaves its operand. FSINCOS is sine then cosine, their flags together.
bool sine(Float80 x, Env& env, Float80& result);
bool cosine(Float80 x, Env& env, Float80& result);
bool tangent(Float80 x, Env& env, Float80& result);

}  // namespace jitterbug::cpu::x87
