// ExpLanes (platforms/common/float_math.h) on AVX-512's 16 lanes, for the AVX512-VNNI files that
// take exponentials (softmax, SwiGLU): the reference's operations one for one, so the same bits.
// Included into ISA files: internal linkage.
#pragma once

#include "platforms/common/float_math.h"
#include "platforms/x86/intrinsics.h"

namespace edgeformer {
namespace avx512vnni {
namespace {

// ExpLanes's operations on 16 lanes: max_ps(x, c) is `x > c ? x : c` (NaN -> c), min_ps(x, c)
// is `x < c ? x : c`.
struct Ops {
  static __m512 Set(float c) { return _mm512_set1_ps(c); }
  static __m512 Add(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
  static __m512 Sub(__m512 a, __m512 b) { return _mm512_sub_ps(a, b); }
  static __m512 Mul(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
  static __m512 Above(__m512 x, __m512 c) { return _mm512_max_ps(x, c); }
  static __m512 Below(__m512 x, __m512 c) { return _mm512_min_ps(x, c); }
  static __m512 Pow2(__m512 n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static __m512 NanOr(__m512 input, __m512 e) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(input, input, _CMP_ORD_Q), input, e);
  }
};

inline __m512 Exp16(__m512 x) { return ExpLanes<Ops, __m512>(x); }

// The first `remaining` of 16 lanes (all 16 from 16 on).
inline __mmask16 Mask(size_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << remaining) - 1);
}

}  // namespace
}  // namespace avx512vnni
}  // namespace edgeformer
