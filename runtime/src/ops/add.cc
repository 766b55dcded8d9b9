#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void AddInPlace(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace ops
}  // namespace edgeformer
