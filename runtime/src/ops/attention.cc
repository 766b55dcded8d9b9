#include <algorithm>
#include <cmath>

#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {
namespace {

struct Task {
  const AttentionArgs* args;
  const AttnFns* fns;
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

// Heads [begin, begin + count) of every query.
void RunHeads(void* p, size_t begin, size_t count) {
  const Task& task = *static_cast<const Task*>(p);
  const AttentionArgs& a = *task.args;
  const size_t end = begin + count;
  const size_t group = a.n_heads / a.n_kv_heads;
  const size_t hd = a.head_dim;
  const size_t elem = KvTypeBytes(a.kv_type);
  const bool divide = a.scale == 0.0f;  // 1 / sqrt(head_dim), as a division: the historical bits
  const float sqrt_dim = std::sqrt(static_cast<float>(hd));
  // Heads outer, queries inner: one head's keys and values stay in cache across the queries.
  for (size_t h = begin; h < end; ++h) {
    const size_t kv_offset = (h / group) * a.kv_head_stride * elem;
    const char* k = static_cast<const char*>(a.k_cache) + kv_offset;
    const char* v = static_cast<const char*>(a.v_cache) + kv_offset;
    float* scores = a.scores + h * a.scores_stride;
    for (size_t t = 0; t < a.n_queries; ++t) {
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
      for_each_run([&](size_t at, size_t slot, size_t count) {
        task.fns->scores(count, hd, a.q + t * a.q_stride + h * hd, k + slot * a.kv_stride * elem, a.kv_stride,
                         a.kv_type, scores + at);
        if (a.kv_type == KvType::kI8) {
          for (size_t s = 0; s < count; ++s) scores[at + s] *= a.k_scales[scale_head + slot + s];
        }
      });
      if (divide) {
        for (size_t s = 0; s < n; ++s) scores[s] /= sqrt_dim;
      } else {
        for (size_t s = 0; s < n; ++s) scores[s] *= a.scale;
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
        const int64_t query = static_cast<int64_t>(a.tables != nullptr ? a.first_pos : a.first_pos + t);
        for (size_t s = 0; s < n; ++s) {
          const int64_t relative = static_cast<int64_t>(first + s) - query;
          scores[s] += a.relative_bias[static_cast<size_t>(a.bucket[relative + a.bucket_offset]) * a.n_heads + h];
        }
      }
      Softmax(scores, n);
      float* out = a.out + t * a.out_stride + h * hd;
      for_each_run([&](size_t at, size_t slot, size_t count) {
        if (a.kv_type == KvType::kI8) {
          for (size_t s = 0; s < count; ++s) scores[at + s] *= a.v_scales[scale_head + slot + s];
        }
        task.fns->values(count, hd, scores + at, v + slot * a.kv_stride * elem, a.kv_stride, a.kv_type, at != 0, out);
      });
    }
  }
}

}  // namespace

void Attention(const Context& ctx, const AttentionArgs& args) {
  Task task{&args, &ctx.kernels->attn};
  const size_t threads = ctx.pool->threads();
  const size_t keys = args.n_keys != 0                                                 ? args.n_keys
                      : args.window != 0 && args.window < args.first_pos + args.n_queries ? args.window + args.n_queries
                                                                                         : args.first_pos + args.n_queries;
  const size_t work = args.n_queries * keys * args.head_dim * args.n_heads;
  if (threads <= 1 || work < (1 << 15)) {
    RunHeads(&task, 0, args.n_heads);
    return;
  }
  // One head per tile: the threads that run claim them one at a time.
  ctx.pool->ParallelizeTiles(&RunHeads, &task, args.n_heads, 1);
}

}  // namespace ops
}  // namespace edgeformer
