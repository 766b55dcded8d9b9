// IEEE half precision (binary16) conversions in portable C++. F16ToF32 is exact (as the
// hardware conversions F16C vcvtph2ps and NEON fcvtl are, for every value but signaling NaNs,
// which F32ToF16 never makes). F32ToF16 rounds to nearest even, overflows to infinity, keeps
// subnormals, and turns every NaN into the quiet NaN 0x7e00 (with its sign).
// Internal linkage (static): included into files compiled with ISA flags (F16C, AVX-512, NEON),
// whose copies must never stand in for the baseline build's (scripts/check-isa-symbols.sh).
#pragma once

#include <cstdint>
#include <cstring>

namespace edgeformer {

static inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

static inline float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

static inline float F16ToF32(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return BitsFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return BitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24, exact in f32.
  return BitsFloat(sign | FloatBits(static_cast<float>(mantissa) * 5.9604644775390625e-8f));
}

static inline uint16_t F32ToF16(float f) {
  uint32_t u = FloatBits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  if (u >= 0x47800000u) {  // 65536 and up, infinity, NaN
    return static_cast<uint16_t>(sign | (u > 0x7f800000u ? 0x7e00u : 0x7c00u));
  }
  if (u < 0x38800000u) {  // below 2^-14: subnormal or zero. Adding 0.5 rounds at 2^-24 (RNE).
    const uint32_t rounded = FloatBits(BitsFloat(u) + 0.5f) - 0x3f000000u;
    return static_cast<uint16_t>(sign | rounded);
  }
  // Normal: rebias the exponent and round the 13 dropped bits to nearest even; a carry into the
  // exponent is right, and past 65504 it reaches infinity.
  const uint32_t odd = (u >> 13) & 1u;
  u += 0xc8000fffu + odd;
  return static_cast<uint16_t>(sign | (u >> 13));
}

}  // namespace edgeformer
