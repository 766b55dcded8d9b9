#include <cmath>

#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void LayerNorm(const float* x, const float* weight, const float* bias, size_t m, size_t dim, float eps,
               float* out) {
  const float inv_dim = 1.0f / static_cast<float>(dim);
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * dim;
    float* o = out + i * dim;
    const float mean = Sum16(row, dim) * inv_dim;
    // o holds the centred row first (out may equal x: each value is read before it is written).
    for (size_t j = 0; j < dim; ++j) o[j] = row[j] - mean;
    const float var = Dot16(o, o, dim) * inv_dim;
    const float scale = 1.0f / std::sqrt(var + eps);
    for (size_t j = 0; j < dim; ++j) o[j] = weight[j] * (o[j] * scale) + bias[j];
  }
}

}  // namespace ops
}  // namespace edgeformer
