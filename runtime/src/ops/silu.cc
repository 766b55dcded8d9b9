#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void Silu(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = v / (1.0f + Exp(-v));  // as SwiGLU's gate
  }
}

}  // namespace ops
}  // namespace edgeformer
