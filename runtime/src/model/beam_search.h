// Beam search as Hugging Face transformers' generate() runs it (BeamSearchScorer, transformers
// 4.38 and later): each step adds every beam's log-softmax to its score, takes the best 2 beams
// candidates over beams x vocabulary (higher score first; equal scores: lower beam, then lower
// id), keeps the first `beams` that do not end the text as the next beams, and turns each
// ending candidate within the first `beams` into a finished hypothesis scored
// sum / generated_len ^ length_penalty (generated_len counts the ending token; only the best
// `beams` hypotheses are kept). It stops when `beams` hypotheses are finished and, by
// early_stopping: at once (kAlways); when the best running beam, scored by the tokens so far,
// cannot beat the worst hypothesis (kHeuristic, transformers' default); or never before the
// maximum length (kNever, scored by the maximum length when length_penalty > 0). At the maximum
// length the running beams become hypotheses (generated_len without an ending token). Lengths
// count the start ids generate() forces (ModelConfig::forced_start_ids), and a model with a
// forced EOS (ModelConfig::forced_eos_id) ends every beam with it at the maximum length.
// This is the pure algorithm: the session runs the model (model/session.h, GenerateBeam).
//
// Memory: Init allocates everything; Start and Step allocate nothing.
// Thread safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "model/config.h"

namespace edgeformer {

enum class EarlyStopping { kHeuristic, kAlways, kNever };

struct BeamOptions {
  uint32_t beams = 4;
  uint32_t max_tokens = 64;    // generated tokens at most, the ending token included
  float length_penalty = 1.0f;
  EarlyStopping early_stopping = EarlyStopping::kHeuristic;
  uint32_t n_best = 1;         // hypotheses returned, best first (<= beams)
};

class BeamSearch {
 public:
  // For up to max_beams beams, max_tokens generated tokens and a vocabulary of `vocab`.
  Error Init(uint32_t max_beams, uint32_t max_tokens, uint32_t vocab);
  // Bytes Init allocates.
  static size_t Bytes(uint32_t max_beams, uint32_t max_tokens, uint32_t vocab) {
    const size_t beams = max_beams, hyps = size_t{max_beams} + 1;
    return beams * sizeof(float) + 2 * beams * max_tokens * sizeof(int32_t) + size_t{vocab} * sizeof(float) +
           (2 * beams + 1) * sizeof(Candidate) + hyps * max_tokens * sizeof(int32_t) +
           hyps * (2 * sizeof(uint32_t) + sizeof(float));
  }

  // A new search. options must fit Init's limits (checked by the caller).
  void Start(const BeamOptions& options);
  // One step: logits [beams][stride] of the running beams (at the first step only row 0 is
  // read: every beam is the prompt). Ids in c.suppress_ids are never chosen; c.IsEnd says which
  // ids end a hypothesis (EOS and the end ids; not BOS). Writes each next beam's parent and token; returns true when the search is
  // done (then the outputs are not to be used). Never fails.
  bool Step(const float* logits, size_t stride, const ModelConfig& c, uint32_t* parents, int32_t* tokens);
  // Ends the search (the running beams become hypotheses unless it is done). Then results.
  void Finish();

  // After Finish: min(n_best, hypotheses) results, best first.
  uint32_t results() const;
  const int32_t* result_tokens(uint32_t i, uint32_t* n) const;
  float result_score(uint32_t i) const;
  // Tokens generated so far (the running beams' length), and the most Init allows.
  uint32_t length() const { return length_; }
  uint32_t capacity() const { return max_tokens_; }

 private:
  struct Candidate {
    float score;
    uint32_t beam;
    int32_t token;
  };
  void AddHypothesis(uint32_t beam, uint32_t length, float sum);
  bool Done(float best_sum) const;

  BeamOptions o_;
  uint32_t max_beams_ = 0, max_tokens_ = 0, vocab_ = 0;
  uint32_t length_ = 0;
  uint32_t forced_ = 0;  // forced start ids, counted in the lengths (ModelConfig::forced_start_ids)
  bool first_ = true, done_ = false;
  std::vector<float> beam_scores_;     // [max_beams]
  std::vector<int32_t> tokens_;        // [max_beams][max_tokens]: the running beams' tokens
  std::vector<int32_t> next_tokens_;   // the same, being built
  std::vector<float> logprobs_;        // [vocab]
  std::vector<Candidate> candidates_;  // [max_beams * 2 max_beams]
  // Finished hypotheses (at most beams + 1 while adding): tokens, lengths, scores.
  std::vector<int32_t> hyp_tokens_;    // [max_beams + 1][max_tokens]
  std::vector<uint32_t> hyp_lengths_;
  std::vector<float> hyp_scores_;
  uint32_t n_hyps_ = 0;
  float worst_ = 1e9f;
  std::vector<uint32_t> order_;        // results, best first
};

}  // namespace edgeformer
