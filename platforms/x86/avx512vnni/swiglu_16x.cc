// SwiGluFn (kernels.h) with AVX-512: gate = gate / (1 + exp(-gate)) * up on 16 lanes, the
// reference's operations in its order (ExpLanes, platforms/x86/avx512vnni/exp_lanes.h), so the
// same bits. The tail is masked.
#include "platforms/x86/intrinsics.h"

#include "platforms/kernels.h"
#include "platforms/x86/avx512vnni/exp_lanes.h"

namespace edgeformer {
namespace avx512vnni {

void swiglu_16x__avx512vnni(float* gate, const float* up, size_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512i sign = _mm512_set1_epi32(static_cast<int32_t>(0x80000000u));
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 mask = Mask(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(mask, gate + i);
    const __m512 neg = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), sign));
    const __m512 silu = _mm512_div_ps(v, _mm512_add_ps(one, Exp16(neg)));
    _mm512_mask_storeu_ps(gate + i, mask, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(mask, up + i)));
  }
}

}  // namespace avx512vnni
}  // namespace edgeformer
