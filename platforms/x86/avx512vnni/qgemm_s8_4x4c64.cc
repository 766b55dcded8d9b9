// int8 GEMM for AVX512-VNNI: four activation rows (one for leftover rows and decode) x four weight
// rows, 64 values of k per step.
//
// vpdpbusd multiplies unsigned by signed bytes and accumulates groups of four into int32 without
// saturation. Activations are biased by 128 (a ^ 0x80) to become unsigned, so the tile computes
// sum((a + 128) * w); the driver subtracts 128 * sum(w) (the weight row sums) to get the exact
// signed result.
// GCC 12's AVX-512 headers pass _mm*_undefined_*() as unused merge sources, which its
// -W(maybe-)uninitialized falsely reports where they are inlined (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

// The four horizontal sums of c0..c3, as lanes 0..3.
inline __m128i Sum4(__m512i c0, __m512i c1, __m512i c2, __m512i c3) {
  auto half = [](__m512i v) {
    const __m256i s = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  };
  const __m128i s01 = _mm_hadd_epi32(half(c0), half(c1));
  const __m128i s23 = _mm_hadd_epi32(half(c2), half(c3));
  return _mm_hadd_epi32(s01, s23);
}

template <size_t MR>
struct TileMx4 {
  static constexpr size_t kMR = MR;
  static constexpr size_t kNR = 4;
  static constexpr int32_t kActivationBias = 128;

  static void Run(size_t k, const int8_t* const a[MR], const int8_t* const w[4], int32_t acc[MR][4]) {
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512i c[MR][4];
    for (size_t i = 0; i < MR; ++i)
      for (int j = 0; j < 4; ++j) c[i][j] = _mm512_setzero_si512();
    for (size_t kk = 0; kk < k; kk += 64) {
      // Masked loads read only the valid tail and fill the rest with zeros; a zero weight adds
      // nothing whatever the biased activation is.
      const size_t rem = k - kk;
      const __mmask64 mask = rem >= 64 ? ~__mmask64{0} : ((__mmask64{1} << rem) - 1);
      __m512i av[MR], wv[4];
      for (size_t i = 0; i < MR; ++i) av[i] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, a[i] + kk), bias);
      for (int j = 0; j < 4; ++j) wv[j] = _mm512_maskz_loadu_epi8(mask, w[j] + kk);
      for (size_t i = 0; i < MR; ++i)
        for (int j = 0; j < 4; ++j) c[i][j] = _mm512_dpbusd_epi32(c[i][j], av[i], wv[j]);
    }
    for (size_t i = 0; i < MR; ++i) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(acc[i]), Sum4(c[i][0], c[i][1], c[i][2], c[i][3]));
    }
  }
};

}  // namespace

void qgemm_s8_4x4c64__avx512vnni(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                 const float* a_scale, const int8_t* w, size_t w_stride,
                                 const float* w_scale, const int32_t* w_row_sum, float* c,
                                 size_t c_stride) {
  QGemmDriver<TileMx4<4>, TileMx4<1>>(m, n, k, a, a_stride, a_scale, w, w_stride, w_scale, w_row_sum, c, c_stride);
}

}  // namespace avx512vnni
}  // namespace edgeformer
