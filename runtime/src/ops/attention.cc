#include <cmath>

#include "ops/math.h"
#include "ops/ops.h"

namespace edgeformer {
namespace ops {
namespace {

// Heads [begin, begin + count) of every query. Positions are the outer loop and heads the inner
// one, so each cache row (all kv heads of one position) is read once, front to back.
void RunHeads(void* p, size_t begin, size_t count) {
  const AttentionArgs& a = *static_cast<const AttentionArgs*>(p);
  const size_t end = begin + count;
  const size_t group = a.n_heads / a.n_kv_heads;
  const size_t hd = a.head_dim;
  const float sqrt_dim = std::sqrt(static_cast<float>(hd));
  for (size_t t = 0; t < a.n_queries; ++t) {
    const size_t pos = a.first_pos + t;
    const float* q = a.q + t * a.q_stride;
    float* out = a.out + t * a.out_stride;
    for (size_t s = 0; s <= pos; ++s) {
      const float* k_row = a.k_cache + s * a.kv_stride;
      for (size_t h = begin; h < end; ++h) {
        a.scores[h * a.scores_stride + s] = Dot16(q + h * hd, k_row + (h / group) * hd, hd) / sqrt_dim;
      }
    }
    for (size_t h = begin; h < end; ++h) {
      Softmax(a.scores + h * a.scores_stride, pos + 1);
      for (size_t i = 0; i < hd; ++i) out[h * hd + i] = 0.0f;
    }
    for (size_t s = 0; s <= pos; ++s) {
      const float* v_row = a.v_cache + s * a.kv_stride;
      for (size_t h = begin; h < end; ++h) {
        const float w = a.scores[h * a.scores_stride + s];
        const float* __restrict v = v_row + (h / group) * hd;
        float* __restrict o = out + h * hd;
        for (size_t i = 0; i < hd; ++i) o[i] += w * v[i];
      }
    }
  }
}

}  // namespace

void Attention(const Context& ctx, const AttentionArgs& args) {
  const size_t threads = ctx.pool->threads();
  const size_t work = args.n_queries * (args.first_pos + args.n_queries) * args.head_dim * args.n_heads;
  if (threads <= 1 || work < (1 << 15)) {
    RunHeads(const_cast<AttentionArgs*>(&args), 0, args.n_heads);
    return;
  }
  const size_t tile = (args.n_heads + threads - 1) / threads;
  ctx.pool->ParallelizeTiles(&RunHeads, const_cast<AttentionArgs*>(&args), args.n_heads, tile);
}

}  // namespace ops
}  // namespace edgeformer
