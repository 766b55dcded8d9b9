#include <cmath>

#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void Attention(const float* q, const float* k_cache, const float* v_cache, size_t kv_stride, size_t pos,
               size_t n_heads, size_t n_kv_heads, size_t head_dim, float* scores, float* out) {
  const size_t group = n_heads / n_kv_heads;
  const float sqrt_dim = std::sqrt(static_cast<float>(head_dim));
  for (size_t h = 0; h < n_heads; ++h) {
    const float* qh = q + h * head_dim;
    const size_t kv_offset = (h / group) * head_dim;
    for (size_t t = 0; t <= pos; ++t) {
      const float* k = k_cache + t * kv_stride + kv_offset;
      float s = 0.0f;
      for (size_t i = 0; i < head_dim; ++i) s += qh[i] * k[i];
      scores[t] = s / sqrt_dim;
    }
    Softmax(scores, pos + 1);
    float* o = out + h * head_dim;
    for (size_t i = 0; i < head_dim; ++i) o[i] = 0.0f;
    for (size_t t = 0; t <= pos; ++t) {
      const float* v = v_cache + t * kv_stride + kv_offset;
      const float a = scores[t];
      for (size_t i = 0; i < head_dim; ++i) o[i] += a * v[i];
    }
  }
}

}  // namespace ops
}  // namespace edgeformer
