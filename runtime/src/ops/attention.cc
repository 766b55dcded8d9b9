#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {
namespace {

struct Task {
  const AttentionArgs* args;
  const AttnFns* fns;
  const AttnI8Fns* i8;
  SoftmaxFn softmax;
};

// The cache positions [begin, end) query t attends to (AttentionArgs says which).
void KeyRange(const AttentionArgs& a, size_t t, size_t* begin, size_t* end) {
  if (a.n_keys != 0) {
    *begin = 0;
    *end = a.n_keys;
    return;
  }
  const size_t p = a.tables != nullptr ? a.first_pos : a.first_pos + t;
  const size_t seg_begin = a.seg_begin != nullptr ? a.seg_begin[t] : 0;
  const size_t seg_end = a.seg_end != nullptr ? a.seg_end[t] : a.first_pos + a.n_queries;
  *begin = seg_begin;
  switch (a.mask) {
    case MaskKind::kCausal:
      *end = p + 1;
      if (a.window != 0 && p + 1 > seg_begin + a.window) *begin = p + 1 - a.window;
      break;
    case MaskKind::kBidirectional: *end = seg_end; break;
    case MaskKind::kPrefixLM: {
      const size_t prefix_end = seg_begin + a.prefix_len < seg_end ? seg_begin + a.prefix_len : seg_end;
      *end = p + 1 > prefix_end ? p + 1 : prefix_end;
      break;
    }
  }
}

// A query head as int16 in [-limit, limit], limit = min(32767, (2^31 - 1) / (128 d)) so that its
// integer scores stay in int32: scale = max|x| / limit, q = RoundEven(x / scale). Returns the
// scale: 0 when all are zero (q zeros), NaN when one is not finite (q zeros).
float QuantizeQuery(const float* in, size_t d, int16_t* out) {
  const float limit = static_cast<float>(std::min<size_t>(32767, 2147483647u / (128 * d)));
  const float amax = MaxAbs16(in, d);
  const float scale = amax / limit;
  if (!(scale > 0.0f) || !std::isfinite(amax)) {  // all zero (or so small the scale underflows)
    std::fill(out, out + d, int16_t{0});
    return std::isfinite(amax) ? 0.0f : NAN;
  }
  for (size_t i = 0; i < d; ++i) {
    const float q = RoundEven(in[i] / scale);
    out[i] = static_cast<int16_t>(q > limit ? limit : q < -limit ? -limit : q);
  }
  return scale;
}

// One query head's scores over an int8 cache (ops.h, AttentionArgs) into scores[0, n): the
// query as int16 (q16) with `multiplier` = its scale times the score scale, the integer dot
// products, times each key's scale (AttnScoresI8Fn).
template <typename ForEachRun>
void IntegerScores(const Task& task, const AttentionArgs& a, size_t scale_head, const ForEachRun& for_each_run,
                   const int16_t* q16, float multiplier, const int8_t* k, float* scores) {
  for_each_run([&](size_t at, size_t slot, size_t count) {
    task.i8->scores(count, a.head_dim, q16, k + slot * a.kv_stride, a.kv_stride, multiplier,
                    a.k_scales + scale_head + slot, scores + at);
  });
}

// One query head's weighted sum of int8 values (ops.h, AttentionArgs): p_s = weight * value
// scale (in place of the n softmax weights), made int16 with one scale w_scale by the kernel
// (AttnValuesI8Fn, p_mult = 1 / w_scale), summed in int32 in out's bytes, then scaled.
template <typename ForEachRun>
void IntegerValues(const Task& task, const AttentionArgs& a, size_t n, size_t scale_head, const ForEachRun& for_each_run,
                   const int8_t* v, float* weights, float* out) {
  const size_t hd = a.head_dim;
  for_each_run([&](size_t at, size_t slot, size_t count) {
    const float* v_scales = a.v_scales + scale_head + slot;
    for (size_t s = 0; s < count; ++s) weights[at + s] *= v_scales[s];
  });
  const float p_max = std::max(Max16(weights, n), 0.0f);  // a NaN shows in the sum
  const float p_sum = Sum16(weights, n);
  // At least 2^-126, so 1 / w_scale stays finite when every value scale is tiny (the weights
  // then round to fewer bits of weights that small).
  const float w_scale = std::max({p_max / 32767.0f, p_sum / 8388608.0f, 0x1p-126f});
  if (!std::isfinite(p_sum)) {  // a NaN or infinite scale
    std::fill(out, out + hd, NAN);
    return;
  }
  int32_t* acc = reinterpret_cast<int32_t*>(out);
  const float p_mult = 1.0f / w_scale;
  bool first = true;
  for_each_run([&](size_t at, size_t slot, size_t count) {
    task.i8->values(count, hd, weights + at, p_mult, v + slot * a.kv_stride, a.kv_stride, !first, acc);
    first = false;
  });
  for (size_t d = 0; d < hd; ++d) {
    int32_t x;
    std::memcpy(&x, out + d, sizeof(x));
    out[d] = static_cast<float>(x) * w_scale;
  }
}

// Query t of head h: its scores and softmax (into the head's scores row) when do_scores, its
// weighted values (into out) when do_values.
void HeadQuery(const Task& task, size_t h, size_t t, bool do_scores, bool do_values) {
  const AttentionArgs& a = *task.args;
  const size_t group = a.n_heads / a.n_kv_heads;
  const size_t hd = a.head_dim;
  const size_t elem = KvTypeBytes(a.kv_type);
  const bool int8 = a.kv_type == KvType::kI8;
  const bool divide = a.scale == 0.0f;  // 1 / sqrt(head_dim), as a division: the historical bits
  const float sqrt_dim = std::sqrt(static_cast<float>(hd));
  const size_t kv_offset = (h / group) * a.kv_head_stride * elem;
  const char* k = static_cast<const char*>(a.k_cache) + kv_offset;
  const char* v = static_cast<const char*>(a.v_cache) + kv_offset;
  float* scores = a.scores + h * a.scores_stride;
  size_t first = 0, last = 0;
  KeyRange(a, t, &first, &last);
  const size_t n = last - first;
  // The keys [first, last) as runs of consecutive slots: fn(offset among the n, slot, count).
  auto for_each_run = [&](auto fn) {
    if (a.tables == nullptr) {
      fn(size_t{0}, a.ring != 0 ? first % a.ring : first, n);
      return;
    }
    const uint32_t* table = a.tables[t];
    for (size_t s = first; s < last;) {
      const size_t slot = size_t{table[s / a.block]} * a.block + s % a.block;
      size_t count = std::min(a.block - s % a.block, last - s);
      while (s + count < last && size_t{table[(s + count) / a.block]} * a.block == slot + count) {
        count += std::min(a.block, last - s - count);
      }
      fn(s - first, slot, count);
      s += count;
    }
  };
  const size_t scale_head = (h / group) * a.scale_head_stride;
  const float* query = a.q + t * a.q_stride + h * hd;
  float* out = a.out + t * a.out_stride + h * hd;
  if (do_scores) {
    if (int8) {
      // The query as int16 in out's bytes (free until the weighted sum).
      int16_t* q16 = reinterpret_cast<int16_t*>(out);
      const float q_scale = QuantizeQuery(query, hd, q16);
      const float multiplier = divide ? q_scale / sqrt_dim : q_scale * a.scale;
      IntegerScores(task, a, scale_head, for_each_run, q16, multiplier, reinterpret_cast<const int8_t*>(k), scores);
    } else {
      for_each_run([&](size_t at, size_t slot, size_t count) {
        task.fns->scores(count, hd, query, k + slot * a.kv_stride * elem, a.kv_stride, a.kv_type, scores + at);
      });
      if (divide) {
        for (size_t s = 0; s < n; ++s) scores[s] /= sqrt_dim;
      } else {
        for (size_t s = 0; s < n; ++s) scores[s] *= a.scale;
      }
    }
    if (a.softcap != 0.0f) {  // Gemma 2: as Hugging Face, a division, tanh, a multiplication
      for (size_t s = 0; s < n; ++s) scores[s] /= a.softcap;
      Tanh(scores, n);
      for (size_t s = 0; s < n; ++s) scores[s] *= a.softcap;
    }
    if (a.alibi_slopes != nullptr) {
      const size_t seg_begin = a.seg_begin != nullptr ? a.seg_begin[t] : 0;
      const float slope = a.alibi_slopes[h];
      for (size_t s = 0; s < n; ++s) scores[s] += slope * static_cast<float>(first + s - seg_begin);
    }
    if (a.relative_bias != nullptr) {
      const int64_t at = static_cast<int64_t>(a.tables != nullptr ? a.first_pos : a.first_pos + t);
      for (size_t s = 0; s < n; ++s) {
        const int64_t relative = static_cast<int64_t>(first + s) - at;
        scores[s] += a.relative_bias[static_cast<size_t>(a.bucket[relative + a.bucket_offset]) * a.n_heads + h];
      }
    }
    task.softmax(scores, n);
  }
  if (do_values) {
    if (int8) {
      IntegerValues(task, a, n, scale_head, for_each_run, reinterpret_cast<const int8_t*>(v), scores, out);
    } else {
      for_each_run([&](size_t at, size_t slot, size_t count) {
        task.fns->values(count, hd, scores + at, v + slot * a.kv_stride * elem, a.kv_stride, a.kv_type, at != 0, out);
      });
    }
  }
}

// Heads [begin, begin + count) of every query. Heads outer, queries inner: one head's keys and
// values stay in cache across the queries. One query over a source (n_keys: every head's keys
// one run in memory, its values another) runs all the heads' scores, then all their values:
// two sequential streams instead of a pair per head.
void RunHeads(void* p, size_t begin, size_t count) {
  const Task& task = *static_cast<const Task*>(p);
  const AttentionArgs& a = *task.args;
  const size_t end = begin + count;
  if (a.n_keys != 0 && a.n_queries == 1) {
    for (size_t h = begin; h < end; ++h) HeadQuery(task, h, 0, true, false);
    for (size_t h = begin; h < end; ++h) HeadQuery(task, h, 0, false, true);
    return;
  }
  for (size_t h = begin; h < end; ++h) {
    for (size_t t = 0; t < a.n_queries; ++t) HeadQuery(task, h, t, true, true);
  }
}

}  // namespace

void Attention(const Context& ctx, const AttentionArgs& args) {
  Task task{&args, &ctx.kernels->attn, &ctx.kernels->attn_i8, ctx.kernels->softmax};
  const size_t threads = ctx.pool->threads();
  const size_t keys = args.n_keys != 0                                                 ? args.n_keys
                      : args.window != 0 && args.window < args.first_pos + args.n_queries ? args.window + args.n_queries
                                                                                         : args.first_pos + args.n_queries;
  const size_t work = args.n_queries * keys * args.head_dim * args.n_heads;
  if (threads <= 1 || work < (1 << 15)) {
    RunHeads(&task, 0, args.n_heads);
    return;
  }
  // One head per tile: the threads that run claim them one at a time. One query over a source:
  // a tile of heads per thread, so each thread's heads are two streams (RunHeads).
  const size_t tile = args.n_keys != 0 && args.n_queries == 1 ? (args.n_heads + threads - 1) / threads : 1;
  ctx.pool->ParallelizeTiles(&RunHeads, &task, args.n_heads, tile);
}

}  // namespace ops
}  // namespace edgeformer
