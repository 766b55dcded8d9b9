// The Dot16 order (platforms/common/fixed_order.h) with NEON (Armv8.0), shared by the attention
// and f32 GEMM kernels of this folder: 4 rows at a time, four 4-lane accumulators per row (lanes
// 0-3, 4-7, 8-11, 12-15 of Dot16), reduced by the fixed tree: w = 8 and w = 4 add whole
// vectors, w = 2 adds the halves of two rows' vectors, and w = 1 is a pairwise add that leaves
// the 4 rows in order. Partial vectors (past d) are loaded through a zero-padded copy: +0.0f
// products leave a lane unchanged.
#pragma once

#include <arm_neon.h>

#include "platforms/kernels.h"

namespace edgeformer {
namespace neon {

// Up to 4 values at base[index..index + count), zero past count.
template <KvType T>
inline float32x4_t Load4(const void* base, size_t index, size_t count) {
  if (T == KvType::kF16) {
    const uint16_t* p = static_cast<const uint16_t*>(base) + index;
    if (count >= 4) return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
    uint16_t tmp[4] = {};
    for (size_t j = 0; j < count; ++j) tmp[j] = p[j];
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(tmp)));
  }
  const float* p = static_cast<const float*>(base) + index;
  if (count >= 4) return vld1q_f32(p);
  float tmp[4] = {};
  for (size_t j = 0; j < count; ++j) tmp[j] = p[j];
  return vld1q_f32(tmp);
}

inline size_t Clamp4(size_t d, size_t i) { return i >= d ? 0 : (d - i < 4 ? d - i : 4); }

// out[s] = Dot16(q, row s, d) for s < n: rows of d values of type T, `k_stride` elements apart.
template <KvType T>
inline void Dot16Rows(size_t n, size_t d, const float* q, const void* k, size_t k_stride, float* out) {
  for (size_t s0 = 0; s0 < n; s0 += 4) {
    const size_t rows = n - s0 < 4 ? n - s0 : 4;
    size_t row[4];
    for (size_t p = 0; p < 4; ++p) row[p] = (s0 + (p < rows ? p : rows - 1)) * k_stride;
    float32x4_t acc[4][4];
    for (int p = 0; p < 4; ++p) {
      for (int c = 0; c < 4; ++c) acc[p][c] = vdupq_n_f32(0.0f);
    }
    for (size_t i = 0; i < d; i += 16) {
      size_t count[4];
      float32x4_t qv[4];
      for (int c = 0; c < 4; ++c) {
        count[c] = Clamp4(d, i + 4 * c);
        qv[c] = Load4<KvType::kF32>(q, i + 4 * c, count[c]);
      }
      for (int p = 0; p < 4; ++p) {
        for (int c = 0; c < 4; ++c) {
          acc[p][c] = vaddq_f32(acc[p][c], vmulq_f32(qv[c], Load4<T>(k, row[p] + i + 4 * c, count[c])));
        }
      }
    }
    float32x4_t r[4];
    for (int p = 0; p < 4; ++p) {  // w = 8, then w = 4
      r[p] = vaddq_f32(vaddq_f32(acc[p][0], acc[p][2]), vaddq_f32(acc[p][1], acc[p][3]));
    }
    // w = 2: [P lanes 0+2, 1+3, P' lanes 0+2, 1+3].
    const float32x4_t h01 = vaddq_f32(vcombine_f32(vget_low_f32(r[0]), vget_low_f32(r[1])),
                                      vcombine_f32(vget_high_f32(r[0]), vget_high_f32(r[1])));
    const float32x4_t h23 = vaddq_f32(vcombine_f32(vget_low_f32(r[2]), vget_low_f32(r[3])),
                                      vcombine_f32(vget_high_f32(r[2]), vget_high_f32(r[3])));
    float sums[4];
    vst1q_f32(sums, vpaddq_f32(h01, h23));  // w = 1: positions 0..3 in order
    for (size_t p = 0; p < rows; ++p) out[s0 + p] = sums[p];
  }
}

}  // namespace neon
}  // namespace edgeformer
