#include "ops/ops.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace ops {

// The reference kernel's bits (SoftmaxFn, kernels.h); attention calls the dispatched kernel.
void Softmax(float* x, size_t n) { reference::softmax_1x__reference(x, n); }

}  // namespace ops
}  // namespace edgeformer
