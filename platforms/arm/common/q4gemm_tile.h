// The AArch64 q4gemm tile over BlockedInt4 weights, shared by the NEON kernels, which differ only
// in how a 16-byte weight register (4 channels x 4 inputs, unsigned nibbles q + 8 in [0, 15]) meets
// a register holding one row's 4 activations 4 times, adding 4 dot products to 4 int32 lanes:
// Dot::Apply(acc, w, a4). Tiles of up to 2 activation rows x 16 channels (ArmQ4Micro, run by
// platforms/common/q4gemm_driver.h's loop). Per group the sums are
// sum((q + 8) a); subtracting 8 times the group's activation sum leaves sum(q a), exact; then
// s = s + (float)acc * scale, a multiply and then an add (no fused multiply-add: the build's
// -ffp-contract=off), c = s * a_scale: the reference's arithmetic. Included by the kernel files
// of platforms/arm/<isa>/ only, compiled with that ISA's flags.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platforms/common/q4gemm_driver.h"
#include "platforms/layout.h"

namespace {  // internal linkage: compiled into each ISA's files with that ISA's flags

template <typename Dot>
struct ArmQ4Micro {
  static constexpr size_t kMR = 2;
  static constexpr size_t kNB = 1;

  template <size_t MR, size_t NB>
  static void Tile(const Q4TileArgs& t);
};

template <typename Dot>
template <size_t MR, size_t NB>
void ArmQ4Micro<Dot>::Tile(const Q4TileArgs& t) {
  static_assert(NB == 1, "one block per tile");
  using edgeformer::kBlockGroupBytes;
  using edgeformer::kBlockRows;
  const uint8x16_t low = vdupq_n_u8(0x0F);
  const size_t steps = t.group / edgeformer::kInt4Cols;
  float32x4_t s[MR][4];
  for (size_t i = 0; i < MR; ++i)
    for (size_t q = 0; q < 4; ++q) s[i][q] = vdupq_n_f32(0.0f);
  for (size_t g = 0; g < t.groups; ++g) {
    int32_t sums[MR];
    Q4GroupSums<MR>(t, g, sums);
    int32x4_t acc[MR][4];
    for (size_t i = 0; i < MR; ++i)
      for (size_t q = 0; q < 4; ++q) acc[i][q] = vdupq_n_s32(0);
    const uint8_t* wg = t.w + g * steps * kBlockGroupBytes;
    for (size_t st = 0; st < steps; ++st) {
      int8x16_t lo[4], hi[4];
      for (size_t q = 0; q < 4; ++q) {
        const uint8x16_t v = vld1q_u8(wg + st * kBlockGroupBytes + q * 16);
        lo[q] = vreinterpretq_s8_u8(vandq_u8(v, low));
        hi[q] = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
      }
      for (size_t i = 0; i < MR; ++i) {
        const int8_t* ap = t.a + i * t.a_stride + g * t.group + st * edgeformer::kInt4Cols;
        int32_t a_lo, a_hi;
        std::memcpy(&a_lo, ap, sizeof(a_lo));
        std::memcpy(&a_hi, ap + 4, sizeof(a_hi));
        const int8x16_t al = vreinterpretq_s8_s32(vdupq_n_s32(a_lo)), ah = vreinterpretq_s8_s32(vdupq_n_s32(a_hi));
        for (size_t q = 0; q < 4; ++q) {
          acc[i][q] = Dot::Apply(acc[i][q], lo[q], al);
          acc[i][q] = Dot::Apply(acc[i][q], hi[q], ah);
        }
      }
    }
    for (size_t q = 0; q < 4; ++q) {
      const float32x4_t scale = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(t.scales + g * kBlockRows + q * 4)));
      for (size_t i = 0; i < MR; ++i) {
        const int32x4_t exact = vsubq_s32(acc[i][q], vdupq_n_s32(8 * sums[i]));
        s[i][q] = vaddq_f32(s[i][q], vmulq_f32(vcvtq_f32_s32(exact), scale));
      }
    }
  }
  for (size_t i = 0; i < MR; ++i) {
    float out[16];
    for (size_t q = 0; q < 4; ++q) vst1q_f32(out + 4 * q, vmulq_f32(s[i][q], vdupq_n_f32(t.a_scale[i])));
    std::memcpy(t.c + i * t.c_stride, out, t.n_valid * sizeof(float));
  }
}

}  // namespace
