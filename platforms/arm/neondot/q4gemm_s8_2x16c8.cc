// int4 (grouped) x int8 GEMM for AArch64 NEON with the dot-product extension: the shared tile
// (platforms/arm/common/q4gemm_tile.h) with sdot (vdotq_s32), 4 channels x 4 inputs per
// instruction, exact.
#include "platforms/arm/common/q4gemm_tile.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neondot {
namespace {

struct Sdot {
  static inline int32x4_t Apply(int32x4_t acc, int8x16_t w, int8x16_t a4) { return vdotq_s32(acc, w, a4); }
};

}  // namespace

void q4gemm_s8_2x16c8__neondot(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                               const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale, float* c,
                               size_t c_stride) {
  Q4GemmBlocked<ArmQ4Micro<Sdot>>(m, n, k, group, a, a_stride, a_scale, a_sums, w, w_scale, c, c_stride);
}

}  // namespace neondot
}  // namespace edgeformer
