// Arithmetic helpers with a fixed evaluation order, shared by the operators: the reductions of
// platforms/common/fixed_order.h (Dot16, Sum16) and Exp. Plain C++ that the compiler vectorizes
// for the baseline ISA of each architecture; every operation is a separate IEEE multiply or add
// (no fused multiply-add: -ffp-contract=off), so results are bit-identical on every CPU.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platforms/common/float_math.h"
#include "platforms/common/fixed_order.h"

namespace edgeformer {
namespace ops {

using edgeformer::Exp;        // platforms/common/float_math.h
using edgeformer::Max16;      // platforms/common/fixed_order.h
using edgeformer::RoundEven;  // platforms/common/float_math.h

// The largest |x| of n values, NaN if one is NaN (0 for none), in 16 lanes: vectorized.
inline float MaxAbs16(const float* x, size_t n) {
  float lane[kLanes] = {};
  int32_t nan[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      const float a = std::fabs(x[i + j]);
      lane[j] = a > lane[j] ? a : lane[j];
      nan[j] |= a != a;
    }
  }
  for (size_t j = 0; i < n; ++i, ++j) {
    const float a = std::fabs(x[i]);
    lane[j] = a > lane[j] ? a : lane[j];
    nan[j] |= a != a;
  }
  float m = 0.0f;
  int32_t any_nan = 0;
  for (size_t j = 0; j < kLanes; ++j) {
    m = lane[j] > m ? lane[j] : m;
    any_nan |= nan[j];
  }
  return any_nan ? NAN : m;
}

// ln(x) for finite x > 0 to about 2 ulp: x = m 2^e with m in [sqrt(1/2), sqrt(2)) (frexp,
// exact), ln m = 2 atanh(f) with f = (m - 1) / (m + 1) by its odd series to f^11, plus e ln 2.
// Separate multiplies and adds, so the same on every CPU. x <= 0 or not finite: NaN.
inline float Log(float x) {
  if (!(x > 0.0f) || !std::isfinite(x)) return x == 0.0f ? -INFINITY : NAN;
  int e = 0;
  float m = std::frexp(x, &e);  // [0.5, 1)
  if (m < 0.70710678f) {
    m = m * 2.0f;
    e = e - 1;
  }
  const float f = (m - 1.0f) / (m + 1.0f);
  const float f2 = f * f;
  float p = 1.0f / 11.0f;
  p = p * f2 + 1.0f / 9.0f;
  p = p * f2 + 1.0f / 7.0f;
  p = p * f2 + 1.0f / 5.0f;
  p = p * f2 + 1.0f / 3.0f;
  p = p * f2 + 1.0f;
  const float kLn2Hi = 0.693145751953125f, kLn2Lo = 1.428606765330187e-06f;
  const float ef = static_cast<float>(e);
  return (ef * kLn2Hi + 2.0f * f * p) + ef * kLn2Lo;
}

// erf(x) to a few ulp: the rational approximation TensorFlow, XLA and Eigen use for f32 (odd
// numerator of degree 13 over even denominator of degree 8 in x, on x clamped to [-4, 4], past
// which erf is +-1 in f32). Separate multiplies and adds, so the same on every CPU.
inline float Erf(float x) {
  if (!(x == x)) return x;
  x = x < 4.0f ? x : 4.0f;
  x = x > -4.0f ? x : -4.0f;
  const float x2 = x * x;
  float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = x2 * p + -2.10102402082508e-06f;
  p = x2 * p + -5.69250639462346e-05f;
  p = x2 * p + -7.34990630326855e-04f;
  p = x2 * p + -2.95459980854025e-03f;
  p = x2 * p + -1.60960333262415e-02f;
  p = x * p;
  float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = x2 * q + -1.68282697438203e-03f;
  q = x2 * q + -7.37332916720468e-03f;
  q = x2 * q + -1.42647390514189e-02f;
  return p / q;
}

}  // namespace ops
}  // namespace edgeformer
