// SoftmaxFn (kernels.h) with SIMD128: the 4-lane loop of platforms/common/softmax_4x4.h, ExpLanes
// on 4 lanes through lanes.h's Ops (pmax for the maximum's compare and select).
#include "platforms/common/softmax_4x4.h"
#include "platforms/kernels.h"
#include "platforms/wasm/simd128/lanes.h"

namespace edgeformer {
namespace simd128 {
namespace {

struct SoftmaxLanes {
  using V = v128_t;
  static V Load(const float* p) { return wasm_v128_load(p); }
  static void Store(float* p, V v) { wasm_v128_store(p, v); }
  static V Splat(float c) { return wasm_f32x4_splat(c); }
  static V Add(V a, V b) { return wasm_f32x4_add(a, b); }
  static V Sub(V a, V b) { return wasm_f32x4_sub(a, b); }
  static V Mul(V a, V b) { return wasm_f32x4_mul(a, b); }
  static V Above(V x, V c) { return Ops::Above(x, c); }
  static V Exp(V x) { return Exp4(x); }
};

}  // namespace

void softmax_4x4__simd128(float* x, size_t n) { Softmax4x4With<SoftmaxLanes>(x, n); }

}  // namespace simd128
}  // namespace edgeformer
