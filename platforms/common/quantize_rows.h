// The row loop shared by the QuantizeRowsFn kernels (kernels.h): each ISA supplies the per-value
// work, the scalar steps that fix the results' bits (the scale, its inverse, the padding) are
// written once. Lanes supplies:
//
//   static int32_t AbsMaxBits(const float* x, size_t n): the largest of |x|'s bits as signed
//       32-bit integers, a NaN's counting as 0 (for floats that order is |x|'s; 0 for n = 0);
//   static void Quantize(const float* x, size_t n, float inv, int8_t* q): q[j] = x[j] * inv, NaN
//       to 0, clamped to [-127, 127], rounded by adding and subtracting 1.5 * 2^23;
//   static int32_t Sum32(const int8_t* q): the sum of 32 values.
//
// Included only by kernel files (at file scope), so each ISA instantiates it with its own flags;
// the function is static, so no instantiation leaks between ISAs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platforms/layout.h"

template <typename Lanes>
static void QuantizeRowsWith(const float* x, size_t m, size_t k, size_t x_stride, int8_t* q, size_t q_stride,
                             float* scales, int32_t* sums) {
  const size_t padded = edgeformer::ActivationRowBytes(k);
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * x_stride;
    int8_t* qi = q + i * q_stride;
    const int32_t bits = Lanes::AbsMaxBits(row, k);
    float amax;
    std::memcpy(&amax, &bits, sizeof amax);
    const float scale = amax / 127.0f;
    scales[i] = scale;
    Lanes::Quantize(row, k, scale > 0.0f ? 127.0f / amax : 0.0f, qi);
    if (padded > k) std::memset(qi + k, 0, padded - k);
    int32_t* si = sums + i * (q_stride / 32);
    for (size_t g = 0; g < padded / 32; ++g) si[g] = Lanes::Sum32(qi + g * 32);
  }
}
