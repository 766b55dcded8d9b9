#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void AddInPlace(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

void AddBias(float* y, const float* bias, size_t m, size_t n, size_t y_stride) {
  for (size_t i = 0; i < m; ++i) AddInPlace(y + i * y_stride, bias, n);
}

}  // namespace ops
}  // namespace edgeformer
