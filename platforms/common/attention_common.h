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
