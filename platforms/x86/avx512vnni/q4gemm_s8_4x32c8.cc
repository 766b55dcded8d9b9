// int4 (grouped) x int8 GEMM for AVX512-VNNI over BlockedInt4 weights: tiles of up to 4
// activation rows x 2 blocks (32 output channels). A 64-byte step of a block is 16 channels x 8
// inputs stored as nibbles q + 8: masked to its low nibbles (inputs 0-3) and shifted for its high
// ones (inputs 4-7) it is two Blocked16x4 steps of unsigned bytes, which vpdpbusd multiplies by
// each row's 4 broadcast signed activations, 16 dot products in place.
//
// Per group the sums are sum((q + 8) a); subtracting 8 times the group's activation sum leaves
// sum(q a), exact (padded columns hold q = 0, so whatever activations sit there cancel). Then
// s = s + (float)acc * scale, lane by lane in group order, a multiply and then an add as the
// reference does; c = s * a_scale.
#include "platforms/x86/intrinsics.h"

#include <cstring>

#include "platforms/kernels.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

constexpr size_t kMR = 4;
constexpr size_t kNB = 2;

struct Q4Args {
  size_t k, group, groups;
  const int8_t* a;
  size_t a_stride;
  const float* a_scale;
  const uint8_t* w;  // the tile's first block
  size_t block_bytes;
  const uint16_t* scales;  // the tile's first block's scales
  float* c;
  size_t c_stride;
  size_t n_valid;
};

template <size_t MR, size_t NB>
void Q4Tile(const Q4Args& t) {
  const __m512i low = _mm512_set1_epi8(0x0F);
  const size_t steps = t.group / kInt4Cols;
  const size_t block_scales = t.groups * kBlockRows;
  __m512 s[MR][NB];
  for (size_t i = 0; i < MR; ++i)
    for (size_t j = 0; j < NB; ++j) s[i][j] = _mm512_setzero_ps();
  for (size_t g = 0; g < t.groups; ++g) {
    // The group's activation sums (its whole width: ActivationRowBytes(k) covers the padding).
    int32_t sums[MR];
    for (size_t i = 0; i < MR; ++i) {
      const int8_t* ag = t.a + i * t.a_stride + g * t.group;
      int32_t sum = 0;
      for (size_t x = 0; x < t.group; ++x) sum += ag[x];
      sums[i] = sum;
    }
    __m512i acc[MR][NB];
    for (size_t i = 0; i < MR; ++i)
      for (size_t j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_si512();
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
        const __m512i exact = _mm512_sub_epi32(acc[i][j], _mm512_set1_epi32(8 * sums[i]));
        s[i][j] = _mm512_add_ps(s[i][j], _mm512_mul_ps(_mm512_cvtepi32_ps(exact), scale));
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

template <size_t NB>
void Q4Columns(size_t m, Q4Args t, const int8_t* a, const float* a_scale, float* c) {
  size_t i = 0;
  for (; i + kMR <= m; i += kMR) {
    t.a = a + i * t.a_stride, t.a_scale = a_scale + i, t.c = c + i * t.c_stride;
    Q4Tile<kMR, NB>(t);
  }
  for (; i < m; ++i) {
    t.a = a + i * t.a_stride, t.a_scale = a_scale + i, t.c = c + i * t.c_stride;
    Q4Tile<1, NB>(t);
  }
}

}  // namespace

void q4gemm_s8_4x32c8__avx512vnni(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                                  const float* a_scale, const uint8_t* w, const uint16_t* w_scale, float* c,
                                  size_t c_stride) {
  const size_t blocks = (n + kBlockRows - 1) / kBlockRows;
  const size_t groups = Int4Groups(k, group);
  Q4Args t{k, group, groups, a, a_stride, a_scale, w, Int4BlockBytes(k, group), w_scale, c, c_stride, 0};
  for (size_t b = 0; b < blocks;) {
    const size_t nb = b + kNB <= blocks ? kNB : 1;
    const size_t col = b * kBlockRows;
    t.w = w + b * t.block_bytes;
    t.scales = w_scale + b * groups * kBlockRows;
    t.n_valid = n - col < nb * kBlockRows ? n - col : nb * kBlockRows;
    if (nb == kNB) {
      Q4Columns<kNB>(m, t, a, a_scale, c + col);
    } else {
      Q4Columns<1>(m, t, a, a_scale, c + col);
    }
    b += nb;
  }
}

}  // namespace avx512vnni
}  // namespace edgeformer
