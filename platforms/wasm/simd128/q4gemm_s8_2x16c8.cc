// int4 (grouped) x int8 GEMM for WebAssembly SIMD128 over BlockedInt4 weights: tiles of up to 2
// activation rows x 16 output channels. A 16-byte load is 4 channels x 4 inputs of one step of 8
// (low nibbles: inputs 8i + 0..3, high nibbles: 8i + 4..7), unsigned q + 8 in [0, 15]. Read as
// 8 16-bit lanes (a channel's 4 bytes are two lanes), the nibbles come out as int16 with shifts and
// masks only: lane & 15 is the low nibble of the even byte (input 0 or 2), lane >> 8 & 15 of the
// odd byte (input 1 or 3), >> 4 & 15 and >> 12 the high nibbles (inputs 4 + the same). Each meets
// the matching activations ([a0, a2] x 4, [a1, a3] x 4, ...) in i32x4.dot_i16x8_s, which leaves
// channel c's sum in 32-bit lane c: one accumulator per 4 channels, nothing to regroup. Per group:
// sum((q + 8) a) - 8 sum(a) = sum(q a), exact; then s = s + (float)acc * scale, a multiply and then
// an add, and c = s * a_scale: the reference's arithmetic (kernels.h).
#include <wasm_simd128.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platforms/common/q4gemm_driver.h"
#include "platforms/kernels.h"
#include "platforms/layout.h"
#include "platforms/wasm/simd128/lanes.h"

namespace edgeformer {
namespace simd128 {
namespace {

// One step's 8 activations at p, widened to int16 and paired as the nibbles are:
// av[0] = [a0, a2] x 4, av[1] = [a1, a3] x 4, av[2] = [a4, a6] x 4, av[3] = [a5, a7] x 4.
inline void StepActivations(const int8_t* p, v128_t (&av)[4]) {
  const v128_t a = wasm_i16x8_load8x8(p);
  av[0] = wasm_i8x16_shuffle(a, a, 0, 1, 4, 5, 0, 1, 4, 5, 0, 1, 4, 5, 0, 1, 4, 5);
  av[1] = wasm_i8x16_shuffle(a, a, 2, 3, 6, 7, 2, 3, 6, 7, 2, 3, 6, 7, 2, 3, 6, 7);
  av[2] = wasm_i8x16_shuffle(a, a, 8, 9, 12, 13, 8, 9, 12, 13, 8, 9, 12, 13, 8, 9, 12, 13);
  av[3] = wasm_i8x16_shuffle(a, a, 10, 11, 14, 15, 10, 11, 14, 15, 10, 11, 14, 15, 10, 11, 14, 15);
}

struct Micro {
  static constexpr size_t kMR = 2;
  static constexpr size_t kNB = 1;

  template <size_t MR, size_t NB>
  static void Tile(const Q4TileArgs& t) {
    static_assert(NB == 1, "one block per tile");
    const size_t steps = t.group / kInt4Cols;
    v128_t s[MR][4];
    for (size_t i = 0; i < MR; ++i)
      for (size_t q = 0; q < 4; ++q) s[i][q] = wasm_f32x4_splat(0.0f);
    const v128_t nibble = wasm_i16x8_splat(0x000F);
    for (size_t g = 0; g < t.groups; ++g) {
      int32_t sums[MR];
      Q4GroupSums<MR>(t, g, sums);
      // acc[i][q]: row i, channels 4q..4q + 3 (lane c: channel 4q + c).
      v128_t acc[MR][4];
      for (size_t i = 0; i < MR; ++i)
        for (size_t q = 0; q < 4; ++q) acc[i][q] = wasm_i32x4_splat(0);
      const uint8_t* wg = t.w + g * steps * kBlockGroupBytes;
      for (size_t st = 0; st < steps; ++st) {
        v128_t av[MR][4];
        for (size_t i = 0; i < MR; ++i) StepActivations(t.a + i * t.a_stride + g * t.group + st * kInt4Cols, av[i]);
        for (size_t q = 0; q < 4; ++q) {
          const v128_t v = wasm_v128_load(wg + st * kBlockGroupBytes + q * 16);
          const v128_t even_lo = wasm_v128_and(v, nibble), odd_lo = wasm_v128_and(wasm_u16x8_shr(v, 8), nibble);
          const v128_t even_hi = wasm_v128_and(wasm_u16x8_shr(v, 4), nibble), odd_hi = wasm_u16x8_shr(v, 12);
          for (size_t i = 0; i < MR; ++i) {
            const v128_t lo = wasm_i32x4_add(wasm_i32x4_dot_i16x8(even_lo, av[i][0]), wasm_i32x4_dot_i16x8(odd_lo, av[i][1]));
            const v128_t hi = wasm_i32x4_add(wasm_i32x4_dot_i16x8(even_hi, av[i][2]), wasm_i32x4_dot_i16x8(odd_hi, av[i][3]));
            acc[i][q] = wasm_i32x4_add(acc[i][q], wasm_i32x4_add(lo, hi));
          }
        }
      }
      for (size_t q = 0; q < 4; ++q) {
        const v128_t scale = LoadF16x4(t.scales + g * kBlockRows + q * 4);
        for (size_t i = 0; i < MR; ++i) {
          const v128_t exact = wasm_i32x4_sub(acc[i][q], wasm_i32x4_splat(8 * sums[i]));
          s[i][q] = wasm_f32x4_add(s[i][q], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(exact), scale));
        }
      }
    }
    for (size_t i = 0; i < MR; ++i) {
      float out[16];
      const v128_t a_scale = wasm_f32x4_splat(t.a_scale[i]);
      for (size_t q = 0; q < 4; ++q) wasm_v128_store(out + 4 * q, wasm_f32x4_mul(s[i][q], a_scale));
      std::memcpy(t.c + i * t.c_stride, out, t.n_valid * sizeof(float));
    }
  }
};

}  // namespace

void q4gemm_s8_2x16c8__simd128(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                               const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale,
                               float* c, size_t c_stride) {
  Q4GemmBlocked<Micro>(m, n, k, group, a, a_stride, a_scale, a_sums, w, w_scale, c, c_stride);
}

}  // namespace simd128
}  // namespace edgeformer
