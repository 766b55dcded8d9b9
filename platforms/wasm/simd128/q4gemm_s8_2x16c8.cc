// int4 (grouped) x int8 GEMM for WebAssembly SIMD128 over BlockedInt4 weights: tiles of up to 2
// activation rows x 16 output channels. A 16-byte load is 4 channels x 4 inputs of two steps
// (low nibbles: inputs 8i + 0..3, high nibbles: 8i + 4..7), unsigned q + 8 in [0, 15]; each
// nibble half, widened to int16, meets the row's 4 activations (widened, twice) in
// i32x4.dot_i16x8_s, leaving each channel's sum in two lanes, which are added once per group.
// Per group: sum((q + 8) a) - 8 sum(a) = sum(q a), exact; then s = s + (float)acc * scale, a
// multiply and then an add, and c = s * a_scale: the reference's arithmetic (kernels.h).
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

// The row's 4 activations at p, widened to int16, twice.
inline v128_t Activations4(const int8_t* p) {
  int32_t a4;
  std::memcpy(&a4, p, sizeof(a4));
  return wasm_i16x8_extend_low_i8x16(wasm_i32x4_splat(a4));
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
    const v128_t low = wasm_i8x16_splat(0x0F);
    for (size_t g = 0; g < t.groups; ++g) {
      int32_t sums[MR];
      Q4GroupSums<MR>(t, g, sums);
      // acc[i][h]: row i, channel pair h (channels 2h, 2h + 1), each channel's sum in two lanes.
      v128_t acc[MR][8];
      for (size_t i = 0; i < MR; ++i)
        for (size_t h = 0; h < 8; ++h) acc[i][h] = wasm_i32x4_splat(0);
      const uint8_t* wg = t.w + g * steps * kBlockGroupBytes;
      for (size_t st = 0; st < steps; ++st) {
        v128_t al[MR], ah[MR];
        for (size_t i = 0; i < MR; ++i) {
          const int8_t* ap = t.a + i * t.a_stride + g * t.group + st * kInt4Cols;
          al[i] = Activations4(ap);
          ah[i] = Activations4(ap + 4);
        }
        for (size_t q = 0; q < 4; ++q) {
          const v128_t v = wasm_v128_load(wg + st * kBlockGroupBytes + q * 16);
          const v128_t lo = wasm_v128_and(v, low), hi = wasm_u8x16_shr(v, 4);
          const v128_t lo0 = wasm_u16x8_extend_low_u8x16(lo), lo1 = wasm_u16x8_extend_high_u8x16(lo);
          const v128_t hi0 = wasm_u16x8_extend_low_u8x16(hi), hi1 = wasm_u16x8_extend_high_u8x16(hi);
          for (size_t i = 0; i < MR; ++i) {
            acc[i][2 * q] = wasm_i32x4_add(acc[i][2 * q],
                                           wasm_i32x4_add(wasm_i32x4_dot_i16x8(lo0, al[i]), wasm_i32x4_dot_i16x8(hi0, ah[i])));
            acc[i][2 * q + 1] = wasm_i32x4_add(
                acc[i][2 * q + 1], wasm_i32x4_add(wasm_i32x4_dot_i16x8(lo1, al[i]), wasm_i32x4_dot_i16x8(hi1, ah[i])));
          }
        }
      }
      for (size_t q = 0; q < 4; ++q) {
        const v128_t scale = LoadF16x4(t.scales + g * kBlockRows + q * 4);
        for (size_t i = 0; i < MR; ++i) {
          const v128_t a = acc[i][2 * q], b = acc[i][2 * q + 1];
          const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
          const v128_t exact = wasm_i32x4_sub(sum, wasm_i32x4_splat(8 * sums[i]));
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
