// QuantizeRowsFn (kernels.h) with AVX-512, 16 values per vector, bit for bit the reference's
// (platforms/reference/quantize_rows.cc) through the shared row loop
// (platforms/common/quantize_rows.h): the same integer maximum, IEEE multiply, clamps and
// 1.5 * 2^23 rounding per value; the 32-value sums are exact. A row's tail is masked.
#include "platforms/x86/intrinsics.h"

#include "platforms/common/quantize_rows.h"
#include "platforms/kernels.h"
#include "platforms/x86/avx512vnni/exp_lanes.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

struct Lanes {
  static int32_t AbsMaxBits(const float* x, size_t n) {
    const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff);
    const __m512i inf = _mm512_set1_epi32(0x7f800000);
    __m512i m = _mm512_setzero_si512();
    for (size_t j = 0; j < n; j += 16) {
      const __m512i u = _mm512_and_si512(_mm512_maskz_loadu_epi32(Mask(n - j), x + j), abs_mask);
      m = _mm512_max_epi32(m, _mm512_maskz_mov_epi32(_mm512_cmple_epi32_mask(u, inf), u));  // NaN -> 0
    }
    return _mm512_reduce_max_epi32(m);
  }
  static void Quantize(const float* x, size_t n, float inv_scalar, int8_t* q) {
    const __m512 round = _mm512_set1_ps(12582912.0f);  // 1.5 * 2^23
    const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    const __m512 inv = _mm512_set1_ps(inv_scalar);
    for (size_t j = 0; j < n; j += 16) {
      const __mmask16 mask = Mask(n - j);
      __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + j), inv);
      v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);  // NaN -> 0
      v = _mm512_max_ps(_mm512_min_ps(v, hi), lo);
      v = _mm512_sub_ps(_mm512_add_ps(v, round), round);
      _mm_mask_storeu_epi8(q + j, mask, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));
    }
  }
  static int32_t Sum32(const int8_t* q) {
    const __m512i v16 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    return _mm512_reduce_add_epi32(_mm512_madd_epi16(v16, _mm512_set1_epi16(1)));
  }
};

}  // namespace

void quantize_rows_16x__avx512vnni(const float* x, size_t m, size_t k, size_t x_stride, int8_t* q, size_t q_stride,
                                   float* scales, int32_t* sums) {
  QuantizeRowsWith<Lanes>(x, m, k, x_stride, q, q_stride, scales, sums);
}

}  // namespace avx512vnni
}  // namespace edgeformer
