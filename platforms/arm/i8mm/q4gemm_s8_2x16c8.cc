// int4 (grouped) x int8 GEMM for AArch64 with the int8 matrix-multiply extension (i8mm) over
// BlockedInt4 weights: tiles of 2 activation rows x 16 output channels. A 64-byte step of a block
// is 16 channels x 8 inputs as nibbles q + 8; its 16-byte register j holds channels 4j..4j+3 x 4
// inputs (low nibbles: inputs 0-3, high: 4-7), so zipping the low and high halves by 4-byte lanes
// gives (channel c: 8 inputs, channel c + 1: 8 inputs) pairs, which vmmlaq_s32 (smmla) multiplies
// by the two rows' 8 activations into a 2x2 int32 block: 8 instructions a step where sdot needs
// 16. The values q + 8 are in [0, 15], so the signed multiply is exact.
//
// Per group the sums are sum((q + 8) a); subtracting 8 times the group's activation sum leaves
// sum(q a), exact; then s = s + (float)acc * scale, c = s * a_scale, the reference's arithmetic
// (platforms/arm/common/q4gemm_tile.h does the same with sdot, which one-row tiles, all of decode,
// use: every i8mm CPU has dotprod, and the results are bit-identical).
#include "platforms/arm/common/q4gemm_tile.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace i8mm {
namespace {

struct Sdot {
  static inline int32x4_t Apply(int32x4_t acc, int8x16_t w, int8x16_t a4) { return vdotq_s32(acc, w, a4); }
};

struct Micro {
  static constexpr size_t kMR = 2;
  static constexpr size_t kNB = 1;

  template <size_t MR, size_t NB>
  static void Tile(const Q4TileArgs& t);
};

template <size_t MR, size_t NB>
void Micro::Tile(const Q4TileArgs& t) {
  static_assert(NB == 1, "one block per tile");
  if constexpr (MR != 2) {
    ArmQ4Micro<Sdot>::Tile<MR, NB>(t);
  } else {
    const uint8x16_t low = vdupq_n_u8(0x0F);
    const size_t steps = t.group / kInt4Cols;
    float32x4_t s[2][4];
    for (size_t i = 0; i < 2; ++i)
      for (size_t q = 0; q < 4; ++q) s[i][q] = vdupq_n_f32(0.0f);
    for (size_t g = 0; g < t.groups; ++g) {
      int32_t sums[2];
      Q4GroupSums<2>(t, g, sums);
      int32x4_t acc[8];  // channel pair c: {row 0 ch 2c, row 0 ch 2c + 1, row 1 ch 2c, row 1 ch 2c + 1}
      for (size_t c = 0; c < 8; ++c) acc[c] = vdupq_n_s32(0);
      const uint8_t* wg = t.w + g * steps * kBlockGroupBytes;
      for (size_t st = 0; st < steps; ++st) {
        const int8_t* r0 = t.a + g * t.group + st * kInt4Cols;
        const int8x16_t a = vcombine_s8(vld1_s8(r0), vld1_s8(r0 + t.a_stride));
        for (size_t q = 0; q < 4; ++q) {
          const uint8x16_t v = vld1q_u8(wg + st * kBlockGroupBytes + q * 16);
          const int32x4_t lo = vreinterpretq_s32_u8(vandq_u8(v, low));
          const int32x4_t hi = vreinterpretq_s32_u8(vshrq_n_u8(v, 4));
          acc[2 * q] = vmmlaq_s32(acc[2 * q], a, vreinterpretq_s8_s32(vzip1q_s32(lo, hi)));
          acc[2 * q + 1] = vmmlaq_s32(acc[2 * q + 1], a, vreinterpretq_s8_s32(vzip2q_s32(lo, hi)));
        }
      }
      for (size_t q = 0; q < 4; ++q) {
        const float32x4_t scale = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(t.scales + g * kBlockRows + q * 4)));
        const int32x4_t pa = acc[2 * q], pb = acc[2 * q + 1];
        const int32x4_t rows[2] = {vcombine_s32(vget_low_s32(pa), vget_low_s32(pb)),
                                   vcombine_s32(vget_high_s32(pa), vget_high_s32(pb))};
        for (size_t i = 0; i < 2; ++i) {
          const int32x4_t exact = vsubq_s32(rows[i], vdupq_n_s32(8 * sums[i]));
          s[i][q] = vaddq_f32(s[i][q], vmulq_f32(vcvtq_f32_s32(exact), scale));
        }
      }
    }
    for (size_t i = 0; i < 2; ++i) {
      float out[16];
      for (size_t q = 0; q < 4; ++q) vst1q_f32(out + 4 * q, vmulq_f32(s[i][q], vdupq_n_f32(t.a_scale[i])));
      std::memcpy(t.c + i * t.c_stride, out, t.n_valid * sizeof(float));
    }
  }
}

}  // namespace

void q4gemm_s8_2x16c8__i8mm(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                            const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale,
                            float* c, size_t c_stride) {
  Q4GemmBlocked<Micro>(m, n, k, group, a, a_stride, a_scale, a_sums, w, w_scale, c, c_stride);
}

}  // namespace i8mm
}  // namespace edgeformer
