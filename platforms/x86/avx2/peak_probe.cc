// The AVX2 int8 multiply-add as its GEMM kernels issue it (qgemm_s8_4x16c4.cc: vpsignb applies
// the weights' sign to the activations, vpmaddubsw multiplies by |w| into int16 pairs, vpmaddwd
// widens the pairs, vpaddd accumulates): 8 independent chains per round, as the 4-row tile's 4
// rows x 2 halves, 32 multiply-adds each. The operands are re-read every round (an empty asm
// says they may change), so nothing is hoisted out of the loop.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace edgeformer {
namespace avx2 {

int32_t maddubs_peak_probe__avx2(size_t rounds) {
  __m256i w0 = _mm256_set1_epi8(-3), w1 = _mm256_set1_epi8(5);
  __m256i a0 = _mm256_set1_epi8(7), a1 = _mm256_set1_epi8(-9), a2 = _mm256_set1_epi8(11), a3 = _mm256_set1_epi8(-13);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (size_t r = 0; r < rounds; ++r) {
    asm volatile("" : "+x"(w0), "+x"(w1), "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3));
    const __m256i m0 = _mm256_abs_epi8(w0), m1 = _mm256_abs_epi8(w1);
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(m0, _mm256_sign_epi8(a0, w0)), ones));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(m1, _mm256_sign_epi8(a0, w1)), ones));
    c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_maddubs_epi16(m0, _mm256_sign_epi8(a1, w0)), ones));
    c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_maddubs_epi16(m1, _mm256_sign_epi8(a1, w1)), ones));
    c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(_mm256_maddubs_epi16(m0, _mm256_sign_epi8(a2, w0)), ones));
    c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(_mm256_maddubs_epi16(m1, _mm256_sign_epi8(a2, w1)), ones));
    c6 = _mm256_add_epi32(c6, _mm256_madd_epi16(_mm256_maddubs_epi16(m0, _mm256_sign_epi8(a3, w0)), ones));
    c7 = _mm256_add_epi32(c7, _mm256_madd_epi16(_mm256_maddubs_epi16(m1, _mm256_sign_epi8(a3, w1)), ones));
  }
  const __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                                     _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
  const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  return _mm_cvtsi128_si32(_mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E))) +
         _mm_extract_epi32(_mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E)), 1);
}

}  // namespace avx2
}  // namespace edgeformer
