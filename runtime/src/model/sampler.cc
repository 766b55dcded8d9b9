#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>

#include "ops/ops.h"

namespace edgeformer {

Error Sampler::Init(uint32_t vocab_size, const SamplerParams& params) {
  try {
    probs_.assign(vocab_size, 0.0f);
    adjusted_.assign(vocab_size, 0.0f);
    counts_.assign(vocab_size, 0);
    order_.assign(vocab_size, 0);
  } catch (const std::bad_alloc&) {
    return Error(Status::kOutOfMemory, "cannot allocate the sampler's buffers");
  }
  Error err = Configure(params);
  seeded_ = false;  // the first Configure seeds, keep_state or not
  return err;
}

Error Sampler::Configure(const SamplerParams& params, bool keep_state) {
  if (!(params.temperature == params.temperature) || !(params.top_p == params.top_p)) {
    return Error(Status::kInvalidArgument, "sampler: temperature and top_p must be numbers");
  }
  if (params.top_p <= 0.0f) return Error(Status::kInvalidArgument, "sampler: top_p must be > 0");
  if (!(params.min_p >= 0.0f && params.min_p <= 1.0f)) return Error(Status::kInvalidArgument, "sampler: min_p must be in [0, 1]");
  if (!(params.repetition_penalty > 0.0f) || !std::isfinite(params.repetition_penalty) ||
      !std::isfinite(params.presence_penalty) || !std::isfinite(params.frequency_penalty)) {
    return Error(Status::kInvalidArgument,
                 "sampler: repetition_penalty must be a positive number, presence and frequency penalties numbers");
  }
  if (params.n_logit_bias > 0 && params.logit_bias == nullptr) {
    return Error(Status::kInvalidArgument, "sampler: logit_bias is null but n_logit_bias is not 0");
  }
  for (size_t i = 0; i < params.n_logit_bias; ++i) {
    const LogitBias& b = params.logit_bias[i];
    if (b.token < 0 || static_cast<size_t>(b.token) >= probs_.size() || b.bias != b.bias || b.bias == INFINITY) {
      return Error(Status::kInvalidArgument, "sampler: logit_bias " + std::to_string(i) + " (token " +
                                                 std::to_string(b.token) + ", bias " + std::to_string(b.bias) +
                                                 ") names no token or is not a number below +infinity");
    }
  }
  params_ = params;
  if (!keep_state || !seeded_) state_ = params.seed == 0 ? 0x9e3779b97f4a7c15ull : params.seed;
  seeded_ = true;
  return Error::Ok();
}

float Sampler::NextUniform() {
  // xorshift64*, top 24 bits -> [0, 1).
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  const uint32_t r = static_cast<uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
  return static_cast<float>(r >> 8) / 16777216.0f;
}

const float* Sampler::Adjust(const float* logits, const int32_t* history, size_t n_history) {
  const size_t window = history == nullptr ? 0 : std::min<size_t>(params_.penalty_last_n, n_history);
  const bool penalize = window > 0 && (params_.repetition_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                                       params_.frequency_penalty != 0.0f);
  if (!penalize && params_.n_logit_bias == 0) return logits;
  const size_t n = adjusted_.size();
  std::copy(logits, logits + n, adjusted_.begin());
  for (size_t i = 0; i < params_.n_logit_bias; ++i) adjusted_[params_.logit_bias[i].token] += params_.logit_bias[i].bias;
  if (penalize) {
    const int32_t* tail = history + (n_history - window);
    for (size_t i = 0; i < window; ++i) {
      if (tail[i] >= 0 && static_cast<size_t>(tail[i]) < n) ++counts_[tail[i]];
    }
    for (size_t i = 0; i < window; ++i) {
      if (tail[i] < 0 || static_cast<size_t>(tail[i]) >= n || counts_[tail[i]] == 0) continue;
      float& v = adjusted_[tail[i]];
      v = v > 0.0f ? v / params_.repetition_penalty : v * params_.repetition_penalty;
      v -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(counts_[tail[i]]);
      counts_[tail[i]] = 0;  // once per distinct token; and zero again for the next call
    }
  }
  return adjusted_.data();
}

size_t Sampler::Candidates(const float* raw_logits, const int32_t* history, size_t n_history, int32_t* single) {
  const size_t n = probs_.size();
  const float* logits = Adjust(raw_logits, history, n_history);
  *single = -1;
  if (params_.temperature <= 0.0f) {
    // The first largest logit, its value kept in a register (not reloaded through `best` each
    // step: that chain of dependent loads was most of a small model's greedy step). A NaN never
    // compares larger, so it never wins after index 0, as before.
    size_t best = 0;
    float top = n > 0 ? logits[0] : 0.0f;
    for (size_t i = 1; i < n; ++i) {
      if (logits[i] > top) {
        top = logits[i];
        best = i;
      }
    }
    *single = static_cast<int32_t>(best);
    return 1;
  }
  // A NaN logit (a broken model) counts as -infinity: probability 0. Without a finite largest
  // logit (all NaN or -infinity, or one infinite) the softmax would be NaN, which would make the
  // orderings below inconsistent (undefined behaviour in std::sort): take the largest instead.
  const float minus_inf = -std::numeric_limits<float>::infinity();
  size_t best = 0;
  for (size_t i = 0; i < n; ++i) {
    probs_[i] = logits[i] == logits[i] ? logits[i] / params_.temperature : minus_inf;
    best = probs_[i] > probs_[best] ? i : best;
  }
  if (!std::isfinite(probs_[best])) {
    *single = static_cast<int32_t>(best);
    return 1;
  }
  ops::Softmax(probs_.data(), n);

  // Candidates: every token, or the top_k most probable; then the smallest prefix (by
  // probability) whose mass exceeds top_p. Only the candidates are ever sorted.
  size_t count = n;
  for (size_t i = 0; i < n; ++i) order_[i] = static_cast<int32_t>(i);
  const auto by_prob = [this](int32_t a, int32_t b) {
    return probs_[a] > probs_[b] || (probs_[a] == probs_[b] && a < b);
  };
  if (params_.top_k > 0 && params_.top_k < n) {
    count = params_.top_k;
    std::nth_element(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(count - 1), order_.end(), by_prob);
  }
  if (params_.min_p > 0.0f) {
    // Tokens below min_p times the most probable one go (after top_k, before top_p).
    float top = 0.0f;
    for (size_t i = 0; i < count; ++i) top = std::max(top, probs_[order_[i]]);
    size_t kept = 0;
    for (size_t i = 0; i < count; ++i) {
      if (probs_[order_[i]] >= params_.min_p * top) order_[kept++] = order_[i];
    }
    count = kept;  // the most probable token always stays
  }
  if (params_.top_p < 1.0f) {
    if (count == n && n > 1) {
      // Tokens below (1 - top_p) / (n - 1) can never be in the nucleus: drop them before sorting.
      const float cutoff = (1.0f - params_.top_p) / static_cast<float>(n - 1);
      size_t kept = 0;
      for (size_t i = 0; i < n; ++i) {
        if (probs_[i] >= cutoff) order_[kept++] = static_cast<int32_t>(i);
      }
      if (kept == 0) {  // a flat distribution with a tiny top_p: keep the most probable token
        size_t best = 0;
        for (size_t i = 1; i < n; ++i) best = probs_[i] > probs_[best] ? i : best;
        order_[kept++] = static_cast<int32_t>(best);
      }
      count = kept;
    }
    std::sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(count), by_prob);
    float mass = 0.0f;
    size_t last = count;
    for (size_t i = 0; i < count; ++i) {
      mass += probs_[order_[i]];
      if (mass > params_.top_p) {
        last = i + 1;
        break;
      }
    }
    count = last;
  }
  return count;
}

