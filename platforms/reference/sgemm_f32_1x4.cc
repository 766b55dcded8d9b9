// f32 GEMM, the reference and (for now) only f32 kernel. Four output columns at a time share
// each activation load; every sum runs in increasing k without fused multiply-add, so results
// do not depend on the compiler or the CPU.
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {

void sgemm_f32_1x4__reference(size_t m, size_t n, size_t k, const float* a, size_t a_stride,
                              const float* w, size_t w_stride, float* c, size_t c_stride) {
  for (size_t i = 0; i < m; ++i) {
    const float* x = a + i * a_stride;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      const float* w0 = w + (j + 0) * w_stride;
      const float* w1 = w + (j + 1) * w_stride;
      const float* w2 = w + (j + 2) * w_stride;
      const float* w3 = w + (j + 3) * w_stride;
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
      for (size_t kk = 0; kk < k; ++kk) {
        const float xv = x[kk];
        s0 += xv * w0[kk];
        s1 += xv * w1[kk];
        s2 += xv * w2[kk];
        s3 += xv * w3[kk];
      }
      c[i * c_stride + j + 0] = s0;
      c[i * c_stride + j + 1] = s1;
      c[i * c_stride + j + 2] = s2;
      c[i * c_stride + j + 3] = s3;
    }
    for (; j < n; ++j) {
      const float* wr = w + j * w_stride;
      float s = 0.0f;
      for (size_t kk = 0; kk < k; ++kk) s += x[kk] * wr[kk];
      c[i * c_stride + j] = s;
    }
  }
}

}  // namespace reference
}  // namespace edgeformer
