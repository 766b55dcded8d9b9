// The answer key for every q4gemm kernel: plain loops over the BlockedInt4 layout, no tiling, no
// SIMD. Kept simple on purpose.
#include "platforms/common/f16.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {

void q4gemm_s8_1x1__reference(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                              const float* a_scale, const int32_t* /*a_sums*/, const uint8_t* w, const uint16_t* w_scale, float* c,
                              size_t c_stride) {
  const size_t groups = Int4Groups(k, group);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      float s = 0.0f;
      for (size_t g = 0; g < groups; ++g) {
        int32_t acc = 0;
        for (size_t kk = g * group; kk < k && kk < (g + 1) * group; ++kk) {
          const int q = static_cast<int>((w[Int4Offset(j, kk, k, group)] >> Int4Shift(kk)) & 0xF) - 8;
          acc += static_cast<int32_t>(a[i * a_stride + kk]) * q;
        }
        s = s + static_cast<float>(acc) * F16ToF32(w_scale[Int4ScaleIndex(j, g, k, group)]);
      }
      c[i * c_stride + j] = s * a_scale[i];
    }
  }
}

}  // namespace reference
}  // namespace edgeformer
