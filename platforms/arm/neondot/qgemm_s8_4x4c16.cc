// int8 GEMM for AArch64 NEON with the dot-product extension: four activation rows x four weight
// rows, 16 values of k per step. vdotq_s32 (sdot) multiplies signed bytes and adds groups of four
// into int32 lanes: exact.
#include "platforms/arm/common/tile_mx4c16.h"
#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neondot {
namespace {

struct Sdot {
  static inline int32x4_t Apply(int32x4_t acc, int8x16_t a, int8x16_t w) { return vdotq_s32(acc, a, w); }
};

}  // namespace

void qgemm_s8_4x4c16__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                              const float* a_scale, const int8_t* w, size_t w_stride,
                              const float* w_scale, const int32_t* w_row_sum, float* c,
                              size_t c_stride) {
  QGemmDriver<ArmTileMx4c16<4, Sdot>, ArmTileMx4c16<1, Sdot>>(m, n, k, a, a_stride, a_scale, w, w_stride, w_scale,
                                   w_row_sum, c, c_stride);
}

}  // namespace neondot
}  // namespace edgeformer
