// ExpLanes (platforms/common/float_math.h) on AVX2's 8 lanes, for the AVX2 files that take
// exponentials (softmax, SwiGLU): the reference's operations one for one, so the same bits.
// Included into ISA files: internal linkage.
#pragma once

#include "platforms/common/float_math.h"
#include "platforms/x86/intrinsics.h"

namespace edgeformer {
namespace avx2 {
namespace {

// ExpLanes's operations on 8 lanes: max_ps(x, c) is `x > c ? x : c` (NaN -> c), min_ps(x, c)
// is `x < c ? x : c`.
struct Ops {
  static __m256 Set(float c) { return _mm256_set1_ps(c); }
  static __m256 Add(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
  static __m256 Sub(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
  static __m256 Mul(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
  static __m256 Above(__m256 x, __m256 c) { return _mm256_max_ps(x, c); }
  static __m256 Below(__m256 x, __m256 c) { return _mm256_min_ps(x, c); }
  static __m256 Pow2(__m256 n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  static __m256 NanOr(__m256 input, __m256 e) { return _mm256_blendv_ps(input, e, _mm256_cmp_ps(input, input, _CMP_ORD_Q)); }
};

inline __m256 Exp8(__m256 x) { return ExpLanes<Ops, __m256>(x); }

}  // namespace
}  // namespace avx2
}  // namespace edgeformer
