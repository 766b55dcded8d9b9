#include "model/beam_search.h"

#include <algorithm>
#include <cmath>
#include <new>

#include "ops/math.h"

namespace edgeformer {

Error BeamSearch::Init(uint32_t max_beams, uint32_t max_tokens, uint32_t vocab) {
  max_beams_ = max_beams;
  max_tokens_ = max_tokens;
  vocab_ = vocab;
  try {
    beam_scores_.assign(max_beams, 0.0f);
    tokens_.assign(size_t{max_beams} * max_tokens, 0);
    next_tokens_.assign(size_t{max_beams} * max_tokens, 0);
    logprobs_.assign(vocab, 0.0f);
    candidates_.reserve(2 * size_t{max_beams} + 1);
    hyp_tokens_.assign((size_t{max_beams} + 1) * max_tokens, 0);
    hyp_lengths_.assign(max_beams + 1, 0);
    hyp_scores_.assign(max_beams + 1, 0.0f);
    order_.assign(max_beams + 1, 0);
  } catch (const std::bad_alloc&) {
    return Error(Status::kOutOfMemory, "cannot allocate the beam search's state");
  }
  return Error::Ok();
}

void BeamSearch::Start(const BeamOptions& options) {
  o_ = options;
  length_ = 0;
  first_ = true;
  done_ = false;
  n_hyps_ = 0;
  forced_ = 0;
  worst_ = 1e9f;
  std::fill(beam_scores_.begin(), beam_scores_.end(), 0.0f);
}

void BeamSearch::AddHypothesis(uint32_t beam, uint32_t length, float sum) {
  const double score = static_cast<double>(sum) / std::pow(static_cast<double>(length), static_cast<double>(o_.length_penalty));
  const float s = static_cast<float>(score);
  if (n_hyps_ >= o_.beams && !(s > worst_)) return;
  std::copy_n(&tokens_[size_t{beam} * max_tokens_], length_, &hyp_tokens_[size_t{n_hyps_} * max_tokens_]);
  hyp_lengths_[n_hyps_] = length_;
  hyp_scores_[n_hyps_] = s;
  ++n_hyps_;
  if (n_hyps_ > o_.beams) {
    // Drop the worst (the first of equal ones); the new worst is the next lowest.
    uint32_t worst = 0;
    for (uint32_t i = 1; i < n_hyps_; ++i) {
      if (hyp_scores_[i] < hyp_scores_[worst]) worst = i;
    }
    for (uint32_t i = worst; i + 1 < n_hyps_; ++i) {
      std::copy_n(&hyp_tokens_[size_t{i + 1} * max_tokens_], hyp_lengths_[i + 1], &hyp_tokens_[size_t{i} * max_tokens_]);
      hyp_lengths_[i] = hyp_lengths_[i + 1];
      hyp_scores_[i] = hyp_scores_[i + 1];
    }
    --n_hyps_;
    worst_ = hyp_scores_[0];
    for (uint32_t i = 1; i < n_hyps_; ++i) worst_ = std::min(worst_, hyp_scores_[i]);
  } else {
    worst_ = std::min(s, worst_);
  }
}

bool BeamSearch::Done(float best_sum) const {
  if (n_hyps_ < o_.beams) return false;
  if (o_.early_stopping == EarlyStopping::kAlways) return true;
  const uint32_t length =
      (o_.early_stopping == EarlyStopping::kNever && o_.length_penalty > 0.0f ? o_.max_tokens : length_ + 1) + forced_;
  const double best = static_cast<double>(best_sum) /
                      std::pow(static_cast<double>(length), static_cast<double>(o_.length_penalty));
  return static_cast<double>(worst_) >= best;
}

bool BeamSearch::Step(const float* logits, size_t stride, const ModelConfig& c, uint32_t* parents, int32_t* tokens) {
  const size_t want = 2 * size_t{o_.beams};
  candidates_.clear();
  // Better: a higher score; equal scores: the lower beam, then the lower id.
  auto better = [](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.beam != b.beam ? a.beam < b.beam : a.token < b.token;
  };
  const uint32_t rows = first_ ? 1 : o_.beams;
  forced_ = c.forced_start_ids;
  // transformers' forced EOS: the last token a beam can have is it (log-probability 0).
  const bool force_eos = c.forced_eos_id >= 0 && length_ + 1 == o_.max_tokens;
  for (uint32_t j = 0; j < rows && force_eos; ++j) {
    const Candidate cand{beam_scores_[j], j, c.forced_eos_id};
    candidates_.insert(std::upper_bound(candidates_.begin(), candidates_.end(), cand, better), cand);
  }
  for (uint32_t j = 0; j < rows && !force_eos; ++j) {
    // Log-softmax in a fixed order (ops::Exp, ops::Log), then the suppressed ids out.
    const float* x = logits + j * stride;
    float max = -INFINITY;
    for (uint32_t v = 0; v < vocab_; ++v) max = x[v] > max ? x[v] : max;
    // The exponentials elementwise, then summed in Sum16's order (both vectorized).
    float* e = logprobs_.data();
    for (uint32_t v = 0; v < vocab_; ++v) e[v] = ops::Exp(x[v] - max);
    const float log_sum = ops::Log(Sum16(e, vocab_));
    auto suppressed = [&](uint32_t v) {
      for (const int32_t id : c.suppress_ids) {
        if (id == static_cast<int32_t>(v)) return true;
      }
      return false;
    };
    // Only a beam's 2 beams best ids (suppressed ones aside) can be candidates: a logit below the
    // 2 beams-th best is skipped before its score is formed (log-softmax keeps the logits' order).
    float floor = -INFINITY;
    if (vocab_ > want + c.suppress_ids.size()) {
      // The want-th largest logit, by a partial selection into the exponentials' buffer (summed).
      float* top = e;
      uint32_t n_top = 0;
      for (uint32_t v = 0; v < vocab_; ++v) {
        const float value = x[v];
        if (n_top == want && !(value > top[want - 1])) continue;
        if (suppressed(v)) continue;
        uint32_t at = n_top < want ? n_top++ : want - 1;
        while (at > 0 && top[at - 1] < value) {
          top[at] = top[at - 1];
          --at;
        }
        top[at] = value;
      }
      floor = top[want - 1];
    }
    for (uint32_t v = 0; v < vocab_; ++v) {
      if (x[v] < floor) continue;
      const float score = beam_scores_[j] + (suppressed(v) ? -INFINITY : (x[v] - max) - log_sum);
      if (!(score == score)) continue;  // NaN: never a candidate
      const Candidate cand{score, j, static_cast<int32_t>(v)};
      if (candidates_.size() == want && !better(cand, candidates_.back())) continue;
      if (candidates_.size() == want) candidates_.pop_back();
      candidates_.insert(std::upper_bound(candidates_.begin(), candidates_.end(), cand, better), cand);
    }
  }
  first_ = false;
  uint32_t kept = 0;
  for (size_t rank = 0; rank < candidates_.size() && kept < o_.beams; ++rank) {
    const Candidate& cand = candidates_[rank];
    if (c.IsEnd(cand.token) || cand.token == c.forced_eos_id) {
      if (rank < o_.beams) AddHypothesis(cand.beam, length_ + 1 + forced_, cand.score);
      continue;
    }
    parents[kept] = cand.beam;
    tokens[kept] = cand.token;
    beam_scores_[kept] = cand.score;  // read above only through candidates_
    ++kept;
  }
  if (kept < o_.beams || Done(candidates_.empty() ? -INFINITY : candidates_.front().score)) {
    done_ = true;
    return true;
  }
  // The running beams' tokens follow their parents.
  for (uint32_t j = 0; j < o_.beams; ++j) {
    std::copy_n(&tokens_[size_t{parents[j]} * max_tokens_], length_, &next_tokens_[size_t{j} * max_tokens_]);
    next_tokens_[size_t{j} * max_tokens_ + length_] = tokens[j];
  }
  tokens_.swap(next_tokens_);
  ++length_;
  return false;
}

void BeamSearch::Finish() {
  if (!done_) {
    for (uint32_t j = 0; j < o_.beams; ++j) AddHypothesis(j, length_ + forced_, beam_scores_[j]);
  }
  // Best first, equal scores in the order they were kept (an insertion sort: stable, and no
  // buffer as std::stable_sort's).
  for (uint32_t i = 0; i < n_hyps_; ++i) {
    uint32_t at = i;
    while (at > 0 && hyp_scores_[order_[at - 1]] < hyp_scores_[i]) {
      order_[at] = order_[at - 1];
      --at;
    }
    order_[at] = i;
  }
}

uint32_t BeamSearch::results() const { return std::min(o_.n_best, n_hyps_); }

const int32_t* BeamSearch::result_tokens(uint32_t i, uint32_t* n) const {
  *n = hyp_lengths_[order_[i]];
  return &hyp_tokens_[size_t{order_[i]} * max_tokens_];
}

float BeamSearch::result_score(uint32_t i) const { return hyp_scores_[order_[i]]; }

}  // namespace edgeformer
