// The answer key of SoftmaxFn (kernels.h): Max16, Exp and Sum16 of platforms/common, one value at
// a time.
#include "platforms/common/float_math.h"
#include "platforms/common/fixed_order.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {

void softmax_1x__reference(float* x, size_t n) {
  if (n == 0) return;
  const float max = Max16(x, n);
  for (size_t i = 0; i < n; ++i) x[i] = Exp(x[i] - max);
  const float inv = 1.0f / Sum16(x, n);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace reference
}  // namespace edgeformer
