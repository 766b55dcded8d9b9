// int8 GEMM for baseline AArch64 NEON: four activation rows x four weight rows, 16 values of k
// per step. vmull_s8 widens products to int16 (|a * w| <= 127 * 128, no overflow) and
// vpadalq_s16 adds adjacent pairs into int32 accumulators: exact.
#include "platforms/arm/common/tile_mx4c16.h"
#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neon {
namespace {

struct MullPadal {
  static inline int32x4_t Apply(int32x4_t acc, int8x16_t a, int8x16_t w) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(w)));
    return vpadalq_s16(acc, vmull_high_s8(a, w));
  }
};

}  // namespace

void qgemm_s8_4x4c16__neon(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                           const float* a_scale, const int8_t* w, size_t w_stride,
                           const float* w_scale, const int32_t* w_row_sum, float* c,
                           size_t c_stride) {
  QGemmDriver<ArmTileMx4c16<4, MullPadal>, ArmTileMx4c16<1, MullPadal>>(m, n, k, a, a_stride, a_scale, w, w_stride, w_scale,
                                        w_row_sum, c, c_stride);
}

}  // namespace neon
}  // namespace edgeformer
