// One layer of any stack the file can state (gemma.cpp's TransformerLayer): norms before or after
// each block, attention with its mask and position scheme (rotary, ALiBi, T5 buckets, none) over
// the layer's cache, and the feed-forward with its activation. Decoders and encoders, prefill and
// decode, all run this one function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "core/profile.h"
#include "core/status.h"
#include "model/config.h"
#include "model/weights.h"
#include "ops/ops.h"

namespace edgeformer {

// Where a pass's rows sit: row i goes to cache position first + i and is at position
// positions[i] of its text, whose rows are cache positions [seg_begin[i], seg_end[i]) (null
// arrays: one text, starting at cache position 0).
struct RowLayout {
  size_t n = 0;
  size_t first = 0;
  const int32_t* positions = nullptr;
  const uint32_t* seg_begin = nullptr;
  const uint32_t* seg_end = nullptr;
  // Beams: when not null, row i is sequence i's token at position `first` (every row at that
  // position), kept at slot tables[i][first / block] * block + first % block of the cache, its
  // keys found through tables[i] (model/kv_blocks.h).
  const uint32_t* const* tables = nullptr;
  size_t block = 0;
};

// The session's buffers a layer works in: [rows][width] each, rows >= RowLayout::n.
struct LayerScratch {
  float* x;       // [dim]: the residual stream, read and written
  float* xb;      // [dim]
  float* tmp;     // [dim]
  float* q;       // [q_dim]
  float* att;     // [q_dim]
  float* k_rows;  // [kv_dim]
  float* v_rows;  // [kv_dim]
  float* gate;    // [hidden_dim]
  float* up;      // [hidden_dim]
  float* scores;  // [n_heads][scores_stride]
  size_t scores_stride;
  ops::QuantizedRows xq;  // rows of the widest matmul input
};

// Tables a session computes once.
struct LayerTables {
  const float* rope = nullptr;          // [context][rotary_dim / 2][2]
  const float* rope_local = nullptr;    // the same for the layers with their own base (rope_theta)
  const float* alibi_slopes = nullptr;  // [n_heads]
  const int32_t* buckets = nullptr;     // T5 bucket of (key - query + bucket_offset)
  int64_t bucket_offset = 0;
};

// One layer's keys and values: head-major, [n_kv_heads][slots][head_dim] of `type`. Position s
// is at slot s (slots = context), or, for a sliding-window layer with a ring, at slots s % ring
// and s % ring + ring (slots = 2 ring; ops::StoreKv). An int8 cache has a scale per kv head and
// slot: k_scales / v_scales [n_kv_heads][slots].
struct LayerCache {
  char* k;
  char* v;
  size_t head_stride;  // elements between two kv heads: slots * head_dim
  KvType type;
  size_t ring = 0;
  float* k_scales = nullptr;  // kI8 only
  float* v_scales = nullptr;
  // A cross-attention layer's source keys and values (encoder-decoders), of the same type and
  // layout from slot 0: n_keys positions, every query attends to all of them.
  struct Source {
    const char* k = nullptr;
    const char* v = nullptr;
    size_t head_stride = 0;
    size_t n_keys = 0;
    const float* k_scales = nullptr;  // kI8 only
    const float* v_scales = nullptr;
  } source;
};

// Runs layer `l` of `c` on rows.n rows of scratch.x: writes their keys and values into the
// cache, attends as the layer's mask says (then, in a cross-attention layer, to cache.source,
// which must hold at least one key), and updates x in place. Fails only when an XNNPACK
// operator does. Times its operators into `profile` (may be null) under `phase`.
Error RunLayer(const ops::Context& ctx, const ModelConfig& c, uint32_t l, const LayerWeights& w,
               const Weight& shared_relative_bias, const LayerTables& tables, const LayerCache& cache,
               const RowLayout& rows, const LayerScratch& s, Profile* profile, Phase phase);

// Quantizes n rows of `in` [n][k] into xq once for a group of matmuls that read them, when any of
// them is int8 or int4 (ctx's quantize kernel). Helpers of the layer and the session's head.
void QuantizeFor(const ops::Context& ctx, std::initializer_list<const Weight*> group, const float* in, size_t n,
                 size_t k, const ops::QuantizedRows& xq);

// out = in w^T (+ bias, when present) for n rows; int8 weights read xq (QuantizeFor first).
Error LinearRows(const ops::Context& ctx, const Weight& w, const Weight& bias, size_t n, const float* in,
                 size_t in_stride, const ops::QuantizedRows& xq, float* out, size_t out_stride);

// out = norm(in) for n rows of dim values (RMSNorm, or LayerNorm with its bias). out may be in.
void NormRows(NormKind kind, const Weight& weight, const Weight& bias, const float* in, size_t n, size_t dim,
              float eps, float* out);

// Applies a non-gated activation in place (ReLU, GELU, GELU tanh, SiLU) to n values.
void Activate(ActivationKind kind, float* x, size_t n);

}  // namespace edgeformer
