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

// Heads [begin, begin + count) of every query.
void RunHeads(void* p, size_t begin, size_t count) {
  const Task& task = *static_cast<const Task*>(p);
  const AttentionArgs& a = *task.args;
  const size_t end = begin + count;
  const size_t group = a.n_heads / a.n_kv_heads;
  const size_t hd = a.head_dim;
  const size_t elem = KvTypeBytes(a.kv_type);
  const float sqrt_dim = std::sqrt(static_cast<float>(hd));
  // Heads outer, queries inner: one head's keys and values stay in cache across the queries.
  for (size_t h = begin; h < end; ++h) {
    const size_t kv_offset = (h / group) * a.kv_head_stride * elem;
    const void* k = static_cast<const char*>(a.k_cache) + kv_offset;
    const void* v = static_cast<const char*>(a.v_cache) + kv_offset;
    float* scores = a.scores + h * a.scores_stride;
    for (size_t t = 0; t < a.n_queries; ++t) {
      const size_t n = a.first_pos + t + 1;
      task.fns->scores(n, hd, a.q + t * a.q_stride + h * hd, k, a.kv_stride, a.kv_type, scores);
      for (size_t s = 0; s < n; ++s) scores[s] /= sqrt_dim;
      Softmax(scores, n);
      task.fns->values(n, hd, scores, v, a.kv_stride, a.kv_type, a.out + t * a.out_stride + h * hd);
    }
  }
}

}  // namespace

void Attention(const Context& ctx, const AttentionArgs& args) {
  Task task{&args, &ctx.kernels->attn};
  const size_t threads = ctx.pool->threads();
  const size_t work = args.n_queries * (args.first_pos + args.n_queries) * args.head_dim * args.n_heads;
  if (threads <= 1 || work < (1 << 15)) {
    RunHeads(&task, 0, args.n_heads);
    return;
  }
  // One head per tile: the threads that run claim them one at a time.
  ctx.pool->ParallelizeTiles(&RunHeads, &task, args.n_heads, 1);
}

}  // namespace ops
}  // namespace edgeformer
