// SoftmaxFn (kernels.h) with AVX2: Max16's and Sum16's 16 lanes (platforms/common/fixed_order.h)
// as two 8-float vectors, lanes 0-7 and 8-15, so the accumulators follow their order exactly;
// ExpLanes (platforms/common/float_math.h) on 8 lanes. A tail of fewer than 16 values goes
// through a 16-float buffer: -infinity into the maximum, +0.0f into the sum (a lane is never
// -0.0f, so it stays).
#include "platforms/x86/intrinsics.h"

#include <cmath>

#include "platforms/kernels.h"
#include "platforms/x86/avx2/exp_lanes.h"

namespace edgeformer {
namespace avx2 {
namespace {

// fixed_order.h's ReduceLanes on lanes 0-7 (lo) and 8-15 (hi): lane j += lane j + w for w = 8,
// 4, 2, 1.
inline float ReduceLanes16(__m256 lo, __m256 hi) {
  const __m256 h = _mm256_add_ps(lo, hi);
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 w2 = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(w2, _mm_shuffle_ps(w2, w2, 1)));
}

// The last n % 16 values into a 16-float buffer, `fill` past them.
inline size_t Tail(const float* x, size_t n, size_t i, float fill, float (&buf)[16]) {
  const size_t count = n - i;
  for (size_t j = 0; j < 16; ++j) buf[j] = j < count ? x[i + j] : fill;
  return count;
}

}  // namespace

void softmax_8x2__avx2(float* x, size_t n) {
  if (n == 0) return;
  __m256 lo = _mm256_set1_ps(-INFINITY), hi = lo;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    lo = _mm256_max_ps(_mm256_loadu_ps(x + i), lo);
    hi = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), hi);
  }
  float buf[16];
  if (i < n) {
    Tail(x, n, i, -INFINITY, buf);
    lo = _mm256_max_ps(_mm256_loadu_ps(buf), lo);
    hi = _mm256_max_ps(_mm256_loadu_ps(buf + 8), hi);
  }
  // Max16's last step, a maximum of the lanes: any order gives its value.
  float lanes[16];
  _mm256_storeu_ps(lanes, lo);
  _mm256_storeu_ps(lanes + 8, hi);
  float max = -INFINITY;
  for (const float l : lanes) max = l > max ? l : max;
  const __m256 m = _mm256_set1_ps(max);
  __m256 sum_lo = _mm256_setzero_ps(), sum_hi = sum_lo;
  i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 e0 = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    const __m256 e1 = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m));
    _mm256_storeu_ps(x + i, e0);
    _mm256_storeu_ps(x + i + 8, e1);
    sum_lo = _mm256_add_ps(sum_lo, e0);
    sum_hi = _mm256_add_ps(sum_hi, e1);
  }
  if (i < n) {
    const size_t count = Tail(x, n, i, 0.0f, buf);
    __m256 e[2];
    for (int h = 0; h < 2; ++h) {
      const __m256 valid = _mm256_castsi256_ps(
          _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                             _mm256_setr_epi32(8 * h, 8 * h + 1, 8 * h + 2, 8 * h + 3, 8 * h + 4, 8 * h + 5, 8 * h + 6, 8 * h + 7)));
      e[h] = _mm256_and_ps(valid, Exp8(_mm256_sub_ps(_mm256_loadu_ps(buf + 8 * h), m)));
    }
    sum_lo = _mm256_add_ps(sum_lo, e[0]);
    sum_hi = _mm256_add_ps(sum_hi, e[1]);
    _mm256_storeu_ps(buf, e[0]);
    _mm256_storeu_ps(buf + 8, e[1]);
    for (size_t j = 0; j < count; ++j) x[i + j] = buf[j];
  }
  const __m256 inv = _mm256_set1_ps(1.0f / ReduceLanes16(sum_lo, sum_hi));
  i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  const float inv1 = _mm256_cvtss_f32(inv);
  for (; i < n; ++i) x[i] *= inv1;
}

}  // namespace avx2
}  // namespace edgeformer
