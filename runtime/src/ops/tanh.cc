#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void Tanh(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = 1.0f - 2.0f / (Exp(2.0f * x[i]) + 1.0f);
}

}  // namespace ops
}  // namespace edgeformer
