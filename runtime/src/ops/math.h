// Arithmetic helpers with a fixed evaluation order, shared by the operators: the reductions of
// platforms/common/fixed_order.h (Dot16, Sum16) and Exp. Plain C++ that the compiler vectorizes
// for the baseline ISA of each architecture; every operation is a separate IEEE multiply or add
// (no fused multiply-add: -ffp-contract=off), so results are bit-identical on every CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platforms/common/fixed_order.h"

namespace edgeformer {
namespace ops {

// e^x to about 2 ulp for x in [-87, 88] (clamped outside: 0 below, e^88.7 above; NaN stays
// NaN). x = n ln2 + r with |r| <= ln2 / 2 (n rounded with the 1.5 * 2^23 trick, ln2 split in two
// parts), e^r by a degree-6 polynomial, then the exponent added into the float's bits.
inline float Exp(float x) {
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

}  // namespace ops
}  // namespace edgeformer
