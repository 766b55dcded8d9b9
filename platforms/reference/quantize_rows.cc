// The answer key of QuantizeRowsFn (kernels.h), one value at a time. Written so that the compiler
// vectorizes it at the baseline ISA with the same results: rounding adds and subtracts
// 1.5 * 2^23, which rounds to the nearest integer (ties to even) any |v| <= 2^22 in the default
// rounding mode; v is clamped first.
#include <cstring>

#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {
namespace {

// max |x| over n floats, NaN ignored (std::fmax's rule). For finite and infinite floats the order
// of |x|'s bits, as a signed 32-bit integer, is the order of |x|; NaNs (bits above infinity's)
// count as 0. A signed integer maximum vectorizes at every baseline ISA; a float one does not
// without -ffast-math.
inline float AbsMax(const float* x, size_t n) {
  int32_t m = 0;
  for (size_t j = 0; j < n; ++j) {
    int32_t u;
    std::memcpy(&u, x + j, sizeof u);
    u &= 0x7fffffff;
    u = u > 0x7f800000 ? 0 : u;
    m = u > m ? u : m;
  }
  float r;
  std::memcpy(&r, &m, sizeof r);
  return r;
}

}  // namespace

void quantize_rows_1x__reference(const float* x, size_t m, size_t k, size_t x_stride, int8_t* q, size_t q_stride,
                                 float* scales, int32_t* sums) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  const size_t padded = ActivationRowBytes(k);
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * x_stride;
    int8_t* qi = q + i * q_stride;
    const float amax = AbsMax(row, k);
    const float scale = amax / 127.0f;
    scales[i] = scale;
    const float inv = scale > 0.0f ? 127.0f / amax : 0.0f;
    for (size_t j = 0; j < k; ++j) {
      float v = row[j] * inv;
      v = v == v ? v : 0.0f;  // NaN (from a NaN or infinite activation) quantizes to 0
      v = v > 127.0f ? 127.0f : v;
      v = v < -127.0f ? -127.0f : v;
      v = (v + kRound) - kRound;
      qi[j] = static_cast<int8_t>(static_cast<int32_t>(v));
    }
    for (size_t j = k; j < padded; ++j) qi[j] = 0;
    int32_t* si = sums + i * (q_stride / 32);
    for (size_t g = 0; g < padded / 32; ++g) {
      int32_t sum = 0;
      for (size_t j = 0; j < 32; ++j) sum += qi[g * 32 + j];
      si[g] = sum;
    }
  }
}

}  // namespace reference
}  // namespace edgeformer
