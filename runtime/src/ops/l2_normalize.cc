#include <cmath>

#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void L2Normalize(float* x, size_t n) {
  const float norm = std::sqrt(Dot16(x, x, n));
  // As torch.nn.functional.normalize: divided by max(norm, 1e-12).
  const float scale = 1.0f / (norm > 1e-12f ? norm : 1e-12f);
  for (size_t i = 0; i < n; ++i) x[i] *= scale;
}

}  // namespace ops
}  // namespace edgeformer
