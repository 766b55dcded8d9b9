// Attention over an int8 KV cache with AVX2, exact in int32 (kernels.h, AttnScoresI8Fn and
// AttnValuesI8Fn); the float steps 8 values at a time (attention_common.h, by chunks).
//
// Scores: 8 positions at a time (their sums folded together, Sum8x8), 16 values per step: each row widened to int16 (vpmovsxbw) and
// multiplied by the int16 query in pairs (vpmaddwd: exact, the caller's bound keeps the sums in
// int32). Values past the last whole 16 run one at a time.
// Values: 32 outputs per pass over the positions, positions in pairs: the int16 values of two
// rows interleaved (vpunpck*wd) times the pair of weights (vpmaddwd) add w[s] V_s[i] +
// w[s+1] V_{s+1}[i] into lane i; outputs past the last whole 16 run one at a time.
#include "platforms/x86/intrinsics.h"

#include <cstdint>
#include <cstring>

#include "platforms/common/attention_common.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx2 {
namespace {

// The weights of positions s and s + 1 as the int16 pair of every int32 lane.
inline __m256i WeightPair(int16_t w0, int16_t w1) {
  return _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(w0)) |
                                                (static_cast<uint32_t>(static_cast<uint16_t>(w1)) << 16)));
}

// 16 int8 values at p as int16.
inline __m256i Widen16(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Outputs [0, 16 kBlocks) of the values over all n positions.
template <int kBlocks>
inline void ValuesBlock(size_t n, const int16_t* w, const int8_t* v, size_t stride, bool accumulate, int32_t* out) {
  // Lane j of lo[b] holds output 16 b + (j < 4 ? j : j + 4), of hi[b] that + 4 (vpunpck*wd order).
  __m256i lo[kBlocks], hi[kBlocks];
  for (int b = 0; b < kBlocks; ++b) lo[b] = hi[b] = _mm256_setzero_si256();
  size_t s = 0;
  for (; s + 2 <= n; s += 2) {
    const __m256i wp = WeightPair(w[s], w[s + 1]);
    for (int b = 0; b < kBlocks; ++b) {
      const __m256i a = Widen16(v + s * stride + 16 * b), c = Widen16(v + (s + 1) * stride + 16 * b);
      lo[b] = _mm256_add_epi32(lo[b], _mm256_madd_epi16(_mm256_unpacklo_epi16(a, c), wp));
      hi[b] = _mm256_add_epi32(hi[b], _mm256_madd_epi16(_mm256_unpackhi_epi16(a, c), wp));
    }
  }
  if (s < n) {  // the last position, paired with zeros
    const __m256i wp = WeightPair(w[s], 0);
    for (int b = 0; b < kBlocks; ++b) {
      const __m256i a = Widen16(v + s * stride + 16 * b), z = _mm256_setzero_si256();
      lo[b] = _mm256_add_epi32(lo[b], _mm256_madd_epi16(_mm256_unpacklo_epi16(a, z), wp));
      hi[b] = _mm256_add_epi32(hi[b], _mm256_madd_epi16(_mm256_unpackhi_epi16(a, z), wp));
    }
  }
  for (int b = 0; b < kBlocks; ++b) {
    __m256i r0 = _mm256_permute2x128_si256(lo[b], hi[b], 0x20);  // outputs 0-7
    __m256i r1 = _mm256_permute2x128_si256(lo[b], hi[b], 0x31);  // outputs 8-15
    __m256i* dst = reinterpret_cast<__m256i*>(out + 16 * b);
    if (accumulate) {
      r0 = _mm256_add_epi32(r0, _mm256_loadu_si256(dst));
      r1 = _mm256_add_epi32(r1, _mm256_loadu_si256(dst + 1));
    }
    _mm256_storeu_si256(dst, r0);
    _mm256_storeu_si256(dst + 1, r1);
  }
}

// ScaleDotsScalar's values, 8 at a time.
inline void ScaleDots(size_t n, const int32_t* dots, float q_scale, const float* k_scales, float* out) {
  const __m256 qs = _mm256_set1_ps(q_scale);
  size_t s = 0;
  for (; s + 8 <= n; s += 8) {
    const __m256 x = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dots + s)));
    _mm256_storeu_ps(out + s, _mm256_mul_ps(_mm256_mul_ps(x, qs), _mm256_loadu_ps(k_scales + s)));
  }
  ScaleDotsScalar(n - s, dots + s, q_scale, k_scales + s, out + s);
}

