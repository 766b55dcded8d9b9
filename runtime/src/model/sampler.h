// Picks the next token from logits: logit biases and repetition, presence and frequency penalties
// first, then greedy (temperature 0), or random with temperature, top-k, top-p (nucleus) and
// min-p filtering, from a seeded generator so runs repeat.
//
// All buffers are sized at Init; Sample allocates nothing. Not thread-safe: one per session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace edgeformer {

struct LogitBias {
  int32_t token;
  float bias;
};

struct SamplerParams {
  float temperature = 0.0f;  // <= 0: greedy (the first highest logit)
  uint32_t top_k = 0;        // 0: no limit
  float top_p = 1.0f;        // >= 1: no limit
  uint64_t seed = 0x5eed;
  float min_p = 0.0f;                // 0: off; else tokens below min_p * the top probability go
  float repetition_penalty = 1.0f;   // a windowed token's logit / it (positive) or * it (negative)
  float presence_penalty = 0.0f;     // minus this once per distinct windowed token
  float frequency_penalty = 0.0f;    // minus this per occurrence
  uint32_t penalty_last_n = 64;      // the window: the last tokens of the history given to Sample
  const LogitBias* logit_bias = nullptr;  // borrowed: valid while Sample is called with it
  size_t n_logit_bias = 0;
};

class Sampler {
 public:
  Error Init(uint32_t vocab_size, const SamplerParams& params);
  // Changes parameters and reseeds; no allocation.
  Error Configure(const SamplerParams& params);
  // history: the context's tokens so far, oldest first (the penalties' window is its tail).
  int32_t Sample(const float* logits, const int32_t* history = nullptr, size_t n_history = 0);

 private:
  float NextUniform();  // [0, 1)

  SamplerParams params_;
  uint64_t state_ = 1;
  // Biases and penalties, applied to a copy of the logits.
  const float* Adjust(const float* logits, const int32_t* history, size_t n_history);

  std::vector<float> probs_;
  std::vector<float> adjusted_;
  std::vector<uint32_t> counts_;  // occurrences in the window; all zero between calls
  std::vector<int32_t> order_;
};

}  // namespace edgeformer
