#include <cmath>

#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void SwiGLU(float* gate, const float* up, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float v = gate[i];
    v *= 1.0f / (1.0f + std::exp(-v));
    gate[i] = v * up[i];
  }
}

}  // namespace ops
}  // namespace edgeformer
