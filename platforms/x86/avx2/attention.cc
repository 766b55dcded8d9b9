// Attention over an f32 or f16 (F16C) KV cache with AVX2, in the canonical order of kernels.h.
// Scores: Dot16Rows (dot16.h), 4 positions at a time. Values: 32 output values (four vectors) per
// pass over the positions, each summed in increasing position order from +0.0f.
#include "platforms/x86/avx2/dot16.h"

namespace edgeformer {
namespace avx2 {
namespace {

template <KvType T>
void Values(size_t n, size_t d, const float* w, const void* v, size_t v_stride, float* out) {
  for (size_t i = 0; i < d; i += 32) {
    size_t count[4];
    __m256 acc[4];
    for (int c = 0; c < 4; ++c) {
      count[c] = Clamp8(d, i + 8 * c);
      acc[c] = _mm256_setzero_ps();
    }
    for (size_t s = 0; s < n; ++s) {
      const __m256 ws = _mm256_set1_ps(w[s]);
      for (int c = 0; c < 4; ++c) {
        acc[c] = _mm256_add_ps(acc[c], _mm256_mul_ps(ws, Load8<T>(v, s * v_stride + i + 8 * c, count[c])));
      }
    }
    for (int c = 0; c < 4; ++c) {
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, acc[c]);
      for (size_t j = 0; j < count[c]; ++j) out[i + 8 * c + j] = tmp[j];
    }
  }
}

}  // namespace

void attn_scores_4p__avx2(size_t n, size_t d, const float* q, const void* k, size_t k_stride, KvType type,
                          float* out) {
  if (type == KvType::kF16) {
    Dot16Rows<KvType::kF16>(n, d, q, k, k_stride, out);
  } else {
    Dot16Rows<KvType::kF32>(n, d, q, k, k_stride, out);
  }
}

void attn_values_32d__avx2(size_t n, size_t d, const float* w, const void* v, size_t v_stride, KvType type,
                           float* out) {
  if (type == KvType::kF16) {
    Values<KvType::kF16>(n, d, w, v, v_stride, out);
  } else {
    Values<KvType::kF32>(n, d, w, v, v_stride, out);
  }
}

}  // namespace avx2
}  // namespace edgeformer
