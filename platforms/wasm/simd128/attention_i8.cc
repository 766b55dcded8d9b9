// Attention over an int8 KV cache with SIMD128, exact in int32 (kernels.h, AttnScoresI8Fn and
// AttnValuesI8Fn); the float steps 4 values at a time (attention_common.h, by chunks).
//
// Scores: one position at a time, 8 values per step: the row widened to int16 against the int16
// query in i32x4.dot_i16x8_s, the lanes summed at the end. Values: 16 outputs per pass over the
// positions, each row widened to int16 and multiplied by its weight into int32 lanes (extmul).
// Tails one at a time.
#include <wasm_simd128.h>

#include <cstdint>

#include "platforms/common/attention_common.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace simd128 {
namespace {

// Outputs [0, 8 kHalves) of the values over all n positions.
template <int kHalves>
inline void ValuesBlock(size_t n, const int16_t* w, const int8_t* v, size_t stride, bool accumulate, int32_t* out) {
  v128_t acc[2 * kHalves];
  for (int c = 0; c < 2 * kHalves; ++c) acc[c] = accumulate ? wasm_v128_load(out + 4 * c) : wasm_i32x4_splat(0);
  for (size_t s = 0; s < n; ++s) {
    const v128_t ws = wasm_i16x8_splat(w[s]);
    for (int h = 0; h < kHalves; ++h) {
      const v128_t row = wasm_i16x8_load8x8(v + s * stride + 8 * h);
      acc[2 * h] = wasm_i32x4_add(acc[2 * h], wasm_i32x4_extmul_low_i16x8(row, ws));
      acc[2 * h + 1] = wasm_i32x4_add(acc[2 * h + 1], wasm_i32x4_extmul_high_i16x8(row, ws));
    }
  }
  for (int c = 0; c < 2 * kHalves; ++c) wasm_v128_store(out + 4 * c, acc[c]);
}

// ScaleDotsScalar's values, 4 at a time.
inline void ScaleDots(size_t n, const int32_t* dots, float q_scale, const float* k_scales, float* out) {
  size_t s = 0;
  for (; s + 4 <= n; s += 4) {
    const v128_t x = wasm_f32x4_convert_i32x4(wasm_v128_load(dots + s));
    wasm_v128_store(out + s, wasm_f32x4_mul(wasm_f32x4_mul(x, wasm_f32x4_splat(q_scale)), wasm_v128_load(k_scales + s)));
  }
  ScaleDotsScalar(n - s, dots + s, q_scale, k_scales + s, out + s);
}

// QuantizeWeightsScalar's values, 4 at a time: clamped, then rounded to nearest even
// (f32x4.nearest: the same integers). p * mult is never NaN (kernels.h), so min/max clamp as the
// scalar compares do.
inline void QuantizeWeights(size_t n, const float* p, float mult, int16_t* w) {
  const v128_t hi = wasm_f32x4_splat(32767.0f), lo = wasm_f32x4_splat(-32767.0f), m = wasm_f32x4_splat(mult);
  size_t s = 0;
  for (; s + 4 <= n; s += 4) {
    const v128_t x = wasm_f32x4_max(wasm_f32x4_min(wasm_f32x4_mul(wasm_v128_load(p + s), m), hi), lo);
    const v128_t i32 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(x));
    wasm_v128_store64_lane(w + s, wasm_i16x8_narrow_i32x4(i32, i32), 0);
  }
  QuantizeWeightsScalar(n - s, p + s, mult, w + s);
}

void Dots(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride, int32_t* out) {
  const size_t full = d / 8 * 8;
  for (size_t s = 0; s < n; ++s) {
    const int8_t* row = k + s * k_stride;
    v128_t acc = wasm_i32x4_splat(0);
    for (size_t i = 0; i < full; i += 8) {
      acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_v128_load(q + i), wasm_i16x8_load8x8(row + i)));
    }
    const v128_t s2 = wasm_i32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 2, 3, 2, 3));
    out[s] = wasm_i32x4_extract_lane(s2, 0) + wasm_i32x4_extract_lane(s2, 1) + DotI8Scalar(full, d, q, row);
  }
}

void Sums(size_t n, size_t d, const int16_t* w, const int8_t* v, size_t v_stride, bool accumulate, int32_t* out) {
  size_t i = 0;
  for (; i + 16 <= d; i += 16) ValuesBlock<2>(n, w, v + i, v_stride, accumulate, out + i);
  for (; i + 8 <= d; i += 8) ValuesBlock<1>(n, w, v + i, v_stride, accumulate, out + i);
  ValuesI8Scalar(n, i, d, w, v, v_stride, accumulate, out);
}

}  // namespace

EF_DEFINE_ATTN_I8_ENTRY_POINTS(attn_i8_scores_8p__simd128, attn_i8_values_16d__simd128)

}  // namespace simd128
}  // namespace edgeformer
