// SoftmaxFn (kernels.h) with NEON: the 4-lane loop of platforms/common/softmax_4x4.h, ExpLanes
// (platforms/common/float_math.h) on 4 lanes; the maximum is a compare and select (Ops::Above),
// NaN ignored as Max16 does.
#include <arm_neon.h>

#include "platforms/common/float_math.h"
#include "platforms/common/softmax_4x4.h"
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

struct SoftmaxLanes : Ops {
  using V = float32x4_t;
  static V Load(const float* p) { return vld1q_f32(p); }
  static void Store(float* p, V v) { vst1q_f32(p, v); }
  static V Exp(V x) { return Exp4(x); }
};

}  // namespace

void softmax_4x4__neon(float* x, size_t n) { Softmax4x4With<SoftmaxLanes>(x, n); }

}  // namespace neon
}  // namespace edgeformer
