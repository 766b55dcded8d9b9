// Declarations of every microkernel in kernels.inc, and the table the runtime dispatches through.
//
// Contracts (all kernels of a kind compute bit-identical results):
//
// QGemmFn: for i < m, j < n, with W the [n][k] matrix stored at w in the Blocked16x4 layout
// (platforms/layout.h; w points at a block boundary):
//   acc = sum_k a[i * a_stride + k] * W[j][k]                        (exact int32)
//   c[i * c_stride + j] = (float)acc * (a_scale[i] * w_scale[j])
// a values are in [-127, 127] (the dynamic quantizer never makes -128); W values in [-128, 127];
// k <= 65536 so that int32 cannot overflow. Each activation row is readable for
// ActivationRowBytes(k) bytes (values past k are ignored: W is zero there). w_scale and
// w_row_sum (sum_k W[j][k]) are readable for BlockedRows(n) entries; kernels that bias
// activations to unsigned (VNNI) use the row sums to stay exact. Strides are in elements.
//
// Q4GemmFn: for i < m, j < n, with W the [n][k] int4 matrix in groups of `group` columns (32, 64
// or 128) stored at w in the BlockedInt4 layout (platforms/layout.h; w at a block boundary,
// w_scale at that block's first f16 scale, [blocks][groups][16]):
//   acc_g = sum over the columns kk < k of group g of a[i * a_stride + kk] * W[j][kk]  (exact int32)
//   s = 0.0f; for g = 0, 1, ...: s = s + (float)acc_g * S[j][g]   (S widened exactly from f16; a
//                                                                  multiply, then an add)
//   c[i * c_stride + j] = s * a_scale[i]
// a values are in [-127, 127], k <= 65536; activation rows readable for ActivationRowBytes(k)
// bytes (values past k are ignored: W is 0 there). a_sums[i * (a_stride / 32) + x] is the sum of
// row i's values 32x .. 32x + 31 (the kernels that multiply by q + 8 subtract 8 times a group's
// sum), for x < ActivationRowBytes(k) / 32.
//
// SGemmFn: for i < m, j < n: c[i * c_stride + j] = Dot16(a + i * a_stride, W_j, k)
// (platforms/common/fixed_order.h: 16 lanes, fixed tree, no fused multiply-add), where W_j is the
// k values at w + j * w_stride elements of `w_type` (f32, or f16 widened exactly to f32).
//
// AttnScoresFn (attention scores of one query head over an f32 or f16 cache): for s < n,
//   out[s] = Dot16(q, K_s, d)         (platforms/common/fixed_order.h: 16 lanes, fixed tree)
// where K_s is the d values at k + s * k_stride elements of `type` (kF32 or kF16), widened
// exactly to f32.
// AttnValuesFn (the weighted sum of values): for i < d,
//   out[i] = (((a + w[0] * V_0[i]) + w[1] * V_1[i]) + ...) + w[n-1] * V_{n-1}[i]
// with V_s like K_s, and a = out[i] when `accumulate` (the sum goes on from a previous call's, so
// positions split into runs give the bits of one call), else +0.0f. Both read exactly those n rows
// of d values.
//
// An int8 cache (its per-row scales are the caller's, see ops::Attention) is read in integers,
// exactly, so any order gives the same result; the float steps around the integers are fixed
// per value (platforms/common/float_math.h; in the default rounding mode, which the library
// assumes), so any vector width gives the same bits:
// AttnScoresI8Fn: for s < n, dot_s = sum_i q[i] * K_s[i] (exact int32), K_s the d int8 values at
// k + s * k_stride, and out[s] = ((float)dot_s * q_scale) * k_scales[s]; the caller keeps
// sum_i |q[i]| * 128 below 2^31.
// AttnValuesI8Fn: w_s = RoundEven(min(max(p[s] * p_mult, -32767), 32767)) (int16), then for
// i < d, out[i] = a + sum_s w_s * V_s[i] (exact int32), a = out[i] when `accumulate`, else 0;
// every p[s] * p_mult is finite, and the caller keeps |a| + sum_s |w_s| * 128 below 2^31.
//
// SoftmaxFn: n values in place (n = 0: nothing), as platforms/common: m = Max16(x, n) (NaN
// ignored), e_i = Exp(x_i - m), x_i = e_i * (1.0f / Sum16(e, n)). Every operation is the scalar
// code's, lane by lane, so any vector width gives its bits.
//
// Kernels write only c[i][j] for i < m, j < n, read nothing outside the given rows, allocate
// nothing and are thread-safe on disjoint outputs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platforms/isa.h"
#include "platforms/layout.h"

