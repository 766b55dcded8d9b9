// The operators of a transformer forward pass. One operator per .cc file in this folder.
//
// Conventions: activations are row-major f32 [rows][cols] with the given row stride (elements);
// outputs never alias inputs unless stated. No operator allocates; scratch is passed in.
// Reductions (norms, softmax, attention) sum in the fixed 16-lane order of ops/math.h and exp is
// ops::Exp, so results are the same on every CPU; matmuls follow their kernels' contracts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "ops/params.h"
#include "ops/weight.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace ops {

class XnnOperators;

// What an operator may use besides its arguments. The pointers outlive the call; xnn is null
// unless the session runs float matmuls through XNNPACK.
struct Context {
  const KernelTable* kernels;
  ThreadPool* pool;
  const XnnOperators* xnn = nullptr;
  size_t xnn_min_rows = 1;  // smaller matmuls run natively
};

// Int8 rows with one f32 scale each: value[i][k] = scales[i] * data[i * stride + k]. stride is at
// least ActivationRowBytes(k) of the widest row, as the kernels read whole steps.
struct QuantizedRows {
  int8_t* data;    // [m][stride]
  float* scales;   // [m]
  size_t stride;   // >= ActivationRowBytes(k)
  int32_t* sums;   // [m][stride / 32]: each 32 values' sum (the int4 kernels' correction)
};

// Symmetric dynamic quantization of each row of x [m][k]: scale = max|x| / 127,
// q = round-half-even(x / scale) in [-127, 127]. All-zero rows get scale 0 and q = 0. The row's
// values from k to ActivationRowBytes(k) are set to 0, and the sums of its 32-value groups up to
// there are written. ctx's QuantizeRowsFn kernel: the reference's bits on every CPU.
void QuantizeRows(const Context& ctx, const float* x, size_t m, size_t k, size_t x_stride, const QuantizedRows& out);

// y [m][w.rows] = x [m][w.cols] * w^T. Int8 weights read `xq` (x already quantized by
// QuantizeRows); f32 weights read `x`, through XNNPACK when ctx.xnn has an operator for w (and
// the rows are contiguous). Splits output columns across the pool's threads. Fails (kInternal)
// only when XNNPACK's operator does.
Error Linear(const Context& ctx, const Weight& w, size_t m, const float* x, size_t x_stride,
            const QuantizedRows& xq, float* y, size_t y_stride);

// out [m][dim] = weight * x / sqrt(mean(x^2) + eps), row by row. out may equal x.
void RmsNorm(const float* x, const float* weight, size_t m, size_t dim, float eps, float* out);

// out [m][dim] = weight * (x - mean(x)) / sqrt(var(x) + eps) + bias, row by row (mean and
// variance summed in the Dot16 order). out may equal x.
void LayerNorm(const float* x, const float* weight, const float* bias, size_t m, size_t dim, float eps, float* out);

// x[i] = gelu(x[i]) with GPT-2's tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
// tanh computed from ops::Exp.
void GeluTanh(float* x, size_t n);
float GeluTanhValue(float v);

// x[i] = gelu(x[i]) = 0.5 x (1 + erf(x / sqrt(2))), erf from ops::Erf.
void GeluErf(float* x, size_t n);
float GeluErfValue(float v);

// x[i] = max(x[i], 0).
void Relu(float* x, size_t n);

// x[i] = silu(x[i]) = x[i] / (1 + exp(-x[i])) (Marian's "swish"), exp from ops::Exp.
void Silu(float* x, size_t n);

// x[i] = tanh(x[i]) (from ops::Exp).
void Tanh(float* x, size_t n);

// gate[i] = gelu(gate[i]) * up[i], with the tanh or the erf GELU.
void GeGLU(float* gate, const float* up, size_t n, bool tanh_form);

// x [n] /= max(|x|, 1e-12) (torch.nn.functional.normalize).
void L2Normalize(float* x, size_t n);

// table [max_pos][dim]: the original Transformer's sinusoidal positions (dim even).
void SinusoidalTable(size_t max_pos, size_t dim, float* table);

// ALiBi's slope of each of n_heads heads (any count, BLOOM's rule when not a power of two).
void AlibiSlopes(size_t n_heads, float* slopes);

// T5's relative position bucket of key position - query position, in [0, p.buckets).
int32_t T5Bucket(int64_t relative, const RelativeParams& p);

// y[i][j] += bias[j] for i < m, j < n (row stride y_stride).
void AddBias(float* y, const float* bias, size_t m, size_t n, size_t y_stride);

// Rotates the first rotary_dim values of each head of vec [n_heads * head_dim] by the angles of
// one position: pairs (2i, 2i + 1) (kAdjacentPairs) or (i, i + rotary_dim / 2) (kHalfSplit) by
// angle i; cos_sin holds rotary_dim / 2 (cos, sin) pairs.
void Rope(float* vec, size_t n_heads, size_t head_dim, size_t rotary_dim, RotaryStyle style, const float* cos_sin);

// Fills table [max_pos][rotary_dim / 2][2] with (cos, sin) of pos * f_i, f_i = 1 / theta^(2i /
// rotary_dim), rescaled as RopeParams says.
void RopeTable(size_t max_pos, size_t rotary_dim, const RopeParams& params, float* table);

