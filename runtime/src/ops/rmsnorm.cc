#include <cmath>

#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void RmsNorm(const float* x, const float* weight, size_t m, size_t dim, float eps, float* out) {
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * dim;
    float ss = Dot16(row, row, dim);
    ss /= static_cast<float>(dim);
    ss += eps;
    ss = 1.0f / std::sqrt(ss);
    float* o = out + i * dim;
    for (size_t j = 0; j < dim; ++j) o[j] = weight[j] * (ss * row[j]);
  }
}

}  // namespace ops
}  // namespace edgeformer
