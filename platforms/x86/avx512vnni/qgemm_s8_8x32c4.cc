// int8 GEMM for AVX512-VNNI over Blocked16x4 weights: tiles of up to 8 activation rows x 2 blocks
// (32 output channels). Per group of 4 inputs, one 64-byte load per block is 16 channels x 4
// inputs; each row's 4 activations are broadcast to all lanes, and vpdpbusd accumulates the 16
// dot products in place: no horizontal sums.
//
// vpdpbusd multiplies unsigned by signed bytes, without saturation. Activations are biased by 128
// (a ^ 0x80) to be unsigned, so a tile computes sum((a + 128) * w), and the epilogue subtracts
// 128 * sum(w) (the row sums stored with the weights): exact.
//
// A tile of 5 or more rows that streams its weights from memory (a verification pass's, a short
// prompt's) prefetches them kPrefetchBytes ahead into L2: with 5+ vpdpbusd per 64-byte line
// waiting on each load, the out-of-order window holds too few loads in flight to keep up with
// the memory, and the hardware prefetchers stop at each 4 KiB page. On Zen 4, M's FFN matrices
// from the page cache (benchmarks/kernels_bench.cc shapes, medians of interleaved runs): 5 rows
// 1.39x a one-row call's time without, 1.16x with; 6 and 7 rows 1.6-1.8x without, 1.05-1.1x with.
// Fewer rows are memory-bound already, and prefetching slowed them (2-4 rows by 5-15%).
#include "platforms/x86/intrinsics.h"

#include <cstring>

#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

struct Micro {
  static constexpr size_t kMR = 8;
  static constexpr size_t kNB = 2;

  // Inputs per chunk whose biased activations are staged on the stack.
  static constexpr size_t kChunk = 256;
  // A streaming tile of at least kPrefetchRows rows prefetches its weights kPrefetchBytes ahead.
  static constexpr size_t kPrefetchRows = 5;
  static constexpr size_t kPrefetchBytes = 8192;

  template <size_t MR, size_t NB>
  static void Tile(const QGemmTileArgs& t) {
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512i acc[MR][NB];
    for (size_t i = 0; i < MR; ++i)
      for (size_t j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_si512();
    const size_t cols = BlockedCols(t.k);
    const size_t block_bytes = BlockBytes(t.k);
    const int8_t* w = t.w;
    // The activations of a chunk are biased once (64 bytes per instruction) into a stack copy, so
    // the inner loop spends its vector ALU ports on vpdpbusd alone: each row's 4 bytes are
    // broadcast straight from memory (a load, no ALU). Reading whole 64-byte steps stays within
    // ActivationRowBytes(k); W is zero past k, so the junk there adds nothing.
    alignas(64) uint8_t biased[MR][kChunk];
    const bool prefetch = MR >= kPrefetchRows && t.first_rows;
    for (size_t c0 = 0; c0 < cols; c0 += kChunk) {
      const size_t chunk = cols - c0 < kChunk ? cols - c0 : kChunk;
      for (size_t i = 0; i < MR; ++i) {
        for (size_t x = 0; x < chunk; x += 64) {
          const __m512i v = _mm512_loadu_si512(t.a + i * t.a_stride + c0 + x);
          _mm512_store_si512(&biased[i][x], _mm512_xor_si512(v, bias));
        }
      }
      for (size_t g = 0; g < chunk; g += kGroupCols, w += kBlockGroupBytes) {
        __m512i wv[NB];
        for (size_t j = 0; j < NB; ++j) wv[j] = _mm512_loadu_si512(w + j * block_bytes);
        if (prefetch) {
          for (size_t j = 0; j < NB; ++j) {
            // Through an integer: the address may lie past the weights (a prefetch never faults).
            _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(w + j * block_bytes) + kPrefetchBytes),
                         _MM_HINT_T1);
          }
        }
        for (size_t i = 0; i < MR; ++i) {
          int32_t a4;
          std::memcpy(&a4, &biased[i][g], sizeof(a4));
          const __m512i av = _mm512_set1_epi32(a4);
          for (size_t j = 0; j < NB; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, wv[j]);
        }
      }
    }
    for (size_t j = 0; j < NB; ++j) {
      const size_t col = j * kBlockRows;
      if (col >= t.n_valid) break;
      const __mmask16 mask = t.n_valid - col >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (t.n_valid - col)) - 1);
      const __m512i bias_sum = _mm512_slli_epi32(_mm512_loadu_si512(t.w_row_sum + col), 7);  // 128 * sum(w)
      const __m512 w_scale = _mm512_loadu_ps(t.w_scale + col);
      for (size_t i = 0; i < MR; ++i) {
        const __m512 acc_f = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][j], bias_sum));
        const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(t.a_scale[i]), w_scale);
        _mm512_mask_storeu_ps(t.c + i * t.c_stride + col, mask, _mm512_mul_ps(acc_f, scale));
      }
    }
  }
};

}  // namespace

void qgemm_s8_8x32c4__avx512vnni(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                 const float* a_scale, const int8_t* w, const float* w_scale,
                                 const int32_t* w_row_sum, float* c, size_t c_stride) {
  QGemmBlocked<Micro>(m, n, k, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride);
}

}  // namespace avx512vnni
}  // namespace edgeformer
