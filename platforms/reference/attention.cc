// The attention answer key: one position (scores) or one output value (values) at a time, in
// exactly the order of the contracts in kernels.h.
#include "platforms/common/attention_common.h"
#include "platforms/common/f16.h"
#include "platforms/common/fixed_order.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace reference {
namespace {

float Load(const void* base, size_t index, KvType type) {
  if (type == KvType::kF16) return F16ToF32(static_cast<const uint16_t*>(base)[index]);
  return static_cast<const float*>(base)[index];
}

}  // namespace

void attn_scores_1p__reference(size_t n, size_t d, const float* q, const void* k, size_t k_stride, KvType type,
                               float* out) {
  for (size_t s = 0; s < n; ++s) {
    float lane[kLanes] = {};
    for (size_t i = 0; i < d; ++i) lane[i % kLanes] += q[i] * Load(k, s * k_stride + i, type);
    out[s] = ReduceLanes(lane);
  }
}

void attn_values_1d__reference(size_t n, size_t d, const float* w, const void* v, size_t v_stride, KvType type,
                               bool accumulate, float* out) {
  for (size_t i = 0; i < d; ++i) {
    float acc = accumulate ? out[i] : 0.0f;
    for (size_t s = 0; s < n; ++s) acc += w[s] * Load(v, s * v_stride + i, type);
    out[i] = acc;
  }
}

void attn_i8_scores_1p__reference(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride,
                                  float q_scale, const float* k_scales, float* out) {
  for (size_t s = 0; s < n; ++s) {
    const int32_t dot = DotI8Scalar(0, d, q, k + s * k_stride);
    ScaleDotsScalar(1, &dot, q_scale, k_scales + s, out + s);
  }
}

void attn_i8_values_1d__reference(size_t n, size_t d, const float* p, float p_mult, const int8_t* v, size_t v_stride,
                                  bool accumulate, int32_t* out) {
  ValuesI8Chunked(n, d, p, p_mult, v, v_stride, accumulate, out, QuantizeWeightsScalar,
                  [](size_t m, size_t dd, const int16_t* w, const int8_t* rows, size_t stride, bool acc, int32_t* sums) {
                    ValuesI8Scalar(m, 0, dd, w, rows, stride, acc, sums);
                  });
}

}  // namespace reference
}  // namespace edgeformer
