// The MR x 4 int8 tile shared by the AArch64 kernels, which differ only in the instruction that
// multiplies 16 byte pairs into four int32 lanes (Dot::Apply). Included by the kernel files of
// platforms/arm/<isa>/ only, inside their own ISA namespace, and compiled with that ISA's flags.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

template <size_t MR, typename Dot>
struct ArmTileMx4c16 {
  static constexpr size_t kMR = MR;
  static constexpr size_t kNR = 4;
  static constexpr int32_t kActivationBias = 0;

  static inline void Step(const int8x16_t av[MR], const int8x16_t wv[4], int32x4_t c[MR][4]) {
    for (size_t i = 0; i < MR; ++i)
      for (int j = 0; j < 4; ++j) c[i][j] = Dot::Apply(c[i][j], av[i], wv[j]);
  }

  static void Run(size_t k, const int8_t* const a[MR], const int8_t* const w[4], int32_t acc[MR][4]) {
    int32x4_t c[MR][4];
    for (size_t i = 0; i < MR; ++i)
      for (int j = 0; j < 4; ++j) c[i][j] = vdupq_n_s32(0);
    int8x16_t av[MR], wv[4];
    size_t kk = 0;
    for (; kk + 16 <= k; kk += 16) {
      for (size_t i = 0; i < MR; ++i) av[i] = vld1q_s8(a[i] + kk);
      for (int j = 0; j < 4; ++j) wv[j] = vld1q_s8(w[j] + kk);
      Step(av, wv, c);
    }
    if (kk < k) {
      // Tail: zero-padded copies of the last k - kk values (zeros add nothing).
      int8_t buf[MR + 4][16] = {};
      const size_t rem = k - kk;
      for (size_t i = 0; i < MR; ++i) std::memcpy(buf[i], a[i] + kk, rem);
      for (int j = 0; j < 4; ++j) std::memcpy(buf[MR + j], w[j] + kk, rem);
      for (size_t i = 0; i < MR; ++i) av[i] = vld1q_s8(buf[i]);
      for (int j = 0; j < 4; ++j) wv[j] = vld1q_s8(buf[MR + j]);
      Step(av, wv, c);
    }
    for (size_t i = 0; i < MR; ++i)
      for (int j = 0; j < 4; ++j) acc[i][j] = vaddvq_s32(c[i][j]);
  }
};
