// int8 GEMM for baseline AArch64 NEON over Blocked16x4 weights: tiles of up to 4 activation rows x
// 16 output channels. Without a dot-product instruction, each activation lane's 4 bytes are
// replicated to 16, vmull_s8 forms the 16 products as int16 (|a * w| <= 127 * 128), and two
// pairwise adds reduce each channel's 4 products into an int32 lane: exact.
#include "platforms/arm/common/tile_blocked.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neon {
namespace {

struct MullDot {
  template <int L>
  static inline int32x4_t Apply(int32x4_t acc, int8x16_t w, int8x16_t a) {
    const int8x16_t a4 = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(a), L));
    const int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(a4)));  // channels 0, 1
    const int32x4_t hi = vpaddlq_s16(vmull_high_s8(w, a4));                      // channels 2, 3
    return vaddq_s32(acc, vpaddq_s32(lo, hi));
  }
};

}  // namespace

void qgemm_s8_4x16c4__neon(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                           const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                           size_t c_stride) {
  QGemmBlocked<ArmBlockedMicro<MullDot>>(m, n, k, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride);
}

}  // namespace neon
}  // namespace edgeformer
