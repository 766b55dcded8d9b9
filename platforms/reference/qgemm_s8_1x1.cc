// The answer key for every qgemm kernel: plain loops over the Blocked16x4 layout, no tiling, no
// SIMD. Kept simple on purpose.
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {

void qgemm_s8_1x1__reference(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                             const float* a_scale, const int8_t* w, const float* w_scale,
                             const int32_t* /*w_row_sum*/, float* c, size_t c_stride) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      int32_t acc = 0;
      for (size_t kk = 0; kk < k; ++kk) {
        acc += static_cast<int32_t>(a[i * a_stride + kk]) * static_cast<int32_t>(w[BlockedOffset(j, kk, k)]);
      }
      c[i * c_stride + j] = static_cast<float>(acc) * (a_scale[i] * w_scale[j]);
    }
  }
}

}  // namespace reference
}  // namespace edgeformer
