// int8 GEMM for WebAssembly SIMD128 over Blocked16x4 weights: tiles of up to 4 activation rows x
// 16 output channels. 16 weight bytes are 4 channels x 4 inputs; their two halves, loaded widened to
// int16, meet the row's 4 activations (widened, twice) in i32x4.dot_i16x8_s, which leaves each
// channel's sum in two lanes (inputs 0-1 and 2-3). Those lane pairs are accumulated as they are
// (exact int32: |sum| <= k * 127 * 128) and added together once, after the k loop.
#include <wasm_simd128.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platforms/common/qgemm_driver.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace simd128 {
namespace {

struct Micro {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNB = 1;

  template <size_t MR, size_t NB>
  static void Tile(const QGemmTileArgs& t) {
    static_assert(NB == 1, "one block per tile");
    // acc[i][h]: row i, channel pair h (channels 2h, 2h + 1), lanes (2h: inputs 0-1, 2-3; 2h + 1: ...).
    v128_t acc[MR][8];
    for (size_t i = 0; i < MR; ++i)
      for (size_t h = 0; h < 8; ++h) acc[i][h] = wasm_i32x4_splat(0);
    const size_t groups = BlockedCols(t.k) / kGroupCols;
    const int8_t* w = t.w;
    for (size_t g = 0; g < groups; ++g, w += kBlockGroupBytes) {
      v128_t av[MR];
      for (size_t i = 0; i < MR; ++i) {
        int32_t a4;
        std::memcpy(&a4, t.a + i * t.a_stride + g * kGroupCols, 4);
        av[i] = wasm_i16x8_extend_low_i8x16(wasm_i32x4_splat(a4));
      }
      // One 16-byte step at a time: few live registers (V8 has 16 on x86-64). Each half is loaded
      // widened (i16x8.load8x8_s: one instruction, where a load and extend_high take three).
      for (size_t q = 0; q < 4; ++q) {
        const v128_t lo = wasm_i16x8_load8x8(w + 16 * q), hi = wasm_i16x8_load8x8(w + 16 * q + 8);
        for (size_t i = 0; i < MR; ++i) {
          acc[i][2 * q] = wasm_i32x4_add(acc[i][2 * q], wasm_i32x4_dot_i16x8(lo, av[i]));
          acc[i][2 * q + 1] = wasm_i32x4_add(acc[i][2 * q + 1], wasm_i32x4_dot_i16x8(hi, av[i]));
        }
      }
    }
    for (size_t q = 0; q < 4; ++q) {
      const size_t col = q * 4;
      if (col >= t.n_valid) break;
      const v128_t w_scale = wasm_v128_load(t.w_scale + col);
      for (size_t i = 0; i < MR; ++i) {
        // acc[i][2q] = [c0 p, c0 q, c1 p, c1 q], acc[i][2q + 1] = [c2 p, c2 q, c3 p, c3 q].
        const v128_t lo = acc[i][2 * q], hi = acc[i][2 * q + 1];
        const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7));
        const v128_t out =
            wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), wasm_f32x4_mul(wasm_f32x4_splat(t.a_scale[i]), w_scale));
        float* dst = t.c + i * t.c_stride + col;
        if (t.n_valid - col >= 4) {
          wasm_v128_store(dst, out);
        } else {
          float tmp[4];
          wasm_v128_store(tmp, out);
          std::memcpy(dst, tmp, (t.n_valid - col) * sizeof(float));
        }
      }
    }
  }
};

}  // namespace

void qgemm_s8_4x16c4__simd128(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                              const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                              size_t c_stride) {
  QGemmBlocked<Micro>(m, n, k, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride);
}

}  // namespace simd128
}  // namespace edgeformer
