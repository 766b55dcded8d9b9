// The Dot16 order (platforms/common/fixed_order.h) with AVX-512, shared by the attention and f32
// GEMM kernels of this folder: 16 rows at a time, one 16-lane accumulator per row (lane i % 16
// of the dot product, exactly Dot16's lanes), then the 16 accumulators are reduced together by
// the same tree (lane j += lane j + w for w = 8, 4, 2, 1), two vectors folded into one per step,
// so the horizontal sums cost 15 adds per 16 rows. Rows past n are never read: a short block
// repeats its last row and stores only the valid lanes. Loads past d are masked to zero: +0.0f
// products leave a lane unchanged. Include only from files compiled with this folder's flags.
#pragma once

#include "platforms/x86/intrinsics.h"

#include "platforms/common/attention_common.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx512vnni {

template <KvType T>
inline __m512 LoadRow(const void* base, size_t index, __mmask16 mask) {
  if (T == KvType::kF16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(base) + index));
  }
  return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(base) + index);
}

inline __mmask16 TailMask(size_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << remaining) - 1);
}

// Folds the lanes of v[0..15] by the fixed tree; lane p of the result is position p's sum.
inline __m512 ReduceSixteen(__m512 v[16]) {
  __m512 r[8], t[4], u[2];
  for (int j = 0; j < 8; ++j) {  // w = 8: blocks (0, 2) and (1, 3) of each vector
    r[j] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * j], v[2 * j + 1], 0x44),
                         _mm512_shuffle_f32x4(v[2 * j], v[2 * j + 1], 0xEE));
  }
  for (int j = 0; j < 4; ++j) {  // w = 4: blocks (0, 1) and (2, 3)
    t[j] = _mm512_add_ps(_mm512_shuffle_f32x4(r[2 * j], r[2 * j + 1], 0x88),
                         _mm512_shuffle_f32x4(r[2 * j], r[2 * j + 1], 0xDD));
  }
  for (int j = 0; j < 2; ++j) {  // w = 2: lanes (0, 2) and (1, 3) of each block
    u[j] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * j], t[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(t[2 * j], t[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // w = 1: lanes (0, 1) and (2, 3). Lane 4b + c of the sum now holds position 4c + b.
  const __m512 f = _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(order, f);
}

// out[s] = Dot16(q, row s, d) for s < n: rows of d values of type T, `stride` elements apart.
template <KvType T>
__attribute__((always_inline)) inline void Dot16Rows(size_t n, size_t d, const float* q, const void* k, size_t k_stride, float* out) {
  for (size_t s0 = 0; s0 < n; s0 += 16) {
    const size_t rows = n - s0 < 16 ? n - s0 : 16;
    size_t row[16];
    for (size_t p = 0; p < 16; ++p) row[p] = (s0 + (p < rows ? p : rows - 1)) * k_stride;
    __m512 acc[16];
    for (int p = 0; p < 16; ++p) acc[p] = _mm512_setzero_ps();
    for (size_t i = 0; i < d; i += 16) {
      const __mmask16 mask = TailMask(d - i);
      const __m512 qv = _mm512_maskz_loadu_ps(mask, q + i);
      for (int p = 0; p < 16; ++p) {
        acc[p] = _mm512_add_ps(acc[p], _mm512_mul_ps(qv, LoadRow<T>(k, row[p] + i, mask)));
      }
    }
    _mm512_mask_storeu_ps(out + s0, TailMask(rows), ReduceSixteen(acc));
  }
}

}  // namespace avx512vnni
}  // namespace edgeformer
