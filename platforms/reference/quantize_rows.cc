// The answer key of QuantizeRowsFn (kernels.h), one value at a time through the shared row loop
// (platforms/common/quantize_rows.h). Written so that the compiler vectorizes it at the baseline
// ISA with the same results: rounding adds and subtracts 1.5 * 2^23, which rounds to the nearest
// integer (ties to even) any |v| <= 2^22 in the default rounding mode; v is clamped first.
#include <cstring>

#include "platforms/common/quantize_rows.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {
namespace {

struct Lanes {
  // A signed integer maximum vectorizes at every baseline ISA; a float one does not without
  // -ffast-math.
  static int32_t AbsMaxBits(const float* x, size_t n) {
    int32_t m = 0;
    for (size_t j = 0; j < n; ++j) {
      int32_t u;
      std::memcpy(&u, x + j, sizeof u);
      u &= 0x7fffffff;
      u = u > 0x7f800000 ? 0 : u;
      m = u > m ? u : m;
    }
    return m;
  }
  static void Quantize(const float* x, size_t n, float inv, int8_t* q) {
    constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
    for (size_t j = 0; j < n; ++j) {
      float v = x[j] * inv;
      v = v == v ? v : 0.0f;  // NaN (from a NaN or infinite activation) quantizes to 0
      v = v > 127.0f ? 127.0f : v;
      v = v < -127.0f ? -127.0f : v;
      v = (v + kRound) - kRound;
      q[j] = static_cast<int8_t>(static_cast<int32_t>(v));
    }
  }
  static int32_t Sum32(const int8_t* q) {
    int32_t sum = 0;
    for (size_t j = 0; j < 32; ++j) sum += q[j];
    return sum;
  }
};

}  // namespace

void quantize_rows_1x__reference(const float* x, size_t m, size_t k, size_t x_stride, int8_t* q, size_t q_stride,
                                 float* scales, int32_t* sums) {
  QuantizeRowsWith<Lanes>(x, m, k, x_stride, q, q_stride, scales, sums);
}

}  // namespace reference
}  // namespace edgeformer