int32_t Sampler::Sample(const float* raw_logits, const int32_t* history, size_t n_history) {
  int32_t single = -1;
  const size_t count = Candidates(raw_logits, history, n_history, &single);
  if (single >= 0) return single;
  float total = 0.0f;
  for (size_t i = 0; i < count; ++i) total += probs_[order_[i]];
  const float r = NextUniform() * total;
  float acc = 0.0f;
  for (size_t i = 0; i < count; ++i) {
    acc += probs_[order_[i]];
    if (r < acc) return order_[i];
  }
  return order_[count - 1];  // rounding: r landed on the total
}

void Sampler::Distribution(const float* raw_logits, const int32_t* history, size_t n_history, float* out) {
  int32_t single = -1;
  const size_t count = Candidates(raw_logits, history, n_history, &single);
  std::fill(out, out + probs_.size(), 0.0f);
  if (single >= 0) {
    out[single] = 1.0f;
    return;
  }
  float total = 0.0f;
  for (size_t i = 0; i < count; ++i) total += probs_[order_[i]];
  for (size_t i = 0; i < count; ++i) out[order_[i]] = probs_[order_[i]] / total;
}

int32_t Sampler::Draw(const float* weights) {
  const size_t n = probs_.size();
  float total = 0.0f;
  size_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    total += weights[i];
    if (weights[i] > 0.0f) last = i;
  }
  const float r = NextUniform() * total;
  float acc = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    acc += weights[i];
    if (r < acc) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(last);  // rounding: r landed on the total
}

}  // namespace edgeformer