namespace edgeformer {

// How a KV cache or a float weight stores its values: f32, IEEE half (platforms/common/f16.h), or
// int8 (KV caches only; the kernels read the integers, the scales are the caller's).
enum class KvType : uint8_t { kF32 = 0, kF16 = 1, kI8 = 2 };

inline size_t KvTypeBytes(KvType type) { return type == KvType::kI8 ? 1 : type == KvType::kF16 ? 2 : 4; }

using QGemmFn = void (*)(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                         const float* a_scale, const int8_t* w, const float* w_scale,
                         const int32_t* w_row_sum, float* c, size_t c_stride);

using Q4GemmFn = void (*)(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                          const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale,
                          float* c, size_t c_stride);

using SGemmFn = void (*)(size_t m, size_t n, size_t k, const float* a, size_t a_stride,
                         const void* w, size_t w_stride, KvType w_type, float* c, size_t c_stride);

using AttnScoresFn = void (*)(size_t n, size_t d, const float* q, const void* k, size_t k_stride,
                             KvType type, float* out);
using AttnValuesFn = void (*)(size_t n, size_t d, const float* w, const void* v, size_t v_stride,
                              KvType type, bool accumulate, float* out);
using AttnScoresI8Fn = void (*)(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride,
                                float q_scale, const float* k_scales, float* out);
using AttnValuesI8Fn = void (*)(size_t n, size_t d, const float* p, float p_mult, const int8_t* v, size_t v_stride,
                                bool accumulate, int32_t* out);
using SoftmaxFn = void (*)(float* x, size_t n);

// QuantizeRowsFn: symmetric dynamic quantization of each row i < m of x (rows x_stride floats
// apart): scales[i] = max|x| / 127 (NaN ignored; 0 for an all-zero row), q[i * q_stride + j] =
// round-half-even(x * (127 / max|x|)) clamped to [-127, 127] (NaN to 0) for j < k, and 0 for k <= j <
// ActivationRowBytes(k); sums[i * (q_stride / 32) + g] = the sum of q's values [32 g, 32 g + 32)
// of row i, for g < ActivationRowBytes(k) / 32 (the int4 kernels' correction). q_stride >=
// ActivationRowBytes(k), a multiple of 32. Every kernel gives the reference's bits.
using QuantizeRowsFn = void (*)(const float* x, size_t m, size_t k, size_t x_stride, int8_t* q, size_t q_stride,
                                float* scales, int32_t* sums);
// SwiGluFn: gate[i] = gate[i] / (1 + Exp(-gate[i])) * up[i] for i < n (Exp of
// platforms/common/float_math.h, each operation rounded as written): the reference's bits (any NaN
// for a NaN). gate and up do not overlap.
using SwiGluFn = void (*)(float* gate, const float* up, size_t n);

#define EF_QGEMM_KERNEL(isa, fn)                                                                 \
  namespace isa {                                                                                \
  void fn(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale, \
          const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,             \
          size_t c_stride);                                                                      \
  }
#define EF_Q4GEMM_KERNEL(isa, fn)                                                                  \
  namespace isa {                                                                                  \
  void fn(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,            \
          const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale,      \
          float* c, size_t c_stride);                                                              \
  }
#define EF_SGEMM_KERNEL(isa, fn)                                                          \
  namespace isa {                                                                         \
  void fn(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const void* w,  \
          size_t w_stride, KvType w_type, float* c, size_t c_stride);                     \
  }
#define EF_ATTN_KERNEL(isa, scores, values)                                                        \
  namespace isa {                                                                                  \
  void scores(size_t n, size_t d, const float* q, const void* k, size_t k_stride, KvType type,     \
              float* out);                                                                         \
  void values(size_t n, size_t d, const float* w, const void* v, size_t v_stride, KvType type,     \
              bool accumulate, float* out);                                                        \
  }
#define EF_ATTN_I8_KERNEL(isa, scores, values)                                                            \
  namespace isa {                                                                                         \
  void scores(size_t n, size_t d, const int16_t* q, const int8_t* k, size_t k_stride, float q_scale,       \
              const float* k_scales, float* out);                                                         \
  void values(size_t n, size_t d, const float* p, float p_mult, const int8_t* v, size_t v_stride,         \
              bool accumulate, int32_t* out);                                                             \
  }
#define EF_SOFTMAX_KERNEL(isa, fn) \
  namespace isa {                  \
  void fn(float* x, size_t n);     \
  }
#define EF_QUANTIZE_KERNEL(isa, fn)                                                                      \
  namespace isa {                                                                                        \
  void fn(const float* x, size_t m, size_t k, size_t x_stride, int8_t* q, size_t q_stride, float* scales, \
          int32_t* sums);                                                                                \
  }
#define EF_SWIGLU_KERNEL(isa, fn)                     \
  namespace isa {                                     \
  void fn(float* gate, const float* up, size_t n);    \
  }
#include "platforms/kernels.inc"
#undef EF_SOFTMAX_KERNEL
#undef EF_QUANTIZE_KERNEL
#undef EF_SWIGLU_KERNEL
#undef EF_QGEMM_KERNEL
#undef EF_Q4GEMM_KERNEL
#undef EF_SGEMM_KERNEL
#undef EF_ATTN_KERNEL
#undef EF_ATTN_I8_KERNEL

// One kernel of the list, with the ISA it needs and its name, for dispatch, tests and benchmarks.
template <typename Fn>
struct KernelEntry {
  Isa isa;
  const char* name;
  Fn fn;
};

// The two functions of one attention kernel.
struct AttnFns {
  AttnScoresFn scores;
  AttnValuesFn values;
};
struct AttnI8Fns {
  AttnScoresI8Fn scores;
  AttnValuesI8Fn values;
};

// Every kernel of this build, in kernels.inc order. Static storage.
const KernelEntry<QGemmFn>* QGemmKernels(size_t* count);
const KernelEntry<Q4GemmFn>* Q4GemmKernels(size_t* count);
const KernelEntry<SGemmFn>* SGemmKernels(size_t* count);
const KernelEntry<AttnFns>* AttnKernels(size_t* count);
const KernelEntry<AttnI8Fns>* AttnI8Kernels(size_t* count);
const KernelEntry<SoftmaxFn>* SoftmaxKernels(size_t* count);
const KernelEntry<QuantizeRowsFn>* QuantizeKernels(size_t* count);
const KernelEntry<SwiGluFn>* SwiGluKernels(size_t* count);

// The kernels the runtime uses, chosen once for an ISA cap.
struct KernelTable {
  Isa isa;              // the ISA cap the kernels were chosen under (the best the CPU allows)
  QGemmFn qgemm;
  const char* qgemm_name;
  Isa qgemm_isa;
  SGemmFn sgemm;
  const char* sgemm_name;
  Isa sgemm_isa;
  AttnFns attn;
  const char* attn_name;
  Isa attn_isa;
  Q4GemmFn q4gemm;
  const char* q4gemm_name;
  Isa q4gemm_isa;
  AttnI8Fns attn_i8;
  const char* attn_i8_name;
  Isa attn_i8_isa;
  SoftmaxFn softmax;
  const char* softmax_name;
  Isa softmax_isa;
  QuantizeRowsFn quantize;
  const char* quantize_name;
  Isa quantize_isa;
  SwiGluFn swiglu;
  const char* swiglu_name;
  Isa swiglu_isa;
};

// Picks the best kernel of each kind that the CPU supports at or below `cap`.
KernelTable SelectKernels(Isa cap);

}  // namespace edgeformer
