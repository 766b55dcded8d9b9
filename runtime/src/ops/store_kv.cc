#include <cmath>
#include <cstring>

#include "ops/math.h"
#include "ops/ops.h"
#include "platforms/common/f16.h"

namespace edgeformer {
namespace ops {

namespace {

// One head's values as int8 and their scale (ops.h, StoreKv).
float QuantizeHead(const float* in, size_t n, int8_t* out) {
  const float amax = MaxAbs16(in, n);
  const float scale = amax / 127.0f;
  // All zero, or so small that the scale underflows to 0 (amax below about 9e-44): stored as
  // zeros with scale 0. A value that is not finite: zeros with scale NaN.
  if (!(scale > 0.0f) || !std::isfinite(amax)) {
    std::memset(out, 0, n);
    return std::isfinite(amax) ? 0.0f : NAN;
  }
  for (size_t i = 0; i < n; ++i) {
    const float q = RoundEven(in[i] / scale);
    out[i] = static_cast<int8_t>(q > 127.0f ? 127.0f : q < -127.0f ? -127.0f : q);
  }
  return scale;
}

}  // namespace

void StoreKv(const float* src, size_t n, size_t src_stride, size_t n_kv_heads, size_t head_dim, size_t first_pos,
             KvType kv_type, void* cache, size_t kv_head_stride, size_t ring, float* scales) {
  const size_t scale_head_stride = kv_head_stride / head_dim;
  for (size_t r = 0; r < n; ++r) {
    const size_t pos = first_pos + r;
    const size_t slots[2] = {ring == 0 ? pos : pos % ring, ring == 0 ? 0 : pos % ring + ring};
    for (size_t copy = 0; copy < (ring == 0 ? 1u : 2u); ++copy) {
      for (size_t h = 0; h < n_kv_heads; ++h) {
        const float* in = src + r * src_stride + h * head_dim;
        const size_t at = h * kv_head_stride + slots[copy] * head_dim;
        if (kv_type == KvType::kF16) {
          uint16_t* out = static_cast<uint16_t*>(cache) + at;
          for (size_t i = 0; i < head_dim; ++i) out[i] = F32ToF16(in[i]);
        } else if (kv_type == KvType::kI8) {
          scales[h * scale_head_stride + slots[copy]] = QuantizeHead(in, head_dim, static_cast<int8_t*>(cache) + at);
        } else {
          std::memcpy(static_cast<float*>(cache) + at, in, head_dim * sizeof(float));
        }
      }
    }
  }
}

}  // namespace ops
}  // namespace edgeformer
