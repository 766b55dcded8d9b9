// The Dot16 order (platforms/common/fixed_order.h) with NEON (Armv8.0), shared by the attention
// and f32 GEMM kernels of this folder: 4 rows at a time, four 4-lane accumulators per row (lanes
// 0-3, 4-7, 8-11, 12-15 of Dot16), reduced by the fixed tree: w = 8 and w = 4 add whole
// vectors, w = 2 adds the halves of two rows' vectors, and w = 1 is a pairwise add that leaves
// the 4 rows in order. A last partial step of 16 (past d) runs on zero-padded copies: +0.0f
// products leave a lane unchanged. A short last group of rows repeats its last row (rows past n
// are never read) and stores only the valid sums.
#pragma once

#include <arm_neon.h>

#include <cstring>

#include "platforms/common/attention_common.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neon {

template <KvType T>
inline float32x4_t Load4(const KvElem<T>* p) {
  if constexpr (T == KvType::kF16) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
  } else {
    return vld1q_f32(p);
  }
}

// One step of 16 values of q against 4 rows.
template <KvType T>
inline void Dot16Step(float32x4_t (&acc)[4][4], const float* q, const KvElem<T>* const (&r)[4]) {
  float32x4_t qv[4];
  for (int c = 0; c < 4; ++c) qv[c] = vld1q_f32(q + 4 * c);
  for (int p = 0; p < 4; ++p) {
    for (int c = 0; c < 4; ++c) acc[p][c] = vaddq_f32(acc[p][c], vmulq_f32(qv[c], Load4<T>(r[p] + 4 * c)));
  }
}

// out[s] = Dot16(q, row s, d) for s < n: rows of d values of type T, `stride` elements apart.
template <KvType T>
__attribute__((always_inline)) inline void Dot16Rows(size_t n, size_t d, const float* q, const void* rows, size_t stride, float* out) {
  const KvElem<T>* base = static_cast<const KvElem<T>*>(rows);
  const size_t full = d / 16 * 16;
  for (size_t s0 = 0; s0 < n; s0 += 4) {
    const size_t count = n - s0 < 4 ? n - s0 : 4;
    const KvElem<T>* r[4];
    for (size_t p = 0; p < 4; ++p) r[p] = base + (s0 + (p < count ? p : count - 1)) * stride;
    float32x4_t acc[4][4];
    for (int p = 0; p < 4; ++p) {
      for (int c = 0; c < 4; ++c) acc[p][c] = vdupq_n_f32(0.0f);
    }
    for (size_t i = 0; i < full; i += 16) {
      const KvElem<T>* const step[4] = {r[0] + i, r[1] + i, r[2] + i, r[3] + i};
      Dot16Step<T>(acc, q + i, step);
    }
    if (full < d) {
      float q_tail[16] = {};
      KvElem<T> r_tail[4][16] = {};
      std::memcpy(q_tail, q + full, (d - full) * sizeof(float));
      for (int p = 0; p < 4; ++p) std::memcpy(r_tail[p], r[p] + full, (d - full) * sizeof(KvElem<T>));
      const KvElem<T>* const step[4] = {r_tail[0], r_tail[1], r_tail[2], r_tail[3]};
      Dot16Step<T>(acc, q_tail, step);
    }
    float32x4_t h[4];
    for (int p = 0; p < 4; ++p) {  // w = 8, then w = 4
      h[p] = vaddq_f32(vaddq_f32(acc[p][0], acc[p][2]), vaddq_f32(acc[p][1], acc[p][3]));
    }
    // w = 2: [row lanes 0+2, 1+3, next row lanes 0+2, 1+3].
    const float32x4_t h01 = vaddq_f32(vcombine_f32(vget_low_f32(h[0]), vget_low_f32(h[1])),
                                      vcombine_f32(vget_high_f32(h[0]), vget_high_f32(h[1])));
    const float32x4_t h23 = vaddq_f32(vcombine_f32(vget_low_f32(h[2]), vget_low_f32(h[3])),
                                      vcombine_f32(vget_high_f32(h[2]), vget_high_f32(h[3])));
    const float32x4_t sums = vpaddq_f32(h01, h23);  // w = 1: rows 0..3 in order
    if (count == 4) {
      vst1q_f32(out + s0, sums);
    } else {
      float tmp[4];
      vst1q_f32(tmp, sums);
      for (size_t p = 0; p < count; ++p) out[s0 + p] = tmp[p];
    }
  }
}

}  // namespace neon
}  // namespace edgeformer
