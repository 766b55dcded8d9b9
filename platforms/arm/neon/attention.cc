// Attention over an f32 or f16 KV cache with NEON (Armv8.0), in the canonical order of
// kernels.h. Scores: Dot16Rows (dot16.h), 4 positions at a time. Values: 16 output values (four
// vectors) per pass over the positions, each summed in increasing position order from +0.0f.
#include "platforms/arm/neon/dot16.h"

namespace edgeformer {
namespace neon {
namespace {

template <KvType T>
void Values(size_t n, size_t d, const float* w, const void* v, size_t v_stride, float* out) {
  for (size_t i = 0; i < d; i += 16) {
    size_t count[4];
    float32x4_t acc[4];
    for (int c = 0; c < 4; ++c) {
      count[c] = Clamp4(d, i + 4 * c);
      acc[c] = vdupq_n_f32(0.0f);
    }
    for (size_t s = 0; s < n; ++s) {
      const float32x4_t ws = vdupq_n_f32(w[s]);
      for (int c = 0; c < 4; ++c) {
        acc[c] = vaddq_f32(acc[c], vmulq_f32(ws, Load4<T>(v, s * v_stride + i + 4 * c, count[c])));
      }
    }
    for (int c = 0; c < 4; ++c) {
      float tmp[4];
      vst1q_f32(tmp, acc[c]);
      for (size_t j = 0; j < count[c]; ++j) out[i + 4 * c + j] = tmp[j];
    }
  }
}

}  // namespace

void attn_scores_4p__neon(size_t n, size_t d, const float* q, const void* k, size_t k_stride, KvType type,
                          float* out) {
  if (type == KvType::kF16) {
    Dot16Rows<KvType::kF16>(n, d, q, k, k_stride, out);
  } else {
    Dot16Rows<KvType::kF32>(n, d, q, k, k_stride, out);
  }
}

void attn_values_16d__neon(size_t n, size_t d, const float* w, const void* v, size_t v_stride, KvType type,
                           float* out) {
  if (type == KvType::kF16) {
    Values<KvType::kF16>(n, d, w, v, v_stride, out);
  } else {
    Values<KvType::kF32>(n, d, w, v, v_stride, out);
  }
}

}  // namespace neon
}  // namespace edgeformer
