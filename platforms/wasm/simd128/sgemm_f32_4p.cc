// f32 GEMM (f32 or f16 weights) in the Dot16 order: Dot16Rows (dot16.h) over blocks of 64 weight rows.
#include "platforms/common/sgemm_dot16.h"
#include "platforms/wasm/simd128/dot16.h"

namespace edgeformer {
namespace simd128 {

void sgemm_f32_4p__simd128(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const void* w,
                           size_t w_stride, KvType w_type, float* c, size_t c_stride) {
  SGemmDot16<&Dot16Rows<KvType::kF32>, &Dot16Rows<KvType::kF16>>(m, n, k, a, a_stride, w, w_stride, w_type, c,
                                                                 c_stride);
}

}  // namespace simd128
}  // namespace edgeformer
