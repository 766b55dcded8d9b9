// The answer key of SwiGluFn (kernels.h): Exp of platforms/common, one value at a time.
#include "platforms/common/float_math.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {

void swiglu_1x__reference(float* __restrict gate, const float* __restrict up, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = gate[i];
    gate[i] = v / (1.0f + Exp(-v)) * up[i];
  }
}

}  // namespace reference
}  // namespace edgeformer
