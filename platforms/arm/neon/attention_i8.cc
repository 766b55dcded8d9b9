// Attention over an int8 KV cache with NEON (Armv8.0), exact in int32 (kernels.h,
// AttnScoresI8Fn and AttnValuesI8Fn).
//
// Scores: one position at a time, 8 values per step: the row widened to int16 (sxtl) times the
// int16 query into int32 lanes (smlal, smlal2), then the lanes summed (addv). Values: 16 outputs
// per pass over the positions, each row widened to int16 and multiplied by its weight into int32
// lanes (smlal, smlal2). Tails one at a time.
#include <arm_neon.h>

#include <cstdint>

#include "platforms/common/attention_common.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neon {
namespace {

// Outputs [0, 8 kHalves) of the values over all n positions.
template <int kHalves>
inline void ValuesBlock(size_t n, const int16_t* w, const int8_t* v, size_t stride, bool accumulate, int32_t* out) {
  int32x4_t acc[2 * kHalves];
  for (int c = 0; c < 2 * kHalves; ++c) acc[c] = accumulate ? vld1q_s32(out + 4 * c) : vdupq_n_s32(0);
  for (size_t s = 0; s < n; ++s) {
    for (int h = 0; h < kHalves; ++h) {
      const int16x8_t row = vmovl_s8(vld1_s8(v + s * stride + 8 * h));
      acc[2 * h] = vmlal_n_s16(acc[2 * h], vget_low_s16(row), w[s]);
      acc[2 * h + 1] = vmlal_high_n_s16(acc[2 * h + 1], row, w[s]);
    }
  }
  for (int c = 0; c < 2 * kHalves; ++c) vst1q_s32(out + 4 * c, acc[c]);
}

}  // namespace

void attn_i8_scores_1p__neon(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride, int32_t* out) {
  const size_t full = d / 8 * 8;
  for (size_t s = 0; s < n; ++s) {
    const int8_t* row = k + s * k_stride;
    int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
    for (size_t i = 0; i < full; i += 8) {
      const int16x8_t qv = vld1q_s16(q + i), kv = vmovl_s8(vld1_s8(row + i));
      lo = vmlal_s16(lo, vget_low_s16(qv), vget_low_s16(kv));
      hi = vmlal_high_s16(hi, qv, kv);
    }
    out[s] = vaddvq_s32(vaddq_s32(lo, hi)) + DotI8Scalar(full, d, q, row);
  }
}

void attn_i8_values_16d__neon(size_t n, size_t d, const int16_t* w, const int8_t* v, size_t v_stride,
                              bool accumulate, int32_t* out) {
  size_t i = 0;
  for (; i + 16 <= d; i += 16) ValuesBlock<2>(n, w, v + i, v_stride, accumulate, out + i);
  for (; i + 8 <= d; i += 8) ValuesBlock<1>(n, w, v + i, v_stride, accumulate, out + i);
  ValuesI8Scalar(n, i, d, w, v, v_stride, accumulate, out);
}

}  // namespace neon
}  // namespace edgeformer
