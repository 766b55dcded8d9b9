// SoftmaxFn (kernels.h) with SIMD128: the 4-lane loop of platforms/common/softmax_4x4.h, ExpLanes
// on 4 lanes through lanes.h's Ops (pmax for the maximum's compare and select).
#include "platforms/common/softmax_4x4.h"
#include "platforms/kernels.h"
#include "platforms/wasm/simd128/lanes.h"

namespace edgeformer {
namespace simd128 {
namespace {

struct SoftmaxLanes : Ops {
  using V = v128_t;
  static V Load(const float* p) { return wasm_v128_load(p); }
  static void Store(float* p, V v) { wasm_v128_store(p, v); }
  static V Exp(V x) { return Exp4(x); }
};

}  // namespace

void softmax_4x4__simd128(float* x, size_t n) { Softmax4x4With<SoftmaxLanes>(x, n); }

}  // namespace simd128
}  // namespace edgeformer
