#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void Softmax(float* x, size_t n) {
  if (n == 0) return;
  float max = x[0];
  for (size_t i = 1; i < n; ++i) max = x[i] > max ? x[i] : max;
  for (size_t i = 0; i < n; ++i) x[i] = Exp(x[i] - max);
  const float inv = 1.0f / Sum16(x, n);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace ops
}  // namespace edgeformer
