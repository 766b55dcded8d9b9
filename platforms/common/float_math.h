// e^x and rounding with a fixed sequence of IEEE operations, the answer key for the softmax and
// int8 attention kernels and for the operators (ops/math.h). Each multiply and add is separate (-ffp-contract=off), so a SIMD
// kernel doing the same operations lane by lane gives the same bits on every CPU. Internal
// linkage: ISA files include it under their own flags.
#pragma once

#include <cstdint>
#include <cstring>

namespace edgeformer {

// x rounded to the nearest integer, ties to even, for |x| < 2^22 (adding 1.5 * 2^23 leaves no
// fraction bits; the default rounding mode rounds the sum to nearest even). As std::nearbyint
// there, and as the SIMD conversions (cvtps2dq, fcvtns) in the default rounding mode.
static inline float RoundEven(float x) {
  const float kRound = 12582912.0f;
  return (x + kRound) - kRound;
}

// e^x to about 2 ulp for x in [-87, 88] (clamped outside: 0 below, e^88.7 above; NaN stays
// NaN). x = n ln2 + r with |r| <= ln2 / 2 (n rounded with the 1.5 * 2^23 trick, ln2 split in two
// parts), e^r by a degree-6 polynomial, then the exponent added into the float's bits.
static inline float Exp(float x) {
  const float kLog2e = 1.44269504088896341f;
  const float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float input = x;
  x = x > -87.0f ? x : -87.0f;  // NaN becomes -87 here (the conversion below needs a number)...
  x = x < 88.5f ? x : 88.5f;
  const float n = (x * kLog2e + kRound) - kRound;
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-6f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return input == input ? p * scale : input;  // ...and comes back out as NaN
}

}  // namespace edgeformer
