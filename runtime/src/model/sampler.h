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
  // Changes parameters and reseeds (keep_state: keeps the generator's state instead, so draws go
  // on from the last call's; params.seed is then unused); no allocation.
  Error Configure(const SamplerParams& params, bool keep_state = false);
  // history: the context's tokens so far, oldest first (the penalties' window is its tail).
  int32_t Sample(const float* logits, const int32_t* history = nullptr, size_t n_history = 0);

  // For speculative sampling (model/speculative.h), which needs the distributions themselves:
  // the distribution Sample draws from, out [vocab] (probabilities over its candidates after
  // biases, penalties, temperature, top-k, min-p and top-p; one-hot at Sample's choice when it
  // draws nothing: greedy, or no finite largest logit).
  void Distribution(const float* logits, const int32_t* history, size_t n_history, float* out);
  // A token drawn with probability weights[i] / their sum (weights [vocab], >= 0, some > 0), from
  // the sampler's generator (one uniform draw).
  int32_t Draw(const float* weights);
  float Uniform() { return NextUniform(); }
  bool greedy() const { return params_.temperature <= 0.0f; }

 private:
  float NextUniform();  // [0, 1)
  // Sample's candidates: order_[0, count) weighted by probs_ (not normalized); or, when it draws
  // nothing (greedy, no finite largest logit), *single is the token (else -1).
  size_t Candidates(const float* logits, const int32_t* history, size_t n_history, int32_t* single);

  SamplerParams params_;
  uint64_t state_ = 1;
  bool seeded_ = false;  // a Configure since Init has seeded state_
  // Biases and penalties, applied to a copy of the logits.
  const float* Adjust(const float* logits, const int32_t* history, size_t n_history);

  std::vector<float> probs_;
  std::vector<float> adjusted_;
  std::vector<uint32_t> counts_;  // occurrences in the window; all zero between calls
  std::vector<int32_t> order_;
};

}  // namespace edgeformer
