// SoftmaxFn (kernels.h) with NEON: Max16's and Sum16's 16 lanes (platforms/common/fixed_order.h)
// as four 4-float vectors, so the accumulators follow their order exactly; Exp
// (platforms/common/float_math.h) operation for operation. NEON's vmax/vmin return NaN for a NaN
// operand, so the clamps and the maximum are compares and selects, as the scalar code is. A tail
// of fewer than 16 values goes through a 16-float buffer: -infinity into the maximum, +0.0f into
// the sum (a lane is never -0.0f, so it stays).
#include <arm_neon.h>

#include <cmath>

#include "platforms/kernels.h"

namespace edgeformer {
namespace neon {
namespace {

// x > c ? x : c and x < c ? x : c, lane by lane (NaN x gives c).
inline float32x4_t Above(float32x4_t x, float32x4_t c) { return vbslq_f32(vcgtq_f32(x, c), x, c); }
inline float32x4_t Below(float32x4_t x, float32x4_t c) { return vbslq_f32(vcltq_f32(x, c), x, c); }

inline float32x4_t Exp4(float32x4_t input) {
  const float32x4_t x = Below(Above(input, vdupq_n_f32(-87.0f)), vdupq_n_f32(88.5f));
  const float32x4_t round = vdupq_n_f32(12582912.0f);
  const float32x4_t n = vsubq_f32(vaddq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)), round), round);
  const float32x4_t r = vsubq_f32(vsubq_f32(x, vmulq_f32(n, vdupq_n_f32(0.693145751953125f))),
                                  vmulq_f32(n, vdupq_n_f32(1.428606765330187e-6f)));
  float32x4_t p = vdupq_n_f32(1.0f / 720.0f);
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.0f / 120.0f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.0f / 24.0f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.0f / 6.0f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(0.5f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.0f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.0f));
  const int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  const float32x4_t e = vmulq_f32(p, vreinterpretq_f32_s32(bits));
  return vbslq_f32(vceqq_f32(input, input), e, input);
}

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
    for (int v = 0; v < 4; ++v) lane[v] = Above(vld1q_f32(at + 4 * v), lane[v]);
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
