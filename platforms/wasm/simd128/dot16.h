// The Dot16 order (platforms/common/fixed_order.h) with SIMD128, shared by the attention and f32
// GEMM kernels of this folder (as platforms/arm/neon/dot16.h): 4 rows at a time, four 4-lane
// accumulators per row (lanes 0-3, 4-7, 8-11, 12-15 of Dot16), reduced by the fixed tree: w = 8
// and w = 4 add whole vectors, w = 2 adds the halves of two rows' vectors, and w = 1 adds lane
// pairs, leaving the 4 rows in order. A last partial step of 16 (past d) skips the 4-lane
// vectors wholly past d (Dot16TailVector; a vector straddling d is zero-padded): their +0.0f
// products would be added to sums that are never -0.0f, which changes nothing. A short last
// group of rows repeats its last row (rows past n are never read) and stores only the valid sums.
// Internal linkage.
#pragma once

#include <cstring>

#include "platforms/wasm/simd128/lanes.h"

namespace edgeformer {
namespace simd128 {
namespace {

// One step of 16 values of q against 4 rows.
template <KvType T>
__attribute__((always_inline)) inline void Dot16Step(v128_t (&acc)[4][4], const float* q, const KvElem<T>* const (&r)[4]) {
  v128_t qv[4];
  for (int c = 0; c < 4; ++c) qv[c] = wasm_v128_load(q + 4 * c);
  for (int p = 0; p < 4; ++p) {
    for (int c = 0; c < 4; ++c) acc[p][c] = wasm_f32x4_add(acc[p][c], wasm_f32x4_mul(qv[c], Load4<T>(r[p] + 4 * c)));
  }
}

// Vector C (lanes 4C..4C+3) of the last partial step of 16: r (1..15) values of q against 4 rows
// from `at`. A whole vector is read in place, a partial one from zero-padded copies, and vectors
// wholly past r add nothing (their +0.0f products would leave the sums, never -0.0f, unchanged).
template <int C, KvType T>
__attribute__((always_inline)) inline void Dot16TailVector(v128_t (&acc)[4][4], size_t r, const float* q,
                                                           const KvElem<T>* const (&rows)[4], size_t at) {
  constexpr size_t lo = 4 * C;
  if (lo >= r) return;
  if (lo + 4 <= r) {
    const v128_t qv = wasm_v128_load(q + lo);
    for (int p = 0; p < 4; ++p) acc[p][C] = wasm_f32x4_add(acc[p][C], wasm_f32x4_mul(qv, Load4<T>(rows[p] + at + lo)));
    return;
  }
  float q_pad[4] = {};
  std::memcpy(q_pad, q + lo, (r - lo) * sizeof(float));
  const v128_t qv = wasm_v128_load(q_pad);
  for (int p = 0; p < 4; ++p) {
    KvElem<T> r_pad[4] = {};
    std::memcpy(r_pad, rows[p] + at + lo, (r - lo) * sizeof(KvElem<T>));
    acc[p][C] = wasm_f32x4_add(acc[p][C], wasm_f32x4_mul(qv, Load4<T>(r_pad)));
  }
}

// Dot16Rows' loop. kShort (d <= 8): lanes 8-15 never get a product, so the w = 8 step, which
// adds them (+0.0f) to lanes 0-7, changes nothing and is left out (their accumulators stay zero
// and unused, which the compiler drops).
template <KvType T, bool kShort>
__attribute__((always_inline)) inline void Dot16RowsLoop(size_t n, size_t d, const float* q, const KvElem<T>* base,
                                                         size_t stride, float* out) {
  const size_t full = d / 16 * 16;  // 0 when kShort
  for (size_t s0 = 0; s0 < n; s0 += 4) {
    const size_t count = n - s0 < 4 ? n - s0 : 4;
    const KvElem<T>* r[4];
    for (size_t p = 0; p < 4; ++p) r[p] = base + (s0 + (p < count ? p : count - 1)) * stride;
    v128_t acc[4][4];
    for (int p = 0; p < 4; ++p) {
      for (int c = 0; c < 4; ++c) acc[p][c] = wasm_f32x4_splat(0.0f);
    }
    for (size_t i = 0; i < full; i += 16) {
      const KvElem<T>* const step[4] = {r[0] + i, r[1] + i, r[2] + i, r[3] + i};
      Dot16Step<T>(acc, q + i, step);
    }
    if (full < d) {
      Dot16TailVector<0, T>(acc, d - full, q + full, r, full);
      Dot16TailVector<1, T>(acc, d - full, q + full, r, full);
      if (!kShort) {
        Dot16TailVector<2, T>(acc, d - full, q + full, r, full);
        Dot16TailVector<3, T>(acc, d - full, q + full, r, full);
      }
    }
    v128_t h[4];
    for (int p = 0; p < 4; ++p) {  // w = 8, then w = 4
      h[p] = kShort ? wasm_f32x4_add(acc[p][0], acc[p][1])
                    : wasm_f32x4_add(wasm_f32x4_add(acc[p][0], acc[p][2]), wasm_f32x4_add(acc[p][1], acc[p][3]));
    }
    // w = 2: [row lanes 0+2, 1+3, next row lanes 0+2, 1+3].
    const v128_t h01 = wasm_f32x4_add(wasm_i32x4_shuffle(h[0], h[1], 0, 1, 4, 5), wasm_i32x4_shuffle(h[0], h[1], 2, 3, 6, 7));
    const v128_t h23 = wasm_f32x4_add(wasm_i32x4_shuffle(h[2], h[3], 0, 1, 4, 5), wasm_i32x4_shuffle(h[2], h[3], 2, 3, 6, 7));
    // w = 1: rows 0..3 in order.
    const v128_t sums = wasm_f32x4_add(wasm_i32x4_shuffle(h01, h23, 0, 2, 4, 6), wasm_i32x4_shuffle(h01, h23, 1, 3, 5, 7));
    if (count == 4) {
      wasm_v128_store(out + s0, sums);
    } else {
      float tmp[4];
      wasm_v128_store(tmp, sums);
      for (size_t p = 0; p < count; ++p) out[s0 + p] = tmp[p];
    }
  }
}

// out[s] = Dot16(q, row s, d) for s < n: rows of d values of type T, `stride` elements apart.
template <KvType T>
__attribute__((always_inline)) inline void Dot16Rows(size_t n, size_t d, const float* q, const void* rows, size_t stride,
                                                     float* out) {
  const KvElem<T>* base = static_cast<const KvElem<T>*>(rows);
  if (d <= 8) {
    Dot16RowsLoop<T, true>(n, d, q, base, stride, out);
  } else {
    Dot16RowsLoop<T, false>(n, d, q, base, stride, out);
  }
}

}  // namespace
}  // namespace simd128
}  // namespace edgeformer
