// QuantizeRowsFn (kernels.h) with SIMD128, 4 values per vector, bit for bit the reference's
// (platforms/reference/quantize_rows.cc) through the shared row loop
// (platforms/common/quantize_rows.h): the same integer maximum, IEEE multiply, clamps and
// 1.5 * 2^23 rounding per value; the 32-value sums are exact. A row's last n % 4 (maximum) or
// n % 16 (quantizing) values go through a buffer (zeros past n).
#include <wasm_simd128.h>

#include <cstring>

#include "platforms/common/quantize_rows.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace simd128 {
namespace {

// The 4 floats at x[j], or the n - j < 4 left and zeros.
inline v128_t Load4(const float* x, size_t n, size_t j) {
  if (n - j >= 4) return wasm_v128_load(x + j);
  float buf[4] = {};
  std::memcpy(buf, x + j, (n - j) * sizeof(float));
  return wasm_v128_load(buf);
}

struct Lanes {
  static int32_t AbsMaxBits(const float* x, size_t n) {
    const v128_t abs_mask = wasm_i32x4_splat(0x7fffffff), inf = wasm_i32x4_splat(0x7f800000);
    v128_t m = wasm_i32x4_splat(0);
    const auto fold = [&](v128_t v) {
      const v128_t u = wasm_v128_and(v, abs_mask);
      m = wasm_i32x4_max(m, wasm_v128_andnot(u, wasm_i32x4_gt(u, inf)));  // NaN -> 0
    };
    size_t j = 0;
    for (; j + 4 <= n; j += 4) fold(wasm_v128_load(x + j));
    if (j < n) fold(Load4(x, n, j));
    m = wasm_i32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 2, 3));
    m = wasm_i32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 1, 1, 1));
    return wasm_i32x4_extract_lane(m, 0);
  }
  // v * inv, NaN to 0, clamped by pmin/pmax (the compares, for a value that is not NaN) and rounded
  // by adding 1.5 * 2^23: the sum's bits are 0x4B400000 plus the integer, so one subtraction
  // gives it (no float subtraction and i32x4.trunc_sat, which V8 lowers to about eight instructions).
  static v128_t Round4(v128_t x, v128_t inv) {
    v128_t v = wasm_f32x4_mul(x, inv);
    v = wasm_v128_and(wasm_f32x4_eq(v, v), v);  // NaN -> 0
    v = wasm_f32x4_pmax(wasm_f32x4_splat(-127.0f), wasm_f32x4_pmin(wasm_f32x4_splat(127.0f), v));
    return wasm_i32x4_sub(wasm_f32x4_add(v, wasm_f32x4_splat(12582912.0f)), wasm_i32x4_splat(0x4B400000));
  }
  // The 16 values at x as bytes.
  static v128_t Quantize16(const float* x, v128_t inv) {
    const v128_t i16a = wasm_i16x8_narrow_i32x4(Round4(wasm_v128_load(x), inv), Round4(wasm_v128_load(x + 4), inv));
    const v128_t i16b = wasm_i16x8_narrow_i32x4(Round4(wasm_v128_load(x + 8), inv), Round4(wasm_v128_load(x + 12), inv));
    return wasm_i8x16_narrow_i16x8(i16a, i16b);
  }
  // 16 values per store; the last n % 16 through a 16-float buffer.
  static void Quantize(const float* x, size_t n, float inv_scalar, int8_t* q) {
    const v128_t inv = wasm_f32x4_splat(inv_scalar);
    size_t j = 0;
    for (; j + 16 <= n; j += 16) wasm_v128_store(q + j, Quantize16(x + j, inv));
    if (j == n) return;
    float buf[16] = {};
    std::memcpy(buf, x + j, (n - j) * sizeof(float));
    int8_t out[16];
    wasm_v128_store(out, Quantize16(buf, inv));
    std::memcpy(q + j, out, n - j);
  }
  static int32_t Sum32(const int8_t* q) {
    const v128_t a = wasm_i16x8_extadd_pairwise_i8x16(wasm_v128_load(q));
    const v128_t b = wasm_i16x8_extadd_pairwise_i8x16(wasm_v128_load(q + 16));
    v128_t s = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_add(a, b));  // |pair sums| <= 4 * 128
    s = wasm_i32x4_add(s, wasm_i32x4_shuffle(s, s, 2, 3, 2, 3));
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 1);
  }
};

}  // namespace

void quantize_rows_4x__simd128(const float* x, size_t m, size_t k, size_t x_stride, int8_t* q, size_t q_stride,
                               float* scales, int32_t* sums) {
  QuantizeRowsWith<Lanes>(x, m, k, x_stride, q, q_stride, scales, sums);
}

}  // namespace simd128
}  // namespace edgeformer
