#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void Relu(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;  // NaN stays NaN
}

}  // namespace ops
}  // namespace edgeformer
