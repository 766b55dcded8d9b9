#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void GeluTanh(float* x, size_t n) {
  const float kSqrt2OverPi = 0.7978845608028654f;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float u = kSqrt2OverPi * (v + 0.044715f * v * v * v);
    // tanh(u) = 1 - 2 / (e^(2u) + 1): Exp keeps it the same on every CPU, and it saturates
    // cleanly (Exp clamps its argument).
    const float t = 1.0f - 2.0f / (Exp(2.0f * u) + 1.0f);
    x[i] = 0.5f * v * (1.0f + t);
  }
}

}  // namespace ops
}  // namespace edgeformer
