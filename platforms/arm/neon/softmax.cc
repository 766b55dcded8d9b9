// SoftmaxFn (kernels.h) with NEON: Max16's and Sum16's 16 lanes (platforms/common/fixed_order.h)
// as four 4-float vectors, so the accumulators follow their order exactly; ExpLanes
// (platforms/common/float_math.h) on 4 lanes; the maximum is a compare and select (Ops::Above),
// NaN ignored as Max16 does. A tail of fewer than 16 values goes through a 16-float buffer:
// -infinity into the maximum, +0.0f into the sum (a lane is never -0.0f, so it stays).
#include <arm_neon.h>

#include <cmath>

#include "platforms/common/float_math.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace neon {
namespace {

// ExpLanes's operations on 4 lanes. NEON's vmax/vmin give NaN for a NaN operand, so Above and
// Below are compares and selects, as the scalar code is.
struct Ops {
  static float32x4_t Set(float c) { return vdupq_n_f32(c); }
  static float32x4_t Add(float32x4_t a, float32x4_t b) { return vaddq_f32(a, b); }
  static float32x4_t Sub(float32x4_t a, float32x4_t b) { return vsubq_f32(a, b); }
  static float32x4_t Mul(float32x4_t a, float32x4_t b) { return vmulq_f32(a, b); }
  static float32x4_t Above(float32x4_t x, float32x4_t c) { return vbslq_f32(vcgtq_f32(x, c), x, c); }
  static float32x4_t Below(float32x4_t x, float32x4_t c) { return vbslq_f32(vcltq_f32(x, c), x, c); }
  static float32x4_t Pow2(float32x4_t n) {
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23));
  }
  static float32x4_t NanOr(float32x4_t input, float32x4_t e) { return vbslq_f32(vceqq_f32(input, input), e, input); }
};

inline float32x4_t Exp4(float32x4_t x) { return ExpLanes<Ops, float32x4_t>(x); }

// The last n % 16 values into a 16-float buffer, `fill` past them.
inline size_t Tail(const float* x, size_t n, size_t i, float fill, float (&buf)[16]) {
  const size_t count = n - i;
  for (size_t j = 0; j < 16; ++j) buf[j] = j < count ? x[i + j] : fill;
  return count;
}

}  // namespace

void softmax_4x4__neon(float* x, size_t n) {
  if (n == 0) return;
  float32x4_t lane[4];
  for (float32x4_t& l : lane) l = vdupq_n_f32(-INFINITY);
  float buf[16];
  size_t i = 0;
  for (; i < n; i += 16) {
    const float* at = x + i;
    if (i + 16 > n) {
      Tail(x, n, i, -INFINITY, buf);
      at = buf;
    }
    for (int v = 0; v < 4; ++v) lane[v] = Ops::Above(vld1q_f32(at + 4 * v), lane[v]);
  }
  // Max16's last step, a maximum of the lanes: any order gives its value.
  float lanes[16];
  for (int v = 0; v < 4; ++v) vst1q_f32(lanes + 4 * v, lane[v]);
  float max = -INFINITY;
  for (const float l : lanes) max = l > max ? l : max;
  const float32x4_t m = vdupq_n_f32(max);
  float32x4_t sum[4];
  for (float32x4_t& s : sum) s = vdupq_n_f32(0.0f);
  for (i = 0; i < n; i += 16) {
    const bool tail = i + 16 > n;
    const size_t count = tail ? Tail(x, n, i, 0.0f, buf) : 16;
    float* at = tail ? buf : x + i;
    for (int v = 0; v < 4; ++v) {
      float32x4_t e = Exp4(vsubq_f32(vld1q_f32(at + 4 * v), m));
      if (tail) {
        const uint32x4_t index = vaddq_u32(vdupq_n_u32(4 * v), uint32x4_t{0, 1, 2, 3});
        e = vreinterpretq_f32_u32(vandq_u32(vcltq_u32(index, vdupq_n_u32(static_cast<uint32_t>(count))),
                                            vreinterpretq_u32_f32(e)));
      }
      vst1q_f32(at + 4 * v, e);
      sum[v] = vaddq_f32(sum[v], e);
    }
    if (tail) {
      for (size_t j = 0; j < count; ++j) x[i + j] = buf[j];
    }
  }
  // fixed_order.h's ReduceLanes: lane j += lane j + w for w = 8, 4, 2, 1.
  const float32x4_t w4 = vaddq_f32(vaddq_f32(sum[0], sum[2]), vaddq_f32(sum[1], sum[3]));
  const float32x2_t w2 = vadd_f32(vget_low_f32(w4), vget_high_f32(w4));
  const float32x4_t inv = vdupq_n_f32(1.0f / (vget_lane_f32(w2, 0) + vget_lane_f32(w2, 1)));
  for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_f32(vld1q_f32(x + i), inv));
  for (; i < n; ++i) x[i] *= vgetq_lane_f32(inv, 0);
}

}  // namespace neon
}  // namespace edgeformer
