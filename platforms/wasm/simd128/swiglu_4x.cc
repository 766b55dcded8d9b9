// SwiGluFn (kernels.h) with SIMD128: gate = gate / (1 + exp(-gate)) * up on 4 lanes, the
// reference's operations in its order (ExpLanes through lanes.h's Ops), so the same bits. The
// last n % 4 values go through 4-float buffers.
#include <cstring>

#include "platforms/kernels.h"
#include "platforms/wasm/simd128/lanes.h"

namespace edgeformer {
namespace simd128 {
namespace {

inline v128_t SwiGlu4(v128_t v, v128_t u) {
  const v128_t neg = wasm_f32x4_neg(v);
  return wasm_f32x4_mul(wasm_f32x4_div(v, wasm_f32x4_add(wasm_f32x4_splat(1.0f), Exp4(neg))), u);
}

}  // namespace

void swiglu_4x__simd128(float* gate, const float* up, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(gate + i, SwiGlu4(wasm_v128_load(gate + i), wasm_v128_load(up + i)));
  if (i == n) return;
  float g[4] = {}, u[4] = {};
  std::memcpy(g, gate + i, (n - i) * sizeof(float));
  std::memcpy(u, up + i, (n - i) * sizeof(float));
  wasm_v128_store(g, SwiGlu4(wasm_v128_load(g), wasm_v128_load(u)));
  std::memcpy(gate + i, g, (n - i) * sizeof(float));
}

}  // namespace simd128
}  // namespace edgeformer
