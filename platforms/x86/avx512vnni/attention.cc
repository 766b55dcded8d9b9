// Attention over an f32 or f16 KV cache with AVX-512, in the canonical order of kernels.h.
// Scores: Dot16Rows (dot16.h), 16 positions at a time. Values: 64 output values (four vectors)
// per pass over the positions; every value sums its products in increasing position order,
// starting from +0.0f (or, accumulating, from out). Loads past d are masked to zero.
#include "platforms/x86/avx512vnni/dot16.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

template <KvType T>
void Values(size_t n, size_t d, const float* w, const void* v, size_t v_stride, bool accumulate, float* out) {
  for (size_t i = 0; i < d; i += 64) {
    __mmask16 mask[4];
    __m512 acc[4];
    for (int c = 0; c < 4; ++c) {
      mask[c] = i + 16 * c < d ? TailMask(d - i - 16 * c) : 0;
      acc[c] = accumulate ? _mm512_maskz_loadu_ps(mask[c], out + i + 16 * c) : _mm512_setzero_ps();
    }
    for (size_t s = 0; s < n; ++s) {
      const __m512 ws = _mm512_set1_ps(w[s]);
      for (int c = 0; c < 4; ++c) {
        acc[c] = _mm512_add_ps(acc[c], _mm512_mul_ps(ws, LoadRow<T>(v, s * v_stride + i + 16 * c, mask[c])));
      }
    }
    for (int c = 0; c < 4; ++c) _mm512_mask_storeu_ps(out + i + 16 * c, mask[c], acc[c]);
  }
}

}  // namespace

EF_DEFINE_ATTN_ENTRY_POINTS(attn_scores_16p__avx512vnni, attn_values_64d__avx512vnni)

}  // namespace avx512vnni
}  // namespace edgeformer
