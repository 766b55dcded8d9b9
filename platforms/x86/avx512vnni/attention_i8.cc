// Attention over an int8 KV cache with AVX-512 VNNI, exact in int32 (kernels.h, AttnScoresI8Fn
// and AttnValuesI8Fn); the float steps 16 values at a time (attention_common.h, by chunks).
//
// Scores: 16 positions at a time (their sums folded together, Sum16x16), 32 values per step: each row widened to int16 (vpmovsxbw)
// against the int16 query in pairs (vpdpwssd). Values past d are masked to zero.
// Values: 64 outputs per pass over the positions, positions in pairs: the int16 values of two
// rows interleaved (vpunpck*wd) against the pair of weights in every lane (vpdpwssd) add
// w[s] V_s[i] + w[s+1] V_{s+1}[i]. Outputs past d are masked (never read, never written).
#include "platforms/x86/intrinsics.h"

#include <cstdint>

#include "platforms/common/attention_common.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

inline __mmask32 ByteMask32(size_t remaining) {
  return remaining >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((uint32_t{1} << remaining) - 1);
}

inline __mmask16 WordMask16(size_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << remaining) - 1);
}

// The sums of the 16 lanes of each a[p], p < 16, as lane p: pairs of vectors folded together
// (32-bit, 64-bit, then 128-bit halves) so each step halves the vectors; 45 operations.
inline __m512i Sum16x16(const __m512i (&a)[16]) {
  __m512i t[8], u[4], v[2];
  for (int j = 0; j < 8; ++j) {  // per 128-bit block: positions (2j, 2j+1, 2j, 2j+1)
    t[j] = _mm512_add_epi32(_mm512_unpacklo_epi32(a[2 * j], a[2 * j + 1]), _mm512_unpackhi_epi32(a[2 * j], a[2 * j + 1]));
  }
  for (int j = 0; j < 4; ++j) {  // per block: positions 4j .. 4j + 3
    u[j] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * j], t[2 * j + 1]), _mm512_unpackhi_epi64(t[2 * j], t[2 * j + 1]));
  }
  for (int j = 0; j < 2; ++j) {  // blocks: 8j .. 8j + 3 twice, then 8j + 4 .. 8j + 7 twice
    v[j] = _mm512_add_epi32(_mm512_shuffle_i32x4(u[2 * j], u[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i32x4(u[2 * j], u[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
  return _mm512_add_epi32(_mm512_shuffle_i32x4(v[0], v[1], _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i32x4(v[0], v[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

inline __m512i WeightPair(int16_t w0, int16_t w1) {
  return _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(w0)) |
                                                (static_cast<uint32_t>(static_cast<uint16_t>(w1)) << 16)));
}

// Outputs [0, min(64, d)) of the values over all n positions (d counted from this block).
template <bool kWhole>  // d >= 64: unmasked loads, which fold into vpmovsxbw
inline void ValuesBlock(size_t n, size_t d, const int16_t* w, const int8_t* v, size_t stride, bool accumulate,
                        int32_t* out) {
  const __mmask32 load[2] = {ByteMask32(d), d > 32 ? ByteMask32(d - 32) : 0};
  auto Load32 = [](__mmask32 mask, const int8_t* p) {
    return kWhole ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)) : _mm256_maskz_loadu_epi8(mask, p);
  };
  // Lane j of lo[b] holds output 32 b + 8 (j / 4) + j % 4, of hi[b] that + 4 (vpunpck*wd order).
  __m512i lo[2], hi[2];
  for (int b = 0; b < 2; ++b) lo[b] = hi[b] = _mm512_setzero_si512();
  for (size_t s = 0; s < n; s += 2) {
    const bool pair = s + 1 < n;
    const __m512i wp = WeightPair(w[s], pair ? w[s + 1] : 0);
    for (int b = 0; b < 2; ++b) {
      if (load[b] == 0) continue;
      const __m512i a = _mm512_cvtepi8_epi16(Load32(load[b], v + s * stride + 32 * b));
      const __m512i c = pair ? _mm512_cvtepi8_epi16(Load32(load[b], v + (s + 1) * stride + 32 * b))
                             : _mm512_setzero_si512();
      lo[b] = _mm512_dpwssd_epi32(lo[b], _mm512_unpacklo_epi16(a, c), wp);
      hi[b] = _mm512_dpwssd_epi32(hi[b], _mm512_unpackhi_epi16(a, c), wp);
    }
  }
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  for (int b = 0; b < 2; ++b) {
    for (int half = 0; half < 2; ++half) {
      const size_t at = 32 * b + 16 * half;
      if (at >= d) return;
      const __mmask16 mask = WordMask16(d - at);
      __m512i r = _mm512_permutex2var_epi64(lo[b], half == 0 ? first : second, hi[b]);
      if (accumulate) r = _mm512_add_epi32(r, _mm512_maskz_loadu_epi32(mask, out + at));
      _mm512_mask_storeu_epi32(out + at, mask, r);
    }
  }
}

// ScaleDotsScalar's values, 16 at a time (masked tail).
inline void ScaleDots(size_t n, const int32_t* dots, float q_scale, const float* k_scales, float* out) {
  const __m512 qs = _mm512_set1_ps(q_scale);
  for (size_t s = 0; s < n; s += 16) {
    const __mmask16 mask = WordMask16(n - s);
    const __m512 x = _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(mask, dots + s));
    _mm512_mask_storeu_ps(out + s, mask, _mm512_mul_ps(_mm512_mul_ps(x, qs), _mm512_maskz_loadu_ps(mask, k_scales + s)));
  }
}

// QuantizeWeightsScalar's values, 16 at a time (clamped first, then rounded by vcvtps2dq: the
// same integers, the bounds being integers; masked tail).
inline void QuantizeWeights(size_t n, const float* p, float mult, int16_t* w) {
  const __m512 m = _mm512_set1_ps(mult), hi = _mm512_set1_ps(32767.0f), lo = _mm512_set1_ps(-32767.0f);
  for (size_t s = 0; s < n; s += 16) {
    const __mmask16 mask = WordMask16(n - s);
    const __m512 x = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, p + s), m);
    const __m512i r = _mm512_cvtps_epi32(_mm512_max_ps(_mm512_min_ps(x, hi), lo));
    _mm256_mask_storeu_epi16(w + s, mask, _mm512_cvtepi32_epi16(r));
  }
}

void Dots(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride, int32_t* out) {
  for (size_t s0 = 0; s0 < n; s0 += 16) {
    const size_t count = n - s0 < 16 ? n - s0 : 16;
    const int8_t* r[16];
    for (size_t p = 0; p < 16; ++p) r[p] = k + (s0 + (p < count ? p : count - 1)) * k_stride;
    __m512i acc[16];
    for (int p = 0; p < 16; ++p) acc[p] = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 32 <= d; i += 32) {  // whole steps: the loads fold into vpmovsxbw
      const __m512i qv = _mm512_loadu_si512(q + i);
      for (int p = 0; p < 16; ++p) {
        const __m256i row = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r[p] + i));
        acc[p] = _mm512_dpwssd_epi32(acc[p], qv, _mm512_cvtepi8_epi16(row));
      }
    }
    if (i < d) {
      const __mmask32 mask = ByteMask32(d - i);
      const __m512i qv = _mm512_maskz_loadu_epi16(mask, q + i);
      for (int p = 0; p < 16; ++p) {
        acc[p] = _mm512_dpwssd_epi32(acc[p], qv, _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mask, r[p] + i)));
      }
    }
    _mm512_mask_storeu_epi32(out + s0, WordMask16(count), Sum16x16(acc));
  }
}

void Sums(size_t n, size_t d, const int16_t* w, const int8_t* v, size_t v_stride, bool accumulate, int32_t* out) {
  size_t i = 0;
  for (; i + 64 <= d; i += 64) ValuesBlock<true>(n, d - i, w, v + i, v_stride, accumulate, out + i);
  if (i < d) ValuesBlock<false>(n, d - i, w, v + i, v_stride, accumulate, out + i);
}

}  // namespace

EF_DEFINE_ATTN_I8_ENTRY_POINTS(attn_i8_scores_16p__avx512vnni, attn_i8_values_64d__avx512vnni)

}  // namespace avx512vnni
}  // namespace edgeformer
