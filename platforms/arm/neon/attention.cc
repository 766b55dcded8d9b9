// Attention over an f32 or f16 KV cache with NEON (Armv8.0), in the canonical order of
// kernels.h. Scores: Dot16Rows (dot16.h), 4 positions at a time. Values: 16 output values (four
// vectors) per pass over the positions, then 4, then one at a time; each value sums its products
// in increasing position order from +0.0f, as separate multiplies and adds in every path.
#include "platforms/arm/neon/dot16.h"
#include "platforms/common/f16.h"

namespace edgeformer {
namespace neon {
namespace {

template <KvType T>
inline float Load1(const KvElem<T>* p) {
  if constexpr (T == KvType::kF16) {
    return F16ToF32(*p);
  } else {
    return *p;
  }
}

template <KvType T, int kVectors>
inline void ValuesBlock(size_t n, const float* w, const KvElem<T>* v, size_t stride, float* out) {
  float32x4_t acc[kVectors];
  for (int c = 0; c < kVectors; ++c) acc[c] = vdupq_n_f32(0.0f);
  for (size_t s = 0; s < n; ++s) {
    const float32x4_t ws = vdupq_n_f32(w[s]);
    for (int c = 0; c < kVectors; ++c) acc[c] = vaddq_f32(acc[c], vmulq_f32(ws, Load4<T>(v + s * stride + 4 * c)));
  }
  for (int c = 0; c < kVectors; ++c) vst1q_f32(out + 4 * c, acc[c]);
}

template <KvType T>
void Values(size_t n, size_t d, const float* w, const void* values, size_t stride, float* out) {
  const KvElem<T>* v = static_cast<const KvElem<T>*>(values);
  size_t i = 0;
  for (; i + 16 <= d; i += 16) ValuesBlock<T, 4>(n, w, v + i, stride, out + i);
  for (; i + 4 <= d; i += 4) ValuesBlock<T, 1>(n, w, v + i, stride, out + i);
  for (; i < d; ++i) {
    float acc = 0.0f;
    for (size_t s = 0; s < n; ++s) acc += w[s] * Load1<T>(v + s * stride + i);
    out[i] = acc;
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
