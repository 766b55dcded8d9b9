// int4 (grouped) x int8 GEMM for AVX512-VNNI over BlockedInt4 weights: tiles of up to 4
// activation rows x 2 blocks (32 output channels). A 64-byte step of a block is 16 channels x 8
// inputs stored as nibbles q + 8: masked to its low nibbles (inputs 0-3) and shifted for its high
// ones (inputs 4-7) it is two Blocked16x4 steps of unsigned bytes, which vpdpbusd multiplies by
// each row's 4 broadcast signed activations, 16 dot products in place.
//
// Per group the sums are sum((q + 8) a); starting them at -8 times the group's activation sum
// leaves sum(q a), exact (padded columns hold q = 0, so whatever activations sit there cancel). Then
// s = s + (float)acc * scale, lane by lane in group order, a multiply and then an add as the
// reference does; c = s * a_scale.
#include "platforms/x86/intrinsics.h"

#include <cstring>

#include "platforms/common/q4gemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

struct Micro {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNB = 2;

  template <size_t MR, size_t NB>
  static void Tile(const Q4TileArgs& t);
};

template <size_t MR, size_t NB>
void Micro::Tile(const Q4TileArgs& t) {
  const __m512i low = _mm512_set1_epi8(0x0F);
  const size_t steps = t.group / kInt4Cols;
  const size_t block_scales = t.groups * kBlockRows;
  __m512 s[MR][NB];
  for (size_t i = 0; i < MR; ++i)
    for (size_t j = 0; j < NB; ++j) s[i][j] = _mm512_setzero_ps();
  for (size_t g = 0; g < t.groups; ++g) {
    int32_t sums[MR];
    Q4GroupSums<MR>(t, g, sums);
    // Starting at -8 times the group's activation sum leaves sum(q a) at the end.
    __m512i acc[MR][NB];
    for (size_t i = 0; i < MR; ++i) {
      const __m512i start = _mm512_set1_epi32(-8 * sums[i]);
      for (size_t j = 0; j < NB; ++j) acc[i][j] = start;
    }
    const uint8_t* wg = t.w + g * steps * kBlockGroupBytes;
    for (size_t st = 0; st < steps; ++st) {
      __m512i lo[NB], hi[NB];
      for (size_t j = 0; j < NB; ++j) {
        const __m512i v = _mm512_loadu_si512(wg + j * t.block_bytes + st * kBlockGroupBytes);
        lo[j] = _mm512_and_si512(v, low);
        hi[j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
      }
      for (size_t i = 0; i < MR; ++i) {
        const int8_t* ap = t.a + i * t.a_stride + g * t.group + st * kInt4Cols;
        int32_t a_lo, a_hi;
        std::memcpy(&a_lo, ap, sizeof(a_lo));
        std::memcpy(&a_hi, ap + 4, sizeof(a_hi));
        const __m512i al = _mm512_set1_epi32(a_lo), ah = _mm512_set1_epi32(a_hi);
        for (size_t j = 0; j < NB; ++j) {
          acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], lo[j], al);
          acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], hi[j], ah);
        }
      }
    }
    for (size_t j = 0; j < NB; ++j) {
      const __m512 scale = _mm512_cvtph_ps(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.scales + j * block_scales + g * kBlockRows)));
      for (size_t i = 0; i < MR; ++i) {
        s[i][j] = _mm512_add_ps(s[i][j], _mm512_mul_ps(_mm512_cvtepi32_ps(acc[i][j]), scale));
      }
    }
  }
  for (size_t j = 0; j < NB; ++j) {
    const size_t col = j * kBlockRows;
    if (col >= t.n_valid) break;
    const __mmask16 mask = t.n_valid - col >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (t.n_valid - col)) - 1);
    for (size_t i = 0; i < MR; ++i) {
      _mm512_mask_storeu_ps(t.c + i * t.c_stride + col, mask, _mm512_mul_ps(s[i][j], _mm512_set1_ps(t.a_scale[i])));
    }
  }
}

}  // namespace

void q4gemm_s8_4x32c8__avx512vnni(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                                  const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale, float* c,
                                  size_t c_stride) {
  Q4GemmBlocked<Micro>(m, n, k, group, a, a_stride, a_scale, a_sums, w, w_scale, c, c_stride);
}

}  // namespace avx512vnni
}  // namespace edgeformer
