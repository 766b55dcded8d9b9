// SoftmaxFn (kernels.h) with AVX-512: 16 values per vector, which are Max16's and Sum16's 16
// lanes (platforms/common/fixed_order.h), so one accumulator follows their order exactly;
// ExpLanes (platforms/common/float_math.h) on 16 lanes, two vectors at a time. The tail is masked:
// -infinity into the maximum, +0.0f into the sum (a lane is never -0.0f, so it stays).
#include "platforms/x86/intrinsics.h"

#include <cmath>

#include "platforms/kernels.h"
#include "platforms/x86/avx512vnni/exp_lanes.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

// fixed_order.h's ReduceLanes: lane j += lane j + w for w = 8, 4, 2, 1.
inline float ReduceLanes16(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 w2 = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(w2, _mm_shuffle_ps(w2, w2, 1)));
}

}  // namespace

void softmax_16x__avx512vnni(float* x, size_t n) {
  if (n == 0) return;
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
  __m512 lane = neg_inf;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) lane = _mm512_max_ps(_mm512_loadu_ps(x + i), lane);
  if (i < n) lane = _mm512_max_ps(_mm512_mask_loadu_ps(neg_inf, Mask(n - i), x + i), lane);
  // Max16's last step, a maximum of the lanes: any order gives its value.
  const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(lane),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(lane), 1)));
  const __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 w2 = _mm_max_ps(q, _mm_movehl_ps(q, q));
  const float max = _mm_cvtss_f32(_mm_max_ss(w2, _mm_shuffle_ps(w2, w2, 1)));
  const __m512 m = _mm512_set1_ps(max);
  __m512 sum = _mm512_setzero_ps();
  i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 e0 = Exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), m));
    const __m512 e1 = Exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), m));
    _mm512_storeu_ps(x + i, e0);
    _mm512_storeu_ps(x + i + 16, e1);
    sum = _mm512_add_ps(_mm512_add_ps(sum, e0), e1);
  }
  for (; i < n; i += 16) {
    const __mmask16 mask = Mask(n - i);
    const __m512 e = _mm512_maskz_mov_ps(mask, Exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + i), m)));
    _mm512_mask_storeu_ps(x + i, mask, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / ReduceLanes16(sum));
  i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (i < n) {
    const __mmask16 mask = Mask(n - i);
    _mm512_mask_storeu_ps(x + i, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + i), inv));
  }
}

}  // namespace avx512vnni
}  // namespace edgeformer
