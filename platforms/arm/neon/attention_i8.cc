// Attention over an int8 KV cache with NEON (Armv8.0), exact in int32 (kernels.h,
// AttnScoresI8Fn and AttnValuesI8Fn); the float steps 4 values at a time (attention_common.h,
// by chunks).
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

// ScaleDotsScalar's values, 4 at a time.
inline void ScaleDots(size_t n, const int32_t* dots, float q_scale, const float* k_scales, float* out) {
  size_t s = 0;
  for (; s + 4 <= n; s += 4) {
    const float32x4_t x = vcvtq_f32_s32(vld1q_s32(dots + s));
    vst1q_f32(out + s, vmulq_f32(vmulq_n_f32(x, q_scale), vld1q_f32(k_scales + s)));
  }
  ScaleDotsScalar(n - s, dots + s, q_scale, k_scales + s, out + s);
}

// QuantizeWeightsScalar's values, 4 at a time (clamped first, then rounded to nearest even by
// fcvtns: the same integers, the bounds being integers). p * mult is never NaN (kernels.h), so
// vmin/vmax clamp as the scalar compares do.
inline void QuantizeWeights(size_t n, const float* p, float mult, int16_t* w) {
  const float32x4_t hi = vdupq_n_f32(32767.0f), lo = vdupq_n_f32(-32767.0f);
  size_t s = 0;
  for (; s + 4 <= n; s += 4) {
    const float32x4_t x = vmaxq_f32(vminq_f32(vmulq_n_f32(vld1q_f32(p + s), mult), hi), lo);
    vst1_s16(w + s, vmovn_s32(vcvtnq_s32_f32(x)));
  }
  QuantizeWeightsScalar(n - s, p + s, mult, w + s);
}

void Dots(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride, int32_t* out) {
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

void Sums(size_t n, size_t d, const int16_t* w, const int8_t* v, size_t v_stride, bool accumulate, int32_t* out) {
  size_t i = 0;
  for (; i + 16 <= d; i += 16) ValuesBlock<2>(n, w, v + i, v_stride, accumulate, out + i);
  for (; i + 8 <= d; i += 8) ValuesBlock<1>(n, w, v + i, v_stride, accumulate, out + i);
  ValuesI8Scalar(n, i, d, w, v, v_stride, accumulate, out);
}

}  // namespace

EF_DEFINE_ATTN_I8_ENTRY_POINTS(attn_i8_scores_1p__neon, attn_i8_values_16d__neon)

}  // namespace neon
}  // namespace edgeformer