// Attention of n_queries consecutive queries (cache positions first_pos, first_pos + 1, ..)
// over one layer's cache. Query t belongs to a text whose rows sit at cache positions
// [seg_begin[t], seg_end[t]) (null arrays: one text, [0, first_pos + n_queries)); it attends to
// keys [seg_begin, p + 1) with a causal mask (p = first_pos + t; with a window, [max(seg_begin,
// p + 1 - window), p + 1)), to its whole text with a
// bidirectional one, and with a prefix-LM mask to [seg_begin, max(p + 1, min(seg_begin +
// prefix_len, seg_end))). The cache is head-major: kv head h's value at position s starts
// kv_head_stride * h + kv_stride * s elements of kv_type into k_cache / v_cache (with a ring,
// at slot s % ring: a window of at most ring keys is then consecutive slots), so one head's
// rows are contiguous when kv_stride is head_dim. kv head h serves query heads h * group .. h *
// group + group - 1 (group = n_heads / n_kv_heads). q and out rows hold n_heads * head_dim
// values. scores: scratch of n_heads rows of scores_stride >= first_pos + n_queries floats (one
// per head, so heads can run on different threads). Score of key s = the kernel's dot product
// times `scale` (soft-capped when softcap > 0), plus alibi_slopes[h] * (s - seg_begin) (ALiBi, when not null), plus
// relative_bias[bucket[s - p + bucket_offset] * n_heads + h] (T5, when not null); then
// softmax (the SoftmaxFn kernel: ops::Softmax's bits); outputs are the kernel's weighted sums.
// An int8 cache (kv_type kI8) has a scale per kv head and slot, k_scales /
// v_scales[scale_head_stride * h + slot], and is read in integers (the AttnI8 kernels): the
// query head becomes int16 (q16 = RoundEven(q / q_scale), q_scale = max|q| / min(32767,
// (2^31 - 1) / (128 head_dim))), a key's score before soft-capping is
// (float(q16 . K8) * m) * k_scale with m = q_scale * scale (q_scale / sqrt(head_dim) when scale
// is 0); each softmax weight times its value's scale, p_s, becomes
// w_s = RoundEven(p_s * (1 / w_scale)) with w_scale = max(max p / 32767, sum p / 2^23, 2^-126)
// (so the int32 sums cannot overflow, and 1 / w_scale is finite), and the output is float(sum_s w_s V8_s) * w_scale. f32 and f16
// caches use the float kernels.
struct AttentionArgs {
  const float* q;
  size_t q_stride;
  const void* k_cache;
  const void* v_cache;
  KvType kv_type;
  size_t kv_head_stride;
  size_t kv_stride;
  size_t first_pos;
  size_t n_queries;
  size_t n_heads;
  size_t n_kv_heads;
  size_t head_dim;
  float* scores;
  size_t scores_stride;
  float* out;
  size_t out_stride;
  MaskKind mask = MaskKind::kCausal;
  size_t prefix_len = 0;
  const uint32_t* seg_begin = nullptr;
  const uint32_t* seg_end = nullptr;
  float scale = 0.0f;  // 0: 1 / sqrt(head_dim)
  float softcap = 0.0f;  // scores -> softcap * tanh(scores / softcap) after the scale; 0: none
  size_t window = 0;     // causal: keys (p - window, p] only; 0: none
  size_t ring = 0;       // the cache holds position s at slot s % ring (and s % ring + ring); 0: at s
  const float* alibi_slopes = nullptr;
  const float* relative_bias = nullptr;
  const int32_t* bucket = nullptr;
  int64_t bucket_offset = 0;
  const float* k_scales = nullptr;  // kI8 only
  const float* v_scales = nullptr;
  size_t scale_head_stride = 0;
  // Cross-attention: when not 0, every query attends to keys [0, n_keys) of the cache (mask,
  // window, ring and seg_* unused; no position bias).
  size_t n_keys = 0;
  // Beams (model/kv_blocks.h): when not null, every query is at position first_pos (one token of
  // each of n_queries sequences) and query t's position s is at slot
  // tables[t][s / block] * block + s % block (ring unused). Each run of consecutive slots is one
  // kernel call, the values chained (accumulate), so the bits are those of one call.
  const uint32_t* const* tables = nullptr;
  size_t block = 0;
};

// Stores n rows of n_kv_heads * head_dim f32 values (row stride src_stride) at positions
// first_pos.. of a head-major cache laid out as in AttentionArgs (kv_stride = head_dim): a copy
// for f32, round to nearest even for f16. int8 (kI8) keeps one scale per head and position in
// scales [n_kv_heads][kv_head_stride / head_dim] (same slots): scale = max|x| / 127 over the
// head's values, q = x / scale rounded to nearest even (all zero: scale 0; a value that is not
// finite: scale NaN, so attention sees NaN as it would in f32).
// With ring > 0, position s goes to slots s % ring and s % ring + ring (a mirrored ring of
// 2 ring slots per head), so that any ring consecutive positions are consecutive slots.
void StoreKv(const float* src, size_t n, size_t src_stride, size_t n_kv_heads, size_t head_dim, size_t first_pos,
             KvType kv_type, void* cache, size_t kv_head_stride, size_t ring = 0, float* scales = nullptr);

// Splits the heads across the pool's threads.
void Attention(const Context& ctx, const AttentionArgs& args);


// The softmax of n values in place, as the SoftmaxFn reference kernel computes it (kernels.h).
void Softmax(float* x, size_t n);

// gate[i] = silu(gate[i]) * up[i] for n values (ctx's SwiGluFn kernel: the reference's bits on
// every CPU). gate and up do not overlap.
void SwiGLU(const Context& ctx, float* gate, const float* up, size_t n);

// out [dim] = row `token` of the embedding table (dequantized if int8). token must be in range.
void Embed(const Weight& table, int32_t token, float* out);

// x[i] += y[i] for n values.
void AddInPlace(float* x, const float* y, size_t n);

}  // namespace ops
}  // namespace edgeformer
