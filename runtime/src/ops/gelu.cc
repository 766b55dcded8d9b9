#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {

float GeluTanhValue(float v) {
  const float kSqrt2OverPi = 0.7978845608028654f;
  const float u = kSqrt2OverPi * (v + 0.044715f * v * v * v);
  // tanh(u) = 1 - 2 / (e^(2u) + 1): Exp keeps it the same on every CPU, and it saturates cleanly
  // (Exp clamps its argument).
  const float t = 1.0f - 2.0f / (Exp(2.0f * u) + 1.0f);
  return 0.5f * v * (1.0f + t);
}

float GeluErfValue(float v) { return 0.5f * v * (1.0f + Erf(v * 0.70710678118654752f)); }

void GeluTanh(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = GeluTanhValue(x[i]);
}

void GeluErf(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = GeluErfValue(x[i]);
}

}  // namespace ops
}  // namespace edgeformer
