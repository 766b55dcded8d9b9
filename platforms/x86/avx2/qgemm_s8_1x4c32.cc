// int8 GEMM for AVX2: one activation row x four weight rows, 32 values of k per step.
//
// vpmaddubsw multiplies unsigned by signed bytes and saturates pairs to int16. To stay exact with
// signed weights in [-128, 127] and activations in [-127, 127], it multiplies |w| (<= 128, as
// unsigned) by a * sign(w) (in [-127, 127]): each pair sums to at most 2 * 128 * 127 = 32512, so
// nothing saturates. vpmaddwd then widens pairs to int32.
#include <immintrin.h>

#include <cstring>

#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx2 {
namespace {

struct Tile1x4 {
  static constexpr size_t kMR = 1;
  static constexpr size_t kNR = 4;
  static constexpr int32_t kActivationBias = 0;

  static inline __m256i Dot(__m256i acc, __m256i a, __m256i w, __m256i ones) {
    const __m256i prod16 = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(prod16, ones));
  }

  static inline int32_t Sum(__m256i v) {
    const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i s2 = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    const __m128i s3 = _mm_add_epi32(s2, _mm_shuffle_epi32(s2, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s3);
  }

  static void Run(size_t k, const int8_t* const a[1], const int8_t* const w[4], int32_t acc[1][4]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
    size_t kk = 0;
    for (; kk + 32 <= k; kk += 32) {
      const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[0] + kk));
      c0 = Dot(c0, av, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[0] + kk)), ones);
      c1 = Dot(c1, av, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[1] + kk)), ones);
      c2 = Dot(c2, av, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[2] + kk)), ones);
      c3 = Dot(c3, av, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[3] + kk)), ones);
    }
    if (kk < k) {
      // Tail: copy the last k - kk values into zero-padded blocks (zeros add nothing).
      alignas(32) int8_t buf[5][32] = {};
      const size_t rem = k - kk;
      std::memcpy(buf[0], a[0] + kk, rem);
      for (int j = 0; j < 4; ++j) std::memcpy(buf[j + 1], w[j] + kk, rem);
      const __m256i av = _mm256_load_si256(reinterpret_cast<const __m256i*>(buf[0]));
      c0 = Dot(c0, av, _mm256_load_si256(reinterpret_cast<const __m256i*>(buf[1])), ones);
      c1 = Dot(c1, av, _mm256_load_si256(reinterpret_cast<const __m256i*>(buf[2])), ones);
      c2 = Dot(c2, av, _mm256_load_si256(reinterpret_cast<const __m256i*>(buf[3])), ones);
      c3 = Dot(c3, av, _mm256_load_si256(reinterpret_cast<const __m256i*>(buf[4])), ones);
    }
    acc[0][0] = Sum(c0);
    acc[0][1] = Sum(c1);
    acc[0][2] = Sum(c2);
    acc[0][3] = Sum(c3);
  }
};

}  // namespace

void qgemm_s8_1x4c32__avx2(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                           const float* a_scale, const int8_t* w, size_t w_stride,
                           const float* w_scale, const int32_t* w_row_sum, float* c,
                           size_t c_stride) {
  QGemmDriver<Tile1x4, Tile1x4>(m, n, k, a, a_stride, a_scale, w, w_stride, w_scale, w_row_sum, c, c_stride);
}

}  // namespace avx2
}  // namespace edgeformer
