// QuantizeRowsFn (kernels.h) with AVX2, 8 values per vector, bit for bit the reference's
// (platforms/reference/quantize_rows.cc) through the shared row loop
// (platforms/common/quantize_rows.h): the same integer maximum, IEEE multiply, clamps and
// 1.5 * 2^23 rounding per value; the 32-value sums are exact. A row's last n % 8 values go
// through an 8-float buffer (zeros past n).
#include "platforms/x86/intrinsics.h"

#include <cstring>

#include "platforms/common/quantize_rows.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx2 {
namespace {

// The 8 floats at x[j], or the n - j < 8 left and zeros.
inline __m256 Load8(const float* x, size_t n, size_t j) {
  if (n - j >= 8) return _mm256_loadu_ps(x + j);
  float buf[8] = {};
  std::memcpy(buf, x + j, (n - j) * sizeof(float));
  return _mm256_loadu_ps(buf);
}

struct Lanes {
  static int32_t AbsMaxBits(const float* x, size_t n) {
    const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
    const __m256i inf = _mm256_set1_epi32(0x7f800000);
    __m256i m = _mm256_setzero_si256();
    for (size_t j = 0; j < n; j += 8) {
      const __m256i u = _mm256_and_si256(_mm256_castps_si256(Load8(x, n, j)), abs_mask);
      m = _mm256_max_epi32(m, _mm256_andnot_si256(_mm256_cmpgt_epi32(u, inf), u));  // NaN -> 0
    }
    int32_t lanes[8];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), m);
    int32_t bits = 0;
    for (const int32_t l : lanes) bits = l > bits ? l : bits;
    return bits;
  }
  static void Quantize(const float* x, size_t n, float inv_scalar, int8_t* q) {
    const __m256 round = _mm256_set1_ps(12582912.0f);  // 1.5 * 2^23
    const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    const __m256 inv = _mm256_set1_ps(inv_scalar);
    for (size_t j = 0; j < n; j += 8) {
      __m256 v = _mm256_mul_ps(Load8(x, n, j), inv);
      v = _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_ORD_Q), v);  // NaN -> 0
      v = _mm256_max_ps(_mm256_min_ps(v, hi), lo);
      v = _mm256_sub_ps(_mm256_add_ps(v, round), round);
      const __m256i i32 = _mm256_cvttps_epi32(v);
      const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
      const __m128i i8 = _mm_packs_epi16(i16, i16);
      if (n - j >= 8) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(q + j), i8);
      } else {
        int8_t tail[16];
        _mm_storeu_si128(reinterpret_cast<__m128i*>(tail), i8);
        std::memcpy(q + j, tail, n - j);
      }
    }
  }
  // 1 x q (unsigned by signed) adds pairs exactly into int16, madd pairs of those into int32.
  static int32_t Sum32(const int8_t* q) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), v), _mm256_set1_epi16(1));
    const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    const __m128i s2 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
    return _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 1)));
  }
};

}  // namespace

void quantize_rows_8x__avx2(const float* x, size_t m, size_t k, size_t x_stride, int8_t* q, size_t q_stride,
                            float* scales, int32_t* sums) {
  QuantizeRowsWith<Lanes>(x, m, k, x_stride, q, q_stride, scales, sums);
}

}  // namespace avx2
}  // namespace edgeformer
