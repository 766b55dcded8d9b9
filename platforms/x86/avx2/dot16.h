// The Dot16 order (platforms/common/fixed_order.h) with AVX2 (and F16C), shared by the attention
// and f32 GEMM kernels of this folder: 4 rows at a time, two 8-lane accumulators per row (lanes
// 0-7 and 8-15 of Dot16), reduced together by the fixed tree (w = 8 adds the two halves, then
// w = 4, 2, 1 fold two vectors into one per step). Partial vectors (past d) are loaded through a
// zero-padded copy: +0.0f products leave a lane unchanged. Include only from files compiled with
// this folder's flags.
#pragma once

#include <immintrin.h>

#include "platforms/kernels.h"

namespace edgeformer {
namespace avx2 {

// Up to 8 values at base[index..index + count), zero past count.
template <KvType T>
inline __m256 Load8(const void* base, size_t index, size_t count) {
  if (T == KvType::kF16) {
    const uint16_t* p = static_cast<const uint16_t*>(base) + index;
    if (count >= 8) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    alignas(16) uint16_t tmp[8] = {};
    for (size_t j = 0; j < count; ++j) tmp[j] = p[j];
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
  }
  const float* p = static_cast<const float*>(base) + index;
  if (count >= 8) return _mm256_loadu_ps(p);
  alignas(32) float tmp[8] = {};
  for (size_t j = 0; j < count; ++j) tmp[j] = p[j];
  return _mm256_load_ps(tmp);
}

inline size_t Clamp8(size_t d, size_t i) { return i >= d ? 0 : (d - i < 8 ? d - i : 8); }

// out[s] = Dot16(q, row s, d) for s < n: rows of d values of type T, `k_stride` elements apart.
template <KvType T>
inline void Dot16Rows(size_t n, size_t d, const float* q, const void* k, size_t k_stride, float* out) {
  for (size_t s0 = 0; s0 < n; s0 += 4) {
    const size_t rows = n - s0 < 4 ? n - s0 : 4;
    size_t row[4];
    for (size_t p = 0; p < 4; ++p) row[p] = (s0 + (p < rows ? p : rows - 1)) * k_stride;
    __m256 lo[4], hi[4];
    for (int p = 0; p < 4; ++p) lo[p] = hi[p] = _mm256_setzero_ps();
    for (size_t i = 0; i < d; i += 16) {
      const size_t c0 = Clamp8(d, i), c1 = Clamp8(d, i + 8);
      const __m256 q0 = Load8<KvType::kF32>(q, i, c0), q1 = Load8<KvType::kF32>(q, i + 8, c1);
      for (int p = 0; p < 4; ++p) {
        lo[p] = _mm256_add_ps(lo[p], _mm256_mul_ps(q0, Load8<T>(k, row[p] + i, c0)));
        hi[p] = _mm256_add_ps(hi[p], _mm256_mul_ps(q1, Load8<T>(k, row[p] + i + 8, c1)));
      }
    }
    __m256 v[4];
    for (int p = 0; p < 4; ++p) v[p] = _mm256_add_ps(lo[p], hi[p]);  // w = 8
    // w = 4: 128-bit halves; a = [P0, P1], b = [P2, P3], 4 lanes each.
    const __m256 a = _mm256_add_ps(_mm256_permute2f128_ps(v[0], v[1], 0x20), _mm256_permute2f128_ps(v[0], v[1], 0x31));
    const __m256 b = _mm256_add_ps(_mm256_permute2f128_ps(v[2], v[3], 0x20), _mm256_permute2f128_ps(v[2], v[3], 0x31));
    // w = 2: half 0 = [P0 P0 P2 P2], half 1 = [P1 P1 P3 P3].
    const __m256 c = _mm256_add_ps(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
    // w = 1: lanes 0, 1 of half 0 are P0, P2; of half 1, P1, P3.
    const __m256 f = _mm256_add_ps(_mm256_shuffle_ps(c, c, _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm256_shuffle_ps(c, c, _MM_SHUFFLE(3, 1, 3, 1)));
    alignas(32) float sums[8];
    _mm256_store_ps(sums, f);
    const float ordered[4] = {sums[0], sums[4], sums[1], sums[5]};
    for (size_t p = 0; p < rows; ++p) out[s0 + p] = ordered[p];
  }
}

}  // namespace avx2
}  // namespace edgeformer
