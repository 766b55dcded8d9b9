#include <cmath>

#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void QuantizeRows(const float* x, size_t m, size_t k, size_t x_stride, const QuantizedRows& out) {
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * x_stride;
    int8_t* q = out.data + i * out.stride;
    float amax = 0.0f;
    for (size_t j = 0; j < k; ++j) amax = std::fmax(amax, std::fabs(row[j]));
    const float scale = amax / 127.0f;
    out.scales[i] = scale;
    const float inv = scale > 0.0f ? 127.0f / amax : 0.0f;
    for (size_t j = 0; j < k; ++j) {
      float v = std::nearbyint(row[j] * inv);
      v = v == v ? v : 0.0f;  // NaN (from a NaN or infinite activation) quantizes to 0
      v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
      q[j] = static_cast<int8_t>(v);
    }
  }
}

}  // namespace ops
}  // namespace edgeformer
