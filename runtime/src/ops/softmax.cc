#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void Softmax(float* x, size_t n) {
  if (n == 0) return;
  // Max16 ignores a NaN where this loop kept a leading one; either way Sum16 is then NaN, and
  // so is every output.
  const float max = Max16(x, n);
  for (size_t i = 0; i < n; ++i) x[i] = Exp(x[i] - max);
  const float inv = 1.0f / Sum16(x, n);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace ops
}  // namespace edgeformer
