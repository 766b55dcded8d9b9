// The 4x4 int8 tile shared by the AArch64 kernels, which differ only in the instruction that
// multiplies 16 byte pairs into four int32 lanes (Dot::Apply). Included by the kernel files of
// platforms/arm/<isa>/ only, inside their own ISA namespace, and compiled with that ISA's flags.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

template <typename Dot>
struct ArmTile4x4c16 {
  static constexpr size_t kMR = 4;
  static constexpr size_t kNR = 4;
  static constexpr int32_t kActivationBias = 0;

  static inline void Step(const int8x16_t av[4], const int8x16_t wv[4], int32x4_t c[4][4]) {
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) c[i][j] = Dot::Apply(c[i][j], av[i], wv[j]);
  }

  static void Run(size_t k, const int8_t* const a[4], const int8_t* const w[4], int32_t acc[4][4]) {
    int32x4_t c[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) c[i][j] = vdupq_n_s32(0);
    int8x16_t av[4], wv[4];
    size_t kk = 0;
    for (; kk + 16 <= k; kk += 16) {
      for (int i = 0; i < 4; ++i) av[i] = vld1q_s8(a[i] + kk);
      for (int j = 0; j < 4; ++j) wv[j] = vld1q_s8(w[j] + kk);
      Step(av, wv, c);
    }
    if (kk < k) {
      // Tail: zero-padded copies of the last k - kk values (zeros add nothing).
      int8_t buf[8][16] = {};
      const size_t rem = k - kk;
      for (int i = 0; i < 4; ++i) std::memcpy(buf[i], a[i] + kk, rem);
      for (int j = 0; j < 4; ++j) std::memcpy(buf[4 + j], w[j] + kk, rem);
      for (int i = 0; i < 4; ++i) av[i] = vld1q_s8(buf[i]);
      for (int j = 0; j < 4; ++j) wv[j] = vld1q_s8(buf[4 + j]);
      Step(av, wv, c);
    }
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) acc[i][j] = vaddvq_s32(c[i][j]);
  }
};
