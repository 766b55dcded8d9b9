#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void SwiGLU(float* __restrict gate, const float* __restrict up, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = gate[i];
    gate[i] = v / (1.0f + Exp(-v)) * up[i];
  }
}

}  // namespace ops
}  // namespace edgeformer
