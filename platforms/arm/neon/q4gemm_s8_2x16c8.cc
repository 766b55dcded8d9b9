// int4 (grouped) x int8 GEMM for AArch64 NEON without the dot-product extension: the shared tile
// (platforms/arm/common/q4gemm_tile.h) with 4-input dot products from widening multiplies
// (vmull_s8: at most 15 x 127 per product) and pairwise adds.
#include "platforms/arm/common/q4gemm_tile.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neon {
namespace {

struct Widen {
  // acc[c] += sum over b < 4 of w[4c + b] * a4[4c + b], for the 4 channels c of w.
  static inline int32x4_t Apply(int32x4_t acc, int8x16_t w, int8x16_t a4) {
    const int32x4_t p0 = vpaddlq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(a4)));    // channels 0, 1
    const int32x4_t p1 = vpaddlq_s16(vmull_s8(vget_high_s8(w), vget_high_s8(a4)));  // channels 2, 3
    return vaddq_s32(acc, vpaddq_s32(p0, p1));
  }
};

}  // namespace

void q4gemm_s8_2x16c8__neon(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                            const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale, float* c,
                            size_t c_stride) {
  Q4GemmBlocked<ArmQ4Micro<Widen>>(m, n, k, group, a, a_stride, a_scale, a_sums, w, w_scale, c, c_stride);
}

}  // namespace neon
}  // namespace edgeformer
