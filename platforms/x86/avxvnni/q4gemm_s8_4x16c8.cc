// int4 (grouped) x int8 GEMM for AVX-VNNI over BlockedInt4 weights: tiles of up to 4 activation
// rows x 1 block (16 output channels, two ymm halves of 8). A 64-byte step of a block is 16
// channels x 8 inputs as nibbles q + 8; masked to its low nibbles and shifted for its high ones it
// is two Blocked16x4 steps of unsigned bytes in [0, 15], which vpdpbusd multiplies by each row's
// 4 broadcast signed activations, adding into the channel's int32 lane.
//
// Each group's accumulators start at -8 times the group's activation sum, so they end at
// sum(q a), exact. Then s = s + (float)acc * scale lane by lane in group order (a multiply, then
// an add), c = s * a_scale: the reference's arithmetic.
#include "platforms/x86/avxvnni/vnni256.h"

#include <cstring>

#include "platforms/common/q4gemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace EDGEFORMER_AVXVNNI_NS {
namespace {

struct Micro {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNB = 1;

  template <size_t MR, size_t NB>
  static void Tile(const Q4TileArgs& t);
};

template <size_t MR, size_t NB>
void Micro::Tile(const Q4TileArgs& t) {
  static_assert(NB == 1, "one block per tile");
  const __m256i low = _mm256_set1_epi8(0x0F);
  const size_t steps = t.group / kInt4Cols;
  // The float sums live on the stack, touched once per group: in registers they would push the
  // accumulators out of the 16 ymm (8 accumulators, 4 unpacked weight vectors, a mask and 2
  // broadcasts fill them).
  alignas(32) float s[MR][16] = {};
  for (size_t g = 0; g < t.groups; ++g) {
    int32_t sums[MR];
    Q4GroupSums<MR>(t, g, sums);
    __m256i acc[MR][2];
    for (size_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_set1_epi32(-8 * sums[i]);
    const uint8_t* wg = t.w + g * steps * kBlockGroupBytes;
    for (size_t st = 0; st < steps; ++st) {
      __m256i lo[2], hi[2];
      for (size_t h = 0; h < 2; ++h) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg + st * kBlockGroupBytes + h * 32));
        lo[h] = _mm256_and_si256(v, low);
        hi[h] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
      }
      for (size_t i = 0; i < MR; ++i) {
        const int8_t* ap = t.a + i * t.a_stride + g * t.group + st * kInt4Cols;
        int32_t a_lo, a_hi;
        std::memcpy(&a_lo, ap, sizeof(a_lo));
        std::memcpy(&a_hi, ap + 4, sizeof(a_hi));
        const __m256i al = _mm256_set1_epi32(a_lo), ah = _mm256_set1_epi32(a_hi);
        for (size_t h = 0; h < 2; ++h) {
          acc[i][h] = Dpbusd(acc[i][h], lo[h], al);
          acc[i][h] = Dpbusd(acc[i][h], hi[h], ah);
        }
      }
    }
    for (size_t h = 0; h < 2; ++h) {
      const __m256 scale = _mm256_cvtph_ps(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.scales + g * kBlockRows + h * 8)));
      for (size_t i = 0; i < MR; ++i) {
        float* sp = &s[i][h * 8];
        _mm256_store_ps(sp, _mm256_add_ps(_mm256_load_ps(sp), _mm256_mul_ps(_mm256_cvtepi32_ps(acc[i][h]), scale)));
      }
    }
  }
  for (size_t i = 0; i < MR; ++i) {
    alignas(32) float out[16];
    const __m256 a_scale = _mm256_set1_ps(t.a_scale[i]);
    _mm256_store_ps(out, _mm256_mul_ps(_mm256_load_ps(&s[i][0]), a_scale));
    _mm256_store_ps(out + 8, _mm256_mul_ps(_mm256_load_ps(&s[i][8]), a_scale));
    std::memcpy(t.c + i * t.c_stride, out, t.n_valid * sizeof(float));
  }
}

}  // namespace

void q4gemm_s8_4x16c8__avxvnni(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                               const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale,
                               float* c, size_t c_stride) {
  Q4GemmBlocked<Micro>(m, n, k, group, a, a_stride, a_scale, a_sums, w, w_scale, c, c_stride);
}

}  // namespace EDGEFORMER_AVXVNNI_NS
}  // namespace edgeformer
