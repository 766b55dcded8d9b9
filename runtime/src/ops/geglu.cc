#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void GeGLU(float* __restrict gate, const float* __restrict up, size_t n, bool tanh_form) {
  if (tanh_form) {
    for (size_t i = 0; i < n; ++i) gate[i] = GeluTanhValue(gate[i]) * up[i];
  } else {
    for (size_t i = 0; i < n; ++i) gate[i] = GeluErfValue(gate[i]) * up[i];
  }
}

}  // namespace ops
}  // namespace edgeformer
