#include "ops/ops.h"

namespace edgeformer {
namespace ops {

void SwiGLU(const Context& ctx, float* gate, const float* up, size_t n) { ctx.kernels->swiglu(gate, up, n); }

}  // namespace ops
}  // namespace edgeformer
