// SoftmaxFn (kernels.h) with SIMD128: Max16's and Sum16's 16 lanes (platforms/common/
// fixed_order.h) as four 4-float vectors, so the accumulators follow their order exactly;
// ExpLanes on 4 lanes (lanes.h); the maximum is a compare and select, NaN ignored as Max16 does.
// A tail of fewer than 16 values goes through a 16-float buffer: -infinity into the maximum,
// +0.0f into the sum (a lane is never -0.0f, so it stays).
#include <cmath>

#include "platforms/kernels.h"
#include "platforms/wasm/simd128/lanes.h"

namespace edgeformer {
namespace simd128 {
namespace {

// The last n % 16 values into a 16-float buffer, `fill` past them.
inline size_t Tail(const float* x, size_t n, size_t i, float fill, float (&buf)[16]) {
  const size_t count = n - i;
  for (size_t j = 0; j < 16; ++j) buf[j] = j < count ? x[i + j] : fill;
  return count;
}

}  // namespace

void softmax_4x4__simd128(float* x, size_t n) {
  if (n == 0) return;
  v128_t lane[4];
  for (v128_t& l : lane) l = wasm_f32x4_splat(-INFINITY);
  float buf[16];
  size_t i = 0;
  for (; i < n; i += 16) {
    const float* at = x + i;
    if (i + 16 > n) {
      Tail(x, n, i, -INFINITY, buf);
      at = buf;
    }
    for (int v = 0; v < 4; ++v) lane[v] = Ops::Above(wasm_v128_load(at + 4 * v), lane[v]);
  }
  // Max16's last step, a maximum of the lanes: any order gives its value.
  float lanes[16];
  for (int v = 0; v < 4; ++v) wasm_v128_store(lanes + 4 * v, lane[v]);
  float max = -INFINITY;
  for (const float l : lanes) max = l > max ? l : max;
  const v128_t m = wasm_f32x4_splat(max);
  v128_t sum[4];
  for (v128_t& s : sum) s = wasm_f32x4_splat(0.0f);
  for (i = 0; i < n; i += 16) {
    const bool tail = i + 16 > n;
    const size_t count = tail ? Tail(x, n, i, 0.0f, buf) : 16;
    float* at = tail ? buf : x + i;
    for (int v = 0; v < 4; ++v) {
      v128_t e = Exp4(wasm_f32x4_sub(wasm_v128_load(at + 4 * v), m));
      if (tail) {
        const v128_t index = wasm_i32x4_add(wasm_i32x4_splat(4 * v), wasm_i32x4_make(0, 1, 2, 3));
        e = wasm_v128_and(wasm_i32x4_lt(index, wasm_i32x4_splat(static_cast<int32_t>(count))), e);
      }
      wasm_v128_store(at + 4 * v, e);
      sum[v] = wasm_f32x4_add(sum[v], e);
    }
    if (tail) {
      for (size_t j = 0; j < count; ++j) x[i + j] = buf[j];
    }
  }
  // fixed_order.h's ReduceLanes: lane j += lane j + w for w = 8, 4, 2, 1.
  const v128_t w4 = wasm_f32x4_add(wasm_f32x4_add(sum[0], sum[2]), wasm_f32x4_add(sum[1], sum[3]));
  const v128_t w2 = wasm_f32x4_add(w4, wasm_i32x4_shuffle(w4, w4, 2, 3, 2, 3));
  const float total = wasm_f32x4_extract_lane(w2, 0) + wasm_f32x4_extract_lane(w2, 1);
  const float inv = 1.0f / total;
  const v128_t invv = wasm_f32x4_splat(inv);
  for (i = 0; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), invv));
  for (; i < n; ++i) x[i] *= inv;
}

}  // namespace simd128
}  // namespace edgeformer