// QuantizeWeightsScalar's values, 16 at a time (clamped first, then rounded by cvtps2dq:
// the same integers, the bounds being integers).
inline void QuantizeWeights(size_t n, const float* p, float mult, int16_t* w) {
  const __m256 m = _mm256_set1_ps(mult), hi = _mm256_set1_ps(32767.0f), lo = _mm256_set1_ps(-32767.0f);
  size_t s = 0;
  for (; s + 16 <= n; s += 16) {
    __m256i r[2];
    for (int h = 0; h < 2; ++h) {
      const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(p + s + 8 * h), m);
      r[h] = _mm256_cvtps_epi32(_mm256_max_ps(_mm256_min_ps(x, hi), lo));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + s),
                        _mm256_permute4x64_epi64(_mm256_packs_epi32(r[0], r[1]), 0xD8));
  }
  QuantizeWeightsScalar(n - s, p + s, mult, w + s);
}

// The sums of the 8 lanes of each a[p], p < 8, as lane p: pairs folded together (32-bit,
// 64-bit, then 128-bit halves).
inline __m256i Sum8x8(const __m256i (&a)[8]) {
  __m256i t[4], u[2];
  for (int j = 0; j < 4; ++j) {  // per 128-bit lane: positions (2j, 2j+1, 2j, 2j+1)
    t[j] = _mm256_add_epi32(_mm256_unpacklo_epi32(a[2 * j], a[2 * j + 1]), _mm256_unpackhi_epi32(a[2 * j], a[2 * j + 1]));
  }
  for (int j = 0; j < 2; ++j) {  // per lane: positions 4j .. 4j + 3
    u[j] = _mm256_add_epi32(_mm256_unpacklo_epi64(t[2 * j], t[2 * j + 1]), _mm256_unpackhi_epi64(t[2 * j], t[2 * j + 1]));
  }
  return _mm256_add_epi32(_mm256_permute2x128_si256(u[0], u[1], 0x20), _mm256_permute2x128_si256(u[0], u[1], 0x31));
}

void Dots(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride, int32_t* out) {
  const size_t full = d / 16 * 16;
  for (size_t s0 = 0; s0 < n; s0 += 8) {
    const size_t count = n - s0 < 8 ? n - s0 : 8;
    const int8_t* r[8];
    for (size_t p = 0; p < 8; ++p) r[p] = k + (s0 + (p < count ? p : count - 1)) * k_stride;
    __m256i acc[8];
    for (int p = 0; p < 8; ++p) acc[p] = _mm256_setzero_si256();
    for (size_t i = 0; i < full; i += 16) {
      const __m256i qv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i));
      for (int p = 0; p < 8; ++p) acc[p] = _mm256_add_epi32(acc[p], _mm256_madd_epi16(qv, Widen16(r[p] + i)));
    }
    int32_t sums[8];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums), Sum8x8(acc));
    for (size_t p = 0; p < count; ++p) out[s0 + p] = sums[p] + DotI8Scalar(full, d, q, r[p]);
  }
}

void Sums(size_t n, size_t d, const int16_t* w, const int8_t* v, size_t v_stride, bool accumulate, int32_t* out) {
  size_t i = 0;
  for (; i + 32 <= d; i += 32) ValuesBlock<2>(n, w, v + i, v_stride, accumulate, out + i);
  for (; i + 16 <= d; i += 16) ValuesBlock<1>(n, w, v + i, v_stride, accumulate, out + i);
  ValuesI8Scalar(n, i, d, w, v, v_stride, accumulate, out);
}

}  // namespace

EF_DEFINE_ATTN_I8_ENTRY_POINTS(attn_i8_scores_8p__avx2, attn_i8_values_32d__avx2)

}  // namespace avx2
}  // namespace edgeformer
