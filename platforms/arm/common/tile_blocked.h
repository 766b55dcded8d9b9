// The AArch64 qgemm tile over Blocked16x4 weights, shared by the NEON kernels, which differ only in
// how a 16-byte weight register (4 channels x 4 inputs) meets lane `L` of an activation register
// (4 inputs) to add 4 dot products to 4 int32 lanes: Dot::Apply<L>(acc, w, a). Included by the
// kernel files of platforms/arm/<isa>/ only, compiled with that ISA's flags.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "platforms/common/qgemm_driver.h"

// The epilogue of 4 int32 sums of one activation row: c = (float)acc * (a_scale * w_scale), the
// reference's formula, for the first n_left (< 4 means a partial store) of 4 channels.
static inline void StoreRow4(float* dst, int32x4_t acc, float a_scale, float32x4_t w_scale, size_t n_left) {
  const float32x4_t out = vmulq_f32(vcvtq_f32_s32(acc), vmulq_f32(vdupq_n_f32(a_scale), w_scale));
  if (n_left >= 4) {
    vst1q_f32(dst, out);
  } else {
    float tmp[4];
    vst1q_f32(tmp, out);
    std::memcpy(dst, tmp, n_left * sizeof(float));
  }
}

namespace {  // internal linkage: compiled into each ISA's files with that ISA's flags

template <typename Dot>
struct ArmBlockedMicro {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNB = 1;

  // Adds groups [g, g + count) (count <= 4, all in one 16-byte activation load) to acc.
  template <size_t MR>
  static inline void Groups(const QGemmTileArgs& t, size_t g, size_t count, int32x4_t acc[][4]) {
    int8x16_t av[MR];
    for (size_t i = 0; i < MR; ++i) av[i] = vld1q_s8(t.a + i * t.a_stride + g * edgeformer::kGroupCols);
    const int8_t* w = t.w + g * edgeformer::kBlockGroupBytes;
    auto step = [&](auto lane) {
      int8x16_t wv[4];
      for (size_t q = 0; q < 4; ++q) wv[q] = vld1q_s8(w + q * 16);
      for (size_t i = 0; i < MR; ++i)
        for (size_t q = 0; q < 4; ++q) acc[i][q] = Dot::template Apply<decltype(lane)::value>(acc[i][q], wv[q], av[i]);
      w += edgeformer::kBlockGroupBytes;
    };
    step(std::integral_constant<int, 0>());
    if (count > 1) step(std::integral_constant<int, 1>());
    if (count > 2) step(std::integral_constant<int, 2>());
    if (count > 3) step(std::integral_constant<int, 3>());
  }

  template <size_t MR, size_t NB>
  static void Tile(const QGemmTileArgs& t) {
    static_assert(NB == 1, "one block per tile");
    int32x4_t acc[MR][4];
    for (size_t i = 0; i < MR; ++i)
      for (size_t q = 0; q < 4; ++q) acc[i][q] = vdupq_n_s32(0);
    const size_t groups = edgeformer::BlockedCols(t.k) / edgeformer::kGroupCols;
    for (size_t g = 0; g < groups; g += 4) Groups<MR>(t, g, groups - g < 4 ? groups - g : 4, acc);
    for (size_t q = 0; q < 4; ++q) {
      const size_t col = q * 4;
      if (col >= t.n_valid) break;
      const float32x4_t w_scale = vld1q_f32(t.w_scale + col);
      for (size_t i = 0; i < MR; ++i) {
        StoreRow4(t.c + i * t.c_stride + col, acc[i][q], t.a_scale[i], w_scale, t.n_valid - col);
      }
    }
  }
};

}  // namespace

