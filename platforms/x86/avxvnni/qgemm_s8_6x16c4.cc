// int8 GEMM for AVX-VNNI over Blocked16x4 weights: tiles of up to 6 activation rows x 1 block (16
// output channels, two ymm of 8). Per group of 4 inputs a 64-byte block row is 16 channels x 4
// inputs; each row's 4 activations are broadcast, and vpdpbusd accumulates the dot products in
// place (12 accumulators, 2 weight registers and a broadcast: 15 of the 16 ymm).
//
// vpdpbusd multiplies unsigned by signed bytes, without saturation. Activations are biased by 128
// (a ^ 0x80) to be unsigned, so a tile computes sum((a + 128) * w), and the epilogue subtracts
// 128 * sum(w) (the row sums stored with the weights): exact. c = (float)acc * (a_scale * w_scale),
// the reference's arithmetic.
#include "platforms/x86/avxvnni/vnni256.h"

#include <cstring>

#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"
#include "platforms/x86/ymm_util.h"

namespace edgeformer {
namespace EDGEFORMER_AVXVNNI_NS {
namespace {

struct Micro {
  static constexpr size_t kMR = 6;
  static constexpr size_t kNB = 1;

  // Inputs per chunk whose biased activations are staged on the stack.
  static constexpr size_t kChunk = 256;

  template <size_t MR, size_t NB>
  static void Tile(const QGemmTileArgs& t) {
    static_assert(NB == 1, "one block per tile");
    const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
    __m256i acc[MR][2];
    for (size_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    const size_t cols = BlockedCols(t.k);
    const int8_t* w = t.w;
    // A chunk's activations are biased once (32 bytes per instruction) into a stack copy, so the
    // inner loop's broadcasts come straight from memory. Whole 32-byte reads stay within
    // ActivationRowBytes(k); W is zero past k, so the junk there adds nothing.
    alignas(32) uint8_t biased[MR][kChunk];
    for (size_t c0 = 0; c0 < cols; c0 += kChunk) {
      const size_t chunk = cols - c0 < kChunk ? cols - c0 : kChunk;
      for (size_t i = 0; i < MR; ++i) {
        for (size_t x = 0; x < chunk; x += 32) {
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.a + i * t.a_stride + c0 + x));
          _mm256_store_si256(reinterpret_cast<__m256i*>(&biased[i][x]), _mm256_xor_si256(v, bias));
        }
      }
      for (size_t g = 0; g < chunk; g += kGroupCols, w += kBlockGroupBytes) {
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
        const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
        for (size_t i = 0; i < MR; ++i) {
          int32_t a4;
          std::memcpy(&a4, &biased[i][g], sizeof(a4));
          const __m256i av = _mm256_set1_epi32(a4);
          acc[i][0] = Dpbusd(acc[i][0], av, w0);
          acc[i][1] = Dpbusd(acc[i][1], av, w1);
        }
      }
    }
    for (size_t h = 0; h < 2; ++h) {
      const size_t col = h * 8;
      if (col >= t.n_valid) break;
      const __m256i bias_sum = _mm256_slli_epi32(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.w_row_sum + col)), 7);  // 128 * sum(w)
      const __m256 w_scale = _mm256_loadu_ps(t.w_scale + col);
      for (size_t i = 0; i < MR; ++i) {
        const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(t.a_scale[i]), w_scale);
        const __m256 out = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[i][h], bias_sum)), scale);
        StoreFirst8(t.c + i * t.c_stride + col, out, t.n_valid - col);
      }
    }
  }
};

}  // namespace

void qgemm_s8_6x16c4__avxvnni(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                              const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                              size_t c_stride) {
  QGemmBlocked<Micro>(m, n, k, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride);
}

}  // namespace EDGEFORMER_AVXVNNI_NS
}  // namespace edgeformer
