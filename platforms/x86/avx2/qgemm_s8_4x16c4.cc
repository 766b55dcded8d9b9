// int8 GEMM for AVX2 over Blocked16x4 weights: tiles of up to 4 activation rows x 1 block (16
// output channels, two ymm of 8). Per group of 4 inputs, a 64-byte block row holds 16 channels x
// 4 inputs; each activation row's 4 values are broadcast.
//
// vpmaddubsw multiplies unsigned by signed bytes and saturates pairs to int16. To stay exact with
// weights in [-128, 127] and activations in [-127, 127], it multiplies |w| (<= 128, unsigned) by
// a * sign(w) (in [-127, 127]): a pair sums to at most 2 * 128 * 127 = 32512, no saturation.
// vpmaddwd then adds pairs into int32 lanes, one per channel.
//
// A tile of 2 or more rows that streams its weights from memory prefetches them kPrefetchBytes
// ahead into L2, as the AVX512-VNNI kernel does (its comment says why). On Zen 4 running this
// kernel, M's FFN matrices from the page cache (medians of interleaved runs): 2 rows 618 -> 490
// us, 4 rows 863 -> 750 us, 5 rows (4 + 1) 1124 -> 932 us; one row (476 us) has none.
#include <immintrin.h>

#include <cstring>

#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"
#include "platforms/x86/ymm_util.h"

namespace edgeformer {
namespace avx2 {
namespace {

struct Micro {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNB = 1;
  static constexpr size_t kPrefetchBytes = 8192;

  template <size_t MR, size_t NB>
  static void Tile(const QGemmTileArgs& t) {
    static_assert(NB == 1, "one block per tile");
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[MR][2];
    for (size_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    const size_t groups = BlockedCols(t.k) / kGroupCols;
    const int8_t* w = t.w;
    const bool prefetch = MR >= 2 && t.first_rows;
    for (size_t g = 0; g < groups; ++g, w += kBlockGroupBytes) {
      // Through an integer: the address may lie past the weights (a prefetch never faults).
      if (prefetch) _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(w) + kPrefetchBytes), _MM_HINT_T1);
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
      const __m256i abs0 = _mm256_abs_epi8(w0), abs1 = _mm256_abs_epi8(w1);
      for (size_t i = 0; i < MR; ++i) {
        int32_t a4;
        std::memcpy(&a4, t.a + i * t.a_stride + g * kGroupCols, sizeof(a4));
        const __m256i av = _mm256_set1_epi32(a4);
        const __m256i p0 = _mm256_maddubs_epi16(abs0, _mm256_sign_epi8(av, w0));
        const __m256i p1 = _mm256_maddubs_epi16(abs1, _mm256_sign_epi8(av, w1));
        acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(p0, ones));
        acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(p1, ones));
      }
    }
    for (size_t h = 0; h < 2; ++h) {
      const size_t col = h * 8;
      if (col >= t.n_valid) break;
      const __m256 w_scale = _mm256_loadu_ps(t.w_scale + col);
      for (size_t i = 0; i < MR; ++i) {
        const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(t.a_scale[i]), w_scale);
        const __m256 out = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[i][h]), scale);
        StoreFirst8(t.c + i * t.c_stride + col, out, t.n_valid - col);
      }
    }
  }
};

}  // namespace

void qgemm_s8_4x16c4__avx2(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                           const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                           size_t c_stride) {
  QGemmBlocked<Micro>(m, n, k, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride);
}

}  // namespace avx2
}  // namespace edgeformer
