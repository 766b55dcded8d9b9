// f32 GEMM, the answer key: every output is Dot16 (platforms/common/fixed_order.h) of its
// activation row and weight row, one output at a time.
#include "platforms/common/fixed_order.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {

void sgemm_f32_1x1__reference(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const float* w,
                              size_t w_stride, float* c, size_t c_stride) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) c[i * c_stride + j] = Dot16(a + i * a_stride, w + j * w_stride, k);
  }
}

}  // namespace reference
}  // namespace edgeformer
