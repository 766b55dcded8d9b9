// Picks the next token from logits: greedy (temperature 0), or random with temperature, top-k and
// top-p (nucleus) filtering, from a seeded generator so runs repeat.
//
// All buffers are sized at Init; Sample allocates nothing. Not thread-safe: one per session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace edgeformer {

struct SamplerParams {
  float temperature = 0.0f;  // <= 0: greedy (the first highest logit)
  uint32_t top_k = 0;        // 0: no limit
  float top_p = 1.0f;        // >= 1: no limit
  uint64_t seed = 0x5eed;
};

class Sampler {
 public:
  Error Init(uint32_t vocab_size, const SamplerParams& params);
  // Changes parameters and reseeds; no allocation.
  Error Configure(const SamplerParams& params);
  int32_t Sample(const float* logits);

 private:
  float NextUniform();  // [0, 1)

  SamplerParams params_;
  uint64_t state_ = 1;
  std::vector<float> probs_;
  std::vector<int32_t> order_;
};

}  // namespace edgeformer
