// Widening of the 16-bit float formats that weight files contain.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace sceald::io {

// IEEE binary16 -> float32, exactly (subnormals, infinities, NaN and -0 kept).
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  const std::uint32_t bits = exponent == 31 ? (sign | 0x7f800000u | (mantissa << 13))             // inf, NaN
                                            : (sign | ((exponent + 112) << 23) | (mantissa << 13));  // 15 -> 127
  return std::bit_cast<float>(bits);
}

// bfloat16 is the top half of a float32.
inline float bfloat16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

}  // namespace sceald::io
