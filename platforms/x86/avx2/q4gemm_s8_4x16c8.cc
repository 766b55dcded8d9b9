// int4 (grouped) x int8 GEMM for AVX2 over BlockedInt4 weights: tiles of up to 4 activation rows
// x 1 block (16 output channels, two ymm halves of 8). A 64-byte step of a block is 16 channels x
// 8 inputs as nibbles q + 8; masked to its low nibbles and shifted for its high ones it is two
// Blocked16x4 steps of unsigned bytes in [0, 15]. vpmaddubsw multiplies them by each row's 4
// broadcast signed activations and adds pairs into int16 lanes, one lane holding 2 inputs of a
// channel (at most 2 x 15 x 127).
//
// The int16 lanes keep adding over a whole span of 32 inputs (4 steps: 16 products of at most
// 15 x 127 each, 30,480 < 32,767: no saturation), and only then vpmaddwd by ones widens each pair
// of lanes into the channel's int32 sum. One widening per 32 inputs instead of one per 8 is what
// frees the registers for 4 rows. Groups of 64 and 128 add their spans' int32 sums.
//
// Per span the sums are sum((q + 8) a); taking off 8 times the span's activation sum leaves
// sum(q a), exact. Then s = s + (float)acc * scale lane by lane in group order (a multiply, then
// an add), c = s * a_scale: the reference's arithmetic.
#include "platforms/x86/intrinsics.h"

#include <cstring>

#include "platforms/common/q4gemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace avx2 {
namespace {

constexpr size_t kSpanSteps = 32 / kInt4Cols;  // steps of 8 inputs one int16 sum can hold

struct Micro {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNB = 1;

  template <size_t MR, size_t NB>
  static void Tile(const Q4TileArgs& t);
};

inline __m256i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

// The value as is, in a register the compiler must produce here: it keeps GCC from reassociating
// the span's additions into a tree that computes every product first and spills them.
inline __m256i Pinned(__m256i v) {
  __asm__("" : "+x"(v));
  return v;
}

// The tile for groups of kSpans spans of 32 inputs (0: t.group / 32, known at run time).
template <size_t MR, size_t kSpans>
void TileSpans(const Q4TileArgs& t) {
  const __m256i low = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  const size_t spans = kSpans ? kSpans : t.group / 32;
  const size_t row_sums = t.a_stride / 32;
  __m256 s[MR][2];
  for (size_t i = 0; i < MR; ++i) s[i][0] = s[i][1] = _mm256_setzero_ps();
  for (size_t g = 0; g < t.groups; ++g) {
    __m256i acc[MR][2];
    for (size_t sp = 0; sp < spans; ++sp) {
      const size_t span = g * spans + sp;
      const uint8_t* wp = t.w + span * kSpanSteps * kBlockGroupBytes;
      __m256i sum16[MR][2];
      for (size_t i = 0; i < MR; ++i) sum16[i][0] = sum16[i][1] = _mm256_setzero_si256();
      for (size_t st = 0; st < kSpanSteps; ++st) {
        __m256i lo[2], hi[2];
        for (size_t h = 0; h < 2; ++h) {
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + st * kBlockGroupBytes + h * 32));
          lo[h] = _mm256_and_si256(v, low);
          hi[h] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
        }
        for (size_t i = 0; i < MR; ++i) {
          const int8_t* ap = t.a + i * t.a_stride + span * 32 + st * kInt4Cols;
          const __m256i al = Broadcast4(ap), ah = Broadcast4(ap + 4);
          for (size_t h = 0; h < 2; ++h) {
            const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo[h], al), _mm256_maddubs_epi16(hi[h], ah));
            sum16[i][h] = Pinned(_mm256_add_epi16(sum16[i][h], p));
          }
        }
      }
      for (size_t i = 0; i < MR; ++i) {
        // 8 x the span's activation sum, taken off sum((q + 8) a).
        const __m256i bias = _mm256_slli_epi32(_mm256_set1_epi32(t.a_sums[i * row_sums + span]), 3);
        for (size_t h = 0; h < 2; ++h) {
          const __m256i exact = _mm256_sub_epi32(_mm256_madd_epi16(sum16[i][h], ones), bias);
          acc[i][h] = sp == 0 ? exact : _mm256_add_epi32(acc[i][h], exact);
        }
      }
    }
    for (size_t h = 0; h < 2; ++h) {
      const __m256 scale = _mm256_cvtph_ps(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.scales + g * kBlockRows + h * 8)));
      for (size_t i = 0; i < MR; ++i) {
        s[i][h] = _mm256_add_ps(s[i][h], _mm256_mul_ps(_mm256_cvtepi32_ps(acc[i][h]), scale));
      }
    }
  }
  for (size_t i = 0; i < MR; ++i) {
    alignas(32) float out[16];
    const __m256 a_scale = _mm256_set1_ps(t.a_scale[i]);
    _mm256_store_ps(out, _mm256_mul_ps(s[i][0], a_scale));
    _mm256_store_ps(out + 8, _mm256_mul_ps(s[i][1], a_scale));
    std::memcpy(t.c + i * t.c_stride, out, t.n_valid * sizeof(float));
  }
}

template <size_t MR, size_t NB>
void Micro::Tile(const Q4TileArgs& t) {
  static_assert(NB == 1, "one block per tile");
  if (t.group == 32) {
    TileSpans<MR, 1>(t);
  } else {
    TileSpans<MR, 0>(t);
  }
}

}  // namespace

void q4gemm_s8_4x16c8__avx2(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                            const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale, float* c,
                            size_t c_stride) {
  Q4GemmBlocked<Micro>(m, n, k, group, a, a_stride, a_scale, a_sums, w, w_scale, c, c_stride);
}

}  // namespace avx2
}  // namespace edgeformer
