// int8 GEMM for AArch64 with the int8 matrix-multiply extension (i8mm) over Blocked16x4 weights:
// tiles of 4 activation rows x 16 output channels, 8 inputs per step. vmmlaq_s32 (smmla)
// multiplies a 2x8 block of activations (two rows) by a 2x8 block of weights (two channels)
// into a 2x2 int32 block: exact. A Blocked16x4 block keeps 4 inputs per channel per group, so the
// two groups of a step are zipped by 4-byte lanes into (channel c: 8 inputs, channel c + 1: 8
// inputs) pairs; a missing last group zips with zeros.
//
// Rows left over from the 4-row tiles (all of decode) use sdot by lane, as the dotprod kernel
// does: every i8mm CPU has dotprod, and the results are bit-identical.
#include <arm_neon.h>

#include "platforms/arm/common/tile_blocked.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace i8mm {
namespace {

struct Sdot {
  template <int L>
  static inline int32x4_t Apply(int32x4_t acc, int8x16_t w, int8x16_t a) {
    return vdotq_laneq_s32(acc, w, a, L);
  }
};

struct Micro {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNB = 1;

  template <size_t MR, size_t NB>
  static void Tile(const QGemmTileArgs& t) {
    static_assert(NB == 1, "one block per tile");
    if constexpr (MR != 4) {
      ArmBlockedMicro<Sdot>::Tile<MR, NB>(t);
    } else {
      // acc[row pair][channel pair] = {r0 c0, r0 c1, r1 c0, r1 c1}
      int32x4_t acc[2][8];
      for (size_t p = 0; p < 2; ++p)
        for (size_t c = 0; c < 8; ++c) acc[p][c] = vdupq_n_s32(0);
      const size_t groups = BlockedCols(t.k) / kGroupCols;
      for (size_t g = 0; g < groups; g += 2) {
        const bool pair = g + 1 < groups;
        int8x16_t b[8];
        for (size_t q = 0; q < 4; ++q) {
          const int32x4_t lo = vreinterpretq_s32_s8(vld1q_s8(t.w + g * kBlockGroupBytes + q * 16));
          const int32x4_t hi =
              pair ? vreinterpretq_s32_s8(vld1q_s8(t.w + (g + 1) * kBlockGroupBytes + q * 16)) : vdupq_n_s32(0);
          b[2 * q] = vreinterpretq_s8_s32(vzip1q_s32(lo, hi));
          b[2 * q + 1] = vreinterpretq_s8_s32(vzip2q_s32(lo, hi));
        }
        for (size_t p = 0; p < 2; ++p) {
          const int8_t* r0 = t.a + (2 * p) * t.a_stride + g * kGroupCols;
          const int8x16_t a = vcombine_s8(vld1_s8(r0), vld1_s8(r0 + t.a_stride));
          for (size_t c = 0; c < 8; ++c) acc[p][c] = vmmlaq_s32(acc[p][c], a, b[c]);
        }
      }
      for (size_t q = 0; q < 4; ++q) {
        const size_t col = q * 4;
        if (col >= t.n_valid) break;
        const float32x4_t w_scale = vld1q_f32(t.w_scale + col);
        for (size_t i = 0; i < 4; ++i) {
          const int32x4_t pa = acc[i / 2][2 * q], pb = acc[i / 2][2 * q + 1];
          const int32x4_t row = i % 2 == 0 ? vcombine_s32(vget_low_s32(pa), vget_low_s32(pb))
                                           : vcombine_s32(vget_high_s32(pa), vget_high_s32(pb));
          StoreRow4(t.c + i * t.c_stride + col, row, t.a_scale[i], w_scale, t.n_valid - col);
        }
      }
    }
  }
};

}  // namespace

void qgemm_s8_4x16c8__i8mm(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                           const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                           size_t c_stride) {
  QGemmBlocked<Micro>(m, n, k, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride);
}

}  // namespace i8mm
}  // namespace edgeformer
