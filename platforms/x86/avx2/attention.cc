// Attention over an f32 or f16 (F16C) KV cache with AVX2, in the canonical order of kernels.h.
// Scores: Dot16Rows (dot16.h), 4 positions at a time. Values: 32 output values (four vectors) per
// pass over the positions, then 8, then one at a time; each value sums its products in
// increasing position order from +0.0f (or, accumulating, from out), as separate multiplies and
// adds in every path.
#include "platforms/x86/avx2/dot16.h"

namespace edgeformer {
namespace avx2 {
namespace {

template <KvType T, int kVectors>
inline void ValuesBlock(size_t n, const float* w, const KvElem<T>* v, size_t stride, bool accumulate, float* out) {
  __m256 acc[kVectors];
  for (int c = 0; c < kVectors; ++c) acc[c] = accumulate ? _mm256_loadu_ps(out + 8 * c) : _mm256_setzero_ps();
  for (size_t s = 0; s < n; ++s) {
    const __m256 ws = _mm256_set1_ps(w[s]);
    for (int c = 0; c < kVectors; ++c) {
      acc[c] = _mm256_add_ps(acc[c], _mm256_mul_ps(ws, Load8<T>(v + s * stride + 8 * c)));
    }
  }
  for (int c = 0; c < kVectors; ++c) _mm256_storeu_ps(out + 8 * c, acc[c]);
}

template <KvType T>
void Values(size_t n, size_t d, const float* w, const void* values, size_t stride, bool accumulate, float* out) {
  const KvElem<T>* v = static_cast<const KvElem<T>*>(values);
  size_t i = 0;
  for (; i + 32 <= d; i += 32) ValuesBlock<T, 4>(n, w, v + i, stride, accumulate, out + i);
  for (; i + 8 <= d; i += 8) ValuesBlock<T, 1>(n, w, v + i, stride, accumulate, out + i);
  ValuesScalar<T>(n, i, d, w, v, stride, accumulate, out);
}

}  // namespace

EF_DEFINE_ATTN_ENTRY_POINTS(attn_scores_4p__avx2, attn_values_32d__avx2)

}  // namespace avx2
}  // namespace edgeformer
