#include <cmath>

#include "ops/ops.h"
#include "ops/table_math.h"

namespace edgeformer {
namespace ops {

void SinusoidalTable(size_t max_pos, size_t dim, float* table) {
  // The original Transformer's, as torch writes it: div = exp(2i * -ln(10000) / dim),
  // PE[pos][2i] = sin(pos * div), PE[pos][2i + 1] = cos(pos * div).
  const float step = -TableLog(10000.0f) / static_cast<float>(dim);
  for (size_t i = 0; i < dim / 2; ++i) {
    const float div = TableExp(static_cast<float>(2 * i) * step);
    for (size_t pos = 0; pos < max_pos; ++pos) {
      const float angle = static_cast<float>(pos) * div;
      table[pos * dim + 2 * i] = TableSin(angle);
      table[pos * dim + 2 * i + 1] = TableCos(angle);
    }
  }
}

void AlibiSlopes(size_t n_heads, float* slopes) {
  // Press et al.: for 2^k heads, 2^(-8/2^k)^(i+1); for other counts, the slopes of the largest
  // power of two below, then every other slope of twice that many (BLOOM's build_alibi_tensor).
  size_t closest = 1;
  while (closest * 2 <= n_heads) closest *= 2;
  const float base = TablePow(2.0f, -8.0f / static_cast<float>(closest));
  for (size_t i = 0; i < closest; ++i) slopes[i] = TablePow(base, static_cast<float>(i + 1));
  const float extra = TablePow(2.0f, -8.0f / static_cast<float>(2 * closest));
  for (size_t i = closest; i < n_heads; ++i) slopes[i] = TablePow(extra, static_cast<float>(2 * (i - closest) + 1));
}

int32_t T5Bucket(int64_t relative, const RelativeParams& p) {
  // T5's _relative_position_bucket, relative = key position - query position.
  int32_t buckets = static_cast<int32_t>(p.buckets);
  int32_t bucket = 0;
  int64_t distance;
  if (p.bidirectional) {
    buckets /= 2;
    if (relative > 0) bucket += buckets;
    distance = relative < 0 ? -relative : relative;
  } else {
    distance = relative < 0 ? -relative : 0;
  }
  const int32_t max_exact = buckets / 2;
  if (distance < max_exact) return bucket + static_cast<int32_t>(distance);
  // In float, as PyTorch computes it: max_exact + log(d / max_exact) / log(max_distance /
  // max_exact) * (buckets - max_exact), truncated, at most buckets - 1.
  const float scaled = TableLog(static_cast<float>(distance) / static_cast<float>(max_exact)) /
                       TableLog(static_cast<float>(p.max_distance) / static_cast<float>(max_exact)) *
                       static_cast<float>(buckets - max_exact);
  int32_t large = max_exact + static_cast<int32_t>(scaled);
  if (large > buckets - 1) large = buckets - 1;
  return bucket + large;
}

}  // namespace ops
}  // namespace edgeformer
