// What the attention kernels of every ISA share: the element type of a KV type, the scalar path
// for output values past the last whole vector (the same multiply-then-add order as the vector
// code), the int8 kernels' scalar tails, and the two entry points that dispatch on the KV type.
//
// Included only by kernel files, so each ISA compiles it with its own flags; every function here
// is static, so no instantiation leaks between ISAs.
#pragma once

#include <cstddef>
#include <type_traits>

#include "platforms/common/f16.h"
#include "platforms/common/float_math.h"
#include "platforms/kernels.h"

namespace edgeformer {

template <KvType T>
using KvElem = typename std::conditional<T == KvType::kF16, uint16_t, float>::type;

template <KvType T>
static inline float LoadScalar(const KvElem<T>* p) {
  if constexpr (T == KvType::kF16) {
    return F16ToF32(*p);
  } else {
    return *p;
  }
}

// out[i] for begin <= i < d: the AttnValuesFn sum, one value at a time.
template <KvType T>
static inline void ValuesScalar(size_t n, size_t begin, size_t d, const float* w, const KvElem<T>* v, size_t stride,
                                bool accumulate, float* out) {
  for (size_t i = begin; i < d; ++i) {
    float acc = accumulate ? out[i] : 0.0f;
    for (size_t s = 0; s < n; ++s) acc += w[s] * LoadScalar<T>(v + s * stride + i);
    out[i] = acc;
  }
}

// The int8 kernels' tails (kernels.h, AttnScoresI8Fn and AttnValuesI8Fn), one value at a time:
// sum_i q[i] row[i] for begin <= i < d, and out[i] for begin <= i < d.
static inline int32_t DotI8Scalar(size_t begin, size_t d, const int16_t* q, const int8_t* row) {
  int32_t sum = 0;
  for (size_t i = begin; i < d; ++i) sum += int32_t{q[i]} * row[i];
  return sum;
}

static inline void ValuesI8Scalar(size_t n, size_t begin, size_t d, const int16_t* w, const int8_t* v, size_t stride,
                                  bool accumulate, int32_t* out) {
  for (size_t i = begin; i < d; ++i) {
    int32_t acc = accumulate ? out[i] : 0;
    for (size_t s = 0; s < n; ++s) acc += int32_t{w[s]} * v[s * stride + i];
    out[i] = acc;
  }
}

// The int8 kernels' float steps (kernels.h), one value at a time: out[s] = ((float)dots[s] *
// q_scale) * k_scales[s], and w[s] = RoundEven of p[s] * mult clamped to [-32767, 32767].
static inline void ScaleDotsScalar(size_t n, const int32_t* dots, float q_scale, const float* k_scales, float* out) {
  for (size_t s = 0; s < n; ++s) out[s] = (static_cast<float>(dots[s]) * q_scale) * k_scales[s];
}

static inline void QuantizeWeightsScalar(size_t n, const float* p, float mult, int16_t* w) {
  for (size_t s = 0; s < n; ++s) {
    float x = p[s] * mult;
    x = x < 32767.0f ? x : 32767.0f;
    x = x > -32767.0f ? x : -32767.0f;
    w[s] = static_cast<int16_t>(RoundEven(x));
  }
}

// The int8 kernels' entry points from an ISA's parts, positions in chunks of kI8Chunk on the
// stack: dots(n, d, q, k, k_stride, int32_t* sums) then scale(n, sums, q_scale, k_scales, out)
// (ScaleDotsScalar's values); quantize(n, p, mult, int16_t* w) (QuantizeWeightsScalar's) then
// sums(n, d, w, v, v_stride, accumulate, out). Integer sums are exact, so chunks change no bit.
constexpr size_t kI8Chunk = 128;

template <typename Dots, typename Scale>
static inline void ScoresI8Chunked(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride,
                                   float q_scale, const float* k_scales, float* out, Dots dots, Scale scale) {
  for (size_t s0 = 0; s0 < n; s0 += kI8Chunk) {
    const size_t m = n - s0 < kI8Chunk ? n - s0 : kI8Chunk;
    int32_t sums[kI8Chunk];
    dots(m, d, q, k + s0 * k_stride, k_stride, sums);
    scale(m, sums, q_scale, k_scales + s0, out + s0);
  }
}

template <typename Quantize, typename Sums>
static inline void ValuesI8Chunked(size_t n, size_t d, const float* p, float mult, const int8_t* v, size_t v_stride,
                                   bool accumulate, int32_t* out, Quantize quantize, Sums sums) {
  size_t s0 = 0;
  do {  // once at least: n = 0 without accumulate writes zeros
    const size_t m = n - s0 < kI8Chunk ? n - s0 : kI8Chunk;
    int16_t w[kI8Chunk];
    quantize(m, p + s0, mult, w);
    sums(m, d, w, v + s0 * v_stride, v_stride, accumulate || s0 != 0, out);
    s0 += kI8Chunk;
  } while (s0 < n);
}

}  // namespace edgeformer

// Defines an ISA's two attention entry points (declared by kernels.inc) from its templates
// Dot16Rows<KvType> and Values<KvType>, each instantiated for f32 and f16.
#define EF_DEFINE_ATTN_ENTRY_POINTS(scores, values)                                                  \
  void scores(size_t n, size_t d, const float* q, const void* k, size_t k_stride, KvType type,       \
              float* out) {                                                                          \
    if (type == KvType::kF16) {                                                                      \
      Dot16Rows<KvType::kF16>(n, d, q, k, k_stride, out);                                            \
    } else {                                                                                         \
      Dot16Rows<KvType::kF32>(n, d, q, k, k_stride, out);                                            \
    }                                                                                                \
  }                                                                                                  \
  void values(size_t n, size_t d, const float* w, const void* v, size_t v_stride, KvType type,       \
              bool accumulate, float* out) {                                                         \
    if (type == KvType::kF16) {                                                                      \
      Values<KvType::kF16>(n, d, w, v, v_stride, accumulate, out);                                   \
    } else {                                                                                         \
      Values<KvType::kF32>(n, d, w, v, v_stride, accumulate, out);                                   \
    }                                                                                                \
  }

// Defines an ISA's two int8 attention entry points (declared by kernels.inc) from its parts Dots,
// ScaleDots, QuantizeWeights and Sums (see ScoresI8Chunked and ValuesI8Chunked above).
#define EF_DEFINE_ATTN_I8_ENTRY_POINTS(scores, values)                                                 \
  void scores(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride, float q_scale,   \
              const float* k_scales, float* out) {                                                     \
    ScoresI8Chunked(n, d, q, k, k_stride, q_scale, k_scales, out, Dots, ScaleDots);                    \
  }                                                                                                    \
  void values(size_t n, size_t d, const float* p, float p_mult, const int8_t* v, size_t v_stride,      \
              bool accumulate, int32_t* out) {                                                         \
    ValuesI8Chunked(n, d, p, p_mult, v, v_stride, accumulate, out, QuantizeWeights, Sums);             \
  }
