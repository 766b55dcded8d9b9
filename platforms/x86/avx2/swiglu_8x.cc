// SwiGluFn (kernels.h) with AVX2: gate = gate / (1 + exp(-gate)) * up on 8 lanes, the
// reference's operations in its order (ExpLanes, platforms/x86/avx2/exp_lanes.h), so the same
// bits. The last n % 8 values go through 8-float buffers.
#include "platforms/x86/intrinsics.h"

#include <cstring>

#include "platforms/kernels.h"
#include "platforms/x86/avx2/exp_lanes.h"

namespace edgeformer {
namespace avx2 {
namespace {

inline __m256 SwiGlu8(__m256 v, __m256 u) {
  const __m256 neg = _mm256_xor_ps(v, _mm256_set1_ps(-0.0f));
  return _mm256_mul_ps(_mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), Exp8(neg))), u);
}

}  // namespace

void swiglu_8x__avx2(float* gate, const float* up, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gate + i, SwiGlu8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i == n) return;
  float g[8] = {}, u[8] = {};
  std::memcpy(g, gate + i, (n - i) * sizeof(float));
  std::memcpy(u, up + i, (n - i) * sizeof(float));
  _mm256_storeu_ps(g, SwiGlu8(_mm256_loadu_ps(g), _mm256_loadu_ps(u)));
  std::memcpy(gate + i, g, (n - i) * sizeof(float));
}

}  // namespace avx2
}  // namespace edgeformer
