// int8 GEMM for AVX512-VNNI: four activation rows x four weight rows, 64 values of k per step.
//
// vpdpbusd multiplies unsigned by signed bytes and accumulates groups of four into int32 without
// saturation. Activations are biased by 128 (a ^ 0x80) to become unsigned, so the tile computes
// sum((a + 128) * w); the driver subtracts 128 * sum(w) (the weight row sums) to get the exact
// signed result.
#include <immintrin.h>

#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

// Horizontal sum of 16 int32 lanes, once per tile. (GCC 12's 512-bit extract intrinsics trip
// a false -Wuninitialized, hence the store.)
inline int32_t Sum(__m512i v) {
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, v);
  int32_t s = 0;
  for (int32_t x : lanes) s += x;
  return s;
}

struct Tile4x4 {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNR = 4;
  static constexpr int32_t kActivationBias = 128;

  static void Run(size_t k, const int8_t* const a[4], const int8_t* const w[4], int32_t acc[4][4]) {
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512i c[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) c[i][j] = _mm512_setzero_si512();
    for (size_t kk = 0; kk < k; kk += 64) {
      // Masked loads read only the valid tail and fill the rest with zeros; a zero weight adds
      // nothing whatever the biased activation is.
      const size_t rem = k - kk;
      const __mmask64 mask = rem >= 64 ? ~__mmask64{0} : ((__mmask64{1} << rem) - 1);
      __m512i av[4], wv[4];
      for (int i = 0; i < 4; ++i) av[i] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, a[i] + kk), bias);
      for (int j = 0; j < 4; ++j) wv[j] = _mm512_maskz_loadu_epi8(mask, w[j] + kk);
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) c[i][j] = _mm512_dpbusd_epi32(c[i][j], av[i], wv[j]);
    }
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) acc[i][j] = Sum(c[i][j]);
  }
};

}  // namespace

void qgemm_s8_4x4c64__avx512vnni(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                 const float* a_scale, const int8_t* w, size_t w_stride,
                                 const float* w_scale, const int32_t* w_row_sum, float* c,
                                 size_t c_stride) {
  QGemmDriver<Tile4x4>(m, n, k, a, a_stride, a_scale, w, w_stride, w_scale, w_row_sum, c, c_stride);
}

}  // namespace avx512vnni
}  // namespace edgeformer
