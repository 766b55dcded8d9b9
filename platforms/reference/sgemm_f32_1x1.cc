// f32 GEMM, the answer key: every output is Dot16 (platforms/common/fixed_order.h) of its
// activation row and weight row (f32, or f16 widened exactly), one output at a time.
#include "platforms/common/f16.h"
#include "platforms/common/fixed_order.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {

void sgemm_f32_1x1__reference(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const void* w,
                              size_t w_stride, KvType w_type, float* c, size_t c_stride) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (w_type == KvType::kF32) {
        c[i * c_stride + j] = Dot16(a + i * a_stride, static_cast<const float*>(w) + j * w_stride, k);
        continue;
      }
      const uint16_t* row = static_cast<const uint16_t*>(w) + j * w_stride;
      float lane[kLanes] = {};
      for (size_t p = 0; p < k; ++p) lane[p % kLanes] += a[i * a_stride + p] * F16ToF32(row[p]);
      c[i * c_stride + j] = ReduceLanes(lane);
    }
  }
}

}  // namespace reference
}  // namespace edgeformer
