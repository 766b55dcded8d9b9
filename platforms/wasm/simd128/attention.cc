// Attention over an f32 or f16 KV cache with SIMD128, in the canonical order of kernels.h.
// Scores: Dot16Rows (dot16.h), 4 positions at a time. Values: 16 output values (four vectors)
// per pass over the positions, then 4, then one at a time; each value sums its products in
// increasing position order from +0.0f (or, accumulating, from out), as separate multiplies and
// adds in every path.
#include "platforms/wasm/simd128/dot16.h"

namespace edgeformer {
namespace simd128 {
namespace {

template <KvType T, int kVectors>
inline void ValuesBlock(size_t n, const float* w, const KvElem<T>* v, size_t stride, bool accumulate, float* out) {
  v128_t acc[kVectors];
  for (int c = 0; c < kVectors; ++c) acc[c] = accumulate ? wasm_v128_load(out + 4 * c) : wasm_f32x4_splat(0.0f);
  for (size_t s = 0; s < n; ++s) {
    const v128_t ws = wasm_f32x4_splat(w[s]);
    for (int c = 0; c < kVectors; ++c) {
      acc[c] = wasm_f32x4_add(acc[c], wasm_f32x4_mul(ws, Load4<T>(v + s * stride + 4 * c)));
    }
  }
  for (int c = 0; c < kVectors; ++c) wasm_v128_store(out + 4 * c, acc[c]);
}

template <KvType T>
void Values(size_t n, size_t d, const float* w, const void* values, size_t stride, bool accumulate, float* out) {
  const KvElem<T>* v = static_cast<const KvElem<T>*>(values);
  size_t i = 0;
  for (; i + 16 <= d; i += 16) ValuesBlock<T, 4>(n, w, v + i, stride, accumulate, out + i);
  for (; i + 4 <= d; i += 4) ValuesBlock<T, 1>(n, w, v + i, stride, accumulate, out + i);
  ValuesScalar<T>(n, i, d, w, v, stride, accumulate, out);
}

}  // namespace

EF_DEFINE_ATTN_ENTRY_POINTS(attn_scores_4p__simd128, attn_values_16d__simd128)

}  // namespace simd128
}  // namespace edgeformer
