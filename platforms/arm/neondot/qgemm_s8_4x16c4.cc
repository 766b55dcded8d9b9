// int8 GEMM for AArch64 NEON with the dot-product extension over Blocked16x4 weights: tiles of up
// to 4 activation rows x 16 output channels. vdotq_laneq_s32 (sdot by element) multiplies 4
// channels x 4 inputs by one lane's 4 activations and adds into 4 int32 lanes: exact.
#include "platforms/arm/common/tile_blocked.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neondot {
namespace {

struct Sdot {
  template <int L>
  static inline int32x4_t Apply(int32x4_t acc, int8x16_t w, int8x16_t a) {
    return vdotq_laneq_s32(acc, w, a, L);
  }
};

}  // namespace

void qgemm_s8_4x16c4__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                              const float* a_scale, const int8_t* w, const float* w_scale,
                              const int32_t* w_row_sum, float* c, size_t c_stride) {
  QGemmBlocked<ArmBlockedMicro<Sdot>>(m, n, k, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride);
}

}  // namespace neondot
}  // namespace edgeformer
