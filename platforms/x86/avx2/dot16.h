// The Dot16 order (platforms/common/fixed_order.h) with AVX2 (and F16C), shared by the attention
// and f32 GEMM kernels of this folder: 4 rows at a time, two 8-lane accumulators per row (lanes
// 0-7 and 8-15 of Dot16), reduced together by the fixed tree (w = 8 adds the two halves, then
// w = 4, 2, 1 fold two vectors into one per step). A last partial step of 16 (past d) runs on
// zero-padded copies: +0.0f products leave a lane unchanged. A short last group of rows repeats
// its last row (rows past n are never read) and stores only the valid sums. Include only from
// files compiled with this folder's flags.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "platforms/common/attention_common.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx2 {

template <KvType T>
inline __m256 Load8(const KvElem<T>* p) {
  if constexpr (T == KvType::kF16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {
    return _mm256_loadu_ps(p);
  }
}

// One step of 16 values of q against 4 rows.
template <KvType T>
inline void Dot16Step(__m256 (&lo)[4], __m256 (&hi)[4], const float* q, const KvElem<T>* const (&r)[4]) {
  const __m256 q0 = _mm256_loadu_ps(q), q1 = _mm256_loadu_ps(q + 8);
  for (int p = 0; p < 4; ++p) {
    lo[p] = _mm256_add_ps(lo[p], _mm256_mul_ps(q0, Load8<T>(r[p])));
    hi[p] = _mm256_add_ps(hi[p], _mm256_mul_ps(q1, Load8<T>(r[p] + 8)));
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
    __m256 lo[4], hi[4];
    for (int p = 0; p < 4; ++p) lo[p] = hi[p] = _mm256_setzero_ps();
    for (size_t i = 0; i < full; i += 16) {
      const KvElem<T>* const step[4] = {r[0] + i, r[1] + i, r[2] + i, r[3] + i};
      Dot16Step<T>(lo, hi, q + i, step);
    }
    if (full < d) {
      float q_tail[16] = {};
      KvElem<T> r_tail[4][16] = {};
      std::memcpy(q_tail, q + full, (d - full) * sizeof(float));
      for (int p = 0; p < 4; ++p) std::memcpy(r_tail[p], r[p] + full, (d - full) * sizeof(KvElem<T>));
      const KvElem<T>* const step[4] = {r_tail[0], r_tail[1], r_tail[2], r_tail[3]};
      Dot16Step<T>(lo, hi, q_tail, step);
    }
    __m256 v[4];
    for (int p = 0; p < 4; ++p) v[p] = _mm256_add_ps(lo[p], hi[p]);  // w = 8
    // w = 4: 128-bit halves; a = [row 0, row 1], b = [row 2, row 3], 4 lanes each.
    const __m256 a = _mm256_add_ps(_mm256_permute2f128_ps(v[0], v[1], 0x20), _mm256_permute2f128_ps(v[0], v[1], 0x31));
    const __m256 b = _mm256_add_ps(_mm256_permute2f128_ps(v[2], v[3], 0x20), _mm256_permute2f128_ps(v[2], v[3], 0x31));
    // w = 2: half 0 = [row 0 x2, row 2 x2], half 1 = [row 1 x2, row 3 x2].
    const __m256 c = _mm256_add_ps(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
    // w = 1: lanes 0, 1 of half 0 are rows 0, 2; of half 1, rows 1, 3.
    const __m256 f = _mm256_add_ps(_mm256_shuffle_ps(c, c, _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm256_shuffle_ps(c, c, _MM_SHUFFLE(3, 1, 3, 1)));
    // Rows 0..3 in order: lanes 0, 4, 1, 5.
    const __m128 sums = _mm_castpd_ps(_mm_unpacklo_pd(_mm_castps_pd(_mm256_castps256_ps128(f)),
                                                      _mm_castps_pd(_mm256_extractf128_ps(f, 1))));
    const __m128 ordered = _mm_shuffle_ps(sums, sums, _MM_SHUFFLE(3, 1, 2, 0));
    if (count == 4) {
      _mm_storeu_ps(out + s0, ordered);
    } else {
      alignas(16) float tmp[4];
      _mm_store_ps(tmp, ordered);
      for (size_t p = 0; p < count; ++p) out[s0 + p] = tmp[p];
    }
  }
}

}  // namespace avx2
}  // namespace edgeformer
