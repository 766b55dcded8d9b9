#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void QuantizeRows(const Context& ctx, const float* x, size_t m, size_t k, size_t x_stride, const QuantizedRows& out) {
  ctx.kernels->quantize(x, m, k, x_stride, out.data, out.stride, out.scales, out.sums);
}

}  // namespace ops
}  // namespace edgeformer
