#include <cstdint>
#include <cstring>

#include "ops/ops.h"

namespace edgeformer {
namespace ops {

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

// Per row: scale = max |x| / 127 (NaN ignored), q = round-half-even(x * 127 / max |x|) clamped to
// [-127, 127], NaN to 0. Written so that the compiler vectorizes it at the baseline ISA with the
// same results as std::nearbyint: rounding adds and subtracts 1.5 * 2^23, which rounds to the
// nearest integer (ties to even) any |v| <= 2^22 in the default rounding mode; v is clamped first.
void QuantizeRows(const float* x, size_t m, size_t k, size_t x_stride, const QuantizedRows& out) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * x_stride;
    int8_t* q = out.data + i * out.stride;
    const float amax = AbsMax(row, k);
    const float scale = amax / 127.0f;
    out.scales[i] = scale;
    const float inv = scale > 0.0f ? 127.0f / amax : 0.0f;
    for (size_t j = 0; j < k; ++j) {
      float v = row[j] * inv;
      v = v == v ? v : 0.0f;  // NaN (from a NaN or infinite activation) quantizes to 0
      v = v > 127.0f ? 127.0f : v;
      v = v < -127.0f ? -127.0f : v;
      v = (v + kRound) - kRound;
      q[j] = static_cast<int8_t>(static_cast<int32_t>(v));
    }
    const size_t padded = ActivationRowBytes(k);
    for (size_t j = k; j < padded; ++j) q[j] = 0;
    int32_t* sums = out.sums + i * (out.stride / 32);
    for (size_t g = 0; g < padded / 32; ++g) {
      int32_t sum = 0;
      for (size_t j = 0; j < 32; ++j) sum += q[g * 32 + j];
      sums[g] = sum;
    }
  }
}

}  // namespace ops
}  // namespace edgeformer
