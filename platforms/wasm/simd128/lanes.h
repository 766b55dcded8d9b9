// SIMD128 helpers shared by this folder's kernels: ExpLanes' operations on 4 lanes
// (platforms/common/float_math.h) and 4 KV or weight values widened to f32. Included into
// simd128 files only: internal linkage.
#pragma once

#include <wasm_simd128.h>

#include <cstdint>

#include "platforms/common/attention_common.h"

namespace edgeformer {
namespace simd128 {
namespace {

// ExpLanes' operations. Above and Below are f32x4.pmax and pmin: `c < x ? x : c` and
// `x < c ? x : c`, the scalar compares exactly (a NaN x gives c), one maxps/minps where V8 lowers
// f32x4.max/min (NaN and -0.0f rules) and bitselect to several instructions. Pow2 gets an
// integer-valued n in [-126, 128]: n + 1.5 * 2^23 is exact and its bits are 0x4B400000 + n, so
// (bits + 127) << 23 is (n + 127) << 23 (0x4B400000 << 23 wraps to 0): three instructions where
// i32x4.trunc_sat_f32x4_s is about eight.
struct Ops {
  static v128_t Set(float c) { return wasm_f32x4_splat(c); }
  static v128_t Add(v128_t a, v128_t b) { return wasm_f32x4_add(a, b); }
  static v128_t Sub(v128_t a, v128_t b) { return wasm_f32x4_sub(a, b); }
  static v128_t Mul(v128_t a, v128_t b) { return wasm_f32x4_mul(a, b); }
  static v128_t Above(v128_t x, v128_t c) { return wasm_f32x4_pmax(c, x); }
  static v128_t Below(v128_t x, v128_t c) { return wasm_f32x4_pmin(c, x); }
  static v128_t Pow2(v128_t n) {
    const v128_t biased = wasm_f32x4_add(n, wasm_f32x4_splat(12582912.0f));
    return wasm_i32x4_shl(wasm_i32x4_add(biased, wasm_i32x4_splat(127)), 23);
  }
  static v128_t NanOr(v128_t input, v128_t e) { return wasm_v128_bitselect(e, input, wasm_f32x4_eq(input, input)); }
};

inline v128_t Exp4(v128_t x) { return ExpLanes<Ops, v128_t>(x); }

// 4 halves widened exactly, as F16ToF32 (platforms/common/f16.h): the exponent and mantissa bits
// moved into place are the value times 2^-112 (subnormal halves included: f32 keeps them), so one
// multiply by 2^112 rebiases; exponent 31 (infinity, NaN) maps to 255 with the mantissa kept.
inline v128_t LoadF16x4(const uint16_t* p) {
  const v128_t h = wasm_u32x4_load16x4(p);
  const v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
  const v128_t bits = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
  const v128_t finite = wasm_f32x4_mul(bits, wasm_f32x4_splat(5.192296858534828e33f));  // 2^112
  const v128_t special = wasm_v128_or(bits, wasm_i32x4_splat(0x7f800000));
  const v128_t exp31 = wasm_i32x4_eq(wasm_v128_and(h, wasm_i32x4_splat(0x7c00)), wasm_i32x4_splat(0x7c00));
  return wasm_v128_or(wasm_v128_bitselect(special, finite, exp31), sign);
}

template <KvType T>
inline v128_t Load4(const KvElem<T>* p) {
  if constexpr (T == KvType::kF16) {
    return LoadF16x4(p);
  } else {
    return wasm_v128_load(p);
  }
}

}  // namespace
}  // namespace simd128
}  // namespace edgeformer
