// int8 GEMM for WebAssembly SIMD128 over Blocked16x4 weights: tiles of up to 2 activation rows x
// 16 output channels, 16 weight bytes (4 channels x 4 inputs) at a time, in one of two ways (below:
// WidenRow for one row, ShiftTile for two). Every sum is exact int32 (|sum| <= k * 127 * 128), so
// the epilogue c = (float)acc * (a_scale * w_scale) sees the reference's integers.
#include <wasm_simd128.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace simd128 {
namespace {

// The 4 floats of v to p, or the first `valid` < 4 of them.
inline void Store4(v128_t v, float* p, size_t valid) {
  if (valid >= 4) {
    wasm_v128_store(p, v);
    return;
  }
  float tmp[4];
  wasm_v128_store(tmp, v);
  std::memcpy(p, tmp, valid * sizeof(float));
}

// The tile's outputs c = (float)acc * (a_scale * w_scale) for its valid columns; acc[i][q]: row i,
// channels 4q..4q + 3 (lane c: channel 4q + c).
template <size_t MR>
void StoreTile(const QGemmTileArgs& t, const v128_t (&acc)[MR][4]) {
  for (size_t q = 0; q < 4; ++q) {
    const size_t col = q * 4;
    if (col >= t.n_valid) break;
    const v128_t w_scale = wasm_v128_load(t.w_scale + col);
    for (size_t i = 0; i < MR; ++i) {
      Store4(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc[i][q]), wasm_f32x4_mul(wasm_f32x4_splat(t.a_scale[i]), w_scale)),
             t.c + i * t.c_stride + col, t.n_valid - col);
    }
  }
}

// One row (decode): each 8-byte half of a 16-byte step loaded widened to int16 against the row's 4
// activations (widened, twice), leaving each channel's sum in two lanes (inputs 0-1 and 2-3),
// accumulated as they are and added together after the k loop.
void WidenRow(const QGemmTileArgs& t) {
  // acc[h]: channel pair h (channels 2h, 2h + 1), lanes (2h: inputs 0-1, 2-3; 2h + 1: ...).
  v128_t acc[8];
  for (v128_t& a : acc) a = wasm_i32x4_splat(0);
  const size_t groups = BlockedCols(t.k) / kGroupCols;
  const int8_t* w = t.w;
  for (size_t g = 0; g < groups; ++g, w += kBlockGroupBytes) {
    int32_t a4;
    std::memcpy(&a4, t.a + g * kGroupCols, 4);
    const v128_t av = wasm_i16x8_extend_low_i8x16(wasm_i32x4_splat(a4));
    // One 16-byte step at a time: few live registers (V8 has 16 on x86-64). Each half is loaded
    // widened (i16x8.load8x8_s: one instruction, where a load and extend_high take three).
    for (size_t q = 0; q < 4; ++q) {
      const v128_t lo = wasm_i16x8_load8x8(w + 16 * q), hi = wasm_i16x8_load8x8(w + 16 * q + 8);
      acc[2 * q] = wasm_i32x4_add(acc[2 * q], wasm_i32x4_dot_i16x8(lo, av));
      acc[2 * q + 1] = wasm_i32x4_add(acc[2 * q + 1], wasm_i32x4_dot_i16x8(hi, av));
    }
  }
  // acc[2q] = [c0 p, c0 q, c1 p, c1 q], acc[2q + 1] = [c2 p, c2 q, c3 p, c3 q]: lane pairs added.
  v128_t sums[1][4];
  for (size_t q = 0; q < 4; ++q) {
    const v128_t lo = acc[2 * q], hi = acc[2 * q + 1];
    sums[0][q] = wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7));
  }
  StoreTile<1>(t, sums);
}

// A group's 4 activations at p, widened to int16 and paired as ShiftTile's weight lanes are:
// even = [a0, a2] x 4, odd = [a1, a3] x 4.
struct GroupActivations {
  v128_t even, odd;
};

inline GroupActivations Activations(const int8_t* p) {
  int32_t a4;
  std::memcpy(&a4, p, sizeof(a4));
  const v128_t a = wasm_i16x8_extend_low_i8x16(wasm_i32x4_splat(a4));
  return {wasm_i8x16_shuffle(a, a, 0, 1, 4, 5, 0, 1, 4, 5, 0, 1, 4, 5, 0, 1, 4, 5),
          wasm_i8x16_shuffle(a, a, 2, 3, 6, 7, 2, 3, 6, 7, 2, 3, 6, 7, 2, 3, 6, 7)};
}

// Several rows (prefill): a 16-byte load read as 8 16-bit lanes (a channel's 4 bytes are two
// lanes); shifts alone sign-extend its even bytes (inputs 0 and 2: << 8 then >> 8) and its odd
// bytes (inputs 1 and 3: >> 8), and against activations paired to match, i32x4.dot_i16x8_s leaves
// channel c's sum in lane c: 4 accumulators per row where WidenRow needs 8 (V8 has 16 registers).
template <size_t MR>
void ShiftTile(const QGemmTileArgs& t) {
  v128_t acc[MR][4];
  for (size_t i = 0; i < MR; ++i)
    for (size_t q = 0; q < 4; ++q) acc[i][q] = wasm_i32x4_splat(0);
  const size_t groups = BlockedCols(t.k) / kGroupCols;
  const int8_t* w = t.w;
  for (size_t g = 0; g < groups; ++g, w += kBlockGroupBytes) {
    GroupActivations av[MR];
    for (size_t i = 0; i < MR; ++i) av[i] = Activations(t.a + i * t.a_stride + g * kGroupCols);
    for (size_t q = 0; q < 4; ++q) {
      const v128_t v = wasm_v128_load(w + 16 * q);
      const v128_t even = wasm_i16x8_shr(wasm_i16x8_shl(v, 8), 8), odd = wasm_i16x8_shr(v, 8);
      for (size_t i = 0; i < MR; ++i) {
        acc[i][q] = wasm_i32x4_add(
            acc[i][q], wasm_i32x4_add(wasm_i32x4_dot_i16x8(even, av[i].even), wasm_i32x4_dot_i16x8(odd, av[i].odd)));
      }
    }
  }
  StoreTile<MR>(t, acc);
}

struct Micro {
  static constexpr size_t kMR = 2;
  static constexpr size_t kNB = 1;

  // One row: WidenRow, the faster under V8 there (ShiftTile's shuffles cost more: aidreams260K
  // decode 43k -> 39k tok/s); two rows: ShiftTile, whose half as many accumulators spill less
  // (S int8 pp64 256 -> 301 tok/s; tiles of 4 rows: 288).
  template <size_t MR, size_t NB>
  static void Tile(const QGemmTileArgs& t) {
    static_assert(NB == 1, "one block per tile");
    if constexpr (MR == 1) {
      WidenRow(t);
    } else {
      ShiftTile<MR>(t);
    }
  }
};

}  // namespace

void qgemm_s8_2x16c4__simd128(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                              const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                              size_t c_stride) {
  QGemmBlocked<Micro>(m, n, k, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride);
}

}  // namespace simd128
}  // namespace edgeformer
