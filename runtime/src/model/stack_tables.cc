#include "model/stack_tables.h"

#include "ops/ops.h"

namespace edgeformer {
namespace {

bool Any(const ModelConfig& c, PositionKind kind) {
  for (const LayerConfig& l : c.layers) {
    if (l.position == kind) return true;
  }
  return false;
}

}  // namespace

void StackTables::Plan(const ModelConfig& c, size_t positions, std::vector<Need>* plan) {
  plan->push_back({&rope, positions * c.rotary_dim() * sizeof(float)});
  plan->push_back({&rope_local, c.local_rope_theta() != 0.0f ? positions * c.rotary_dim() * sizeof(float) : 0});
  plan->push_back({&sinusoidal,
                   c.embedding_positions == PositionKind::kSinusoidal ? positions * c.dim * sizeof(float) : 0});
  plan->push_back({&alibi, Any(c, PositionKind::kALiBi) ? size_t{c.n_heads} * sizeof(float) : 0});
  plan->push_back({&buckets, Any(c, PositionKind::kT5Relative) ? (2 * positions - 1) * sizeof(int32_t) : 0});
}

void StackTables::Fill(const ModelConfig& c, size_t positions) {
  view = LayerTables{};
  if (c.rotary_dim() > 0) {
    ops::RopeTable(positions, c.rotary_dim(), c.rope, rope.as<float>());
    view.rope = rope.as<float>();
  }
  if (c.local_rope_theta() != 0.0f) {
    RopeParams local;
    local.theta = c.local_rope_theta();
    ops::RopeTable(positions, c.rotary_dim(), local, rope_local.as<float>());
    view.rope_local = rope_local.as<float>();
  }
  if (c.embedding_positions == PositionKind::kSinusoidal) ops::SinusoidalTable(positions, c.dim, sinusoidal.as<float>());
  if (Any(c, PositionKind::kALiBi)) {
    ops::AlibiSlopes(c.n_heads, alibi.as<float>());
    view.alibi_slopes = alibi.as<float>();
  }
  if (Any(c, PositionKind::kT5Relative)) {
    int32_t* b = buckets.as<int32_t>();
    const int64_t offset = static_cast<int64_t>(positions) - 1;
    for (int64_t r = -offset; r <= offset; ++r) b[r + offset] = ops::T5Bucket(r, c.relative);
    view.buckets = b;
    view.bucket_offset = offset;
  }
}

}  // namespace edgeformer
