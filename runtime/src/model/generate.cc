// Generation after the context (Session::Generate): one token per step, or several per pass
// over the weights when proposals are verified (prompt lookup, model/lookup.h, or a draft
// model's greedy continuation).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/lookup.h"
#include "model/speculative.h"
#include "model/session.h"

namespace edgeformer {

Error Session::Generate(Sampler& sampler, const GenerateOptions& options, TokenCallback callback, void* user_data,
                        size_t* n_generated, StopReason* reason) {
  *n_generated = 0;
  *reason = StopReason::kError;
  if (model_.config().family == Family::kEncoderOnly) {
    return Error(Status::kUnsupported, "an encoder does not generate: encode texts instead (edgeformer_embed, "
                                       "edgeformer_encode)");
  }
  if (model_.config().family == Family::kEncoderDecoder && source_len_ == 0) {
    return Error(Status::kInvalidArgument, "an encoder-decoder needs a source first (edgeformer_encode_source)");
  }
  if (!has_logits_ && pending_ < 0) {
    return Error(Status::kInvalidArgument, "nothing to continue: prefill a prompt first");
  }
  if (options.slide_context && options.keep_tokens < model_.config().prefix_len) {
    return Error(Status::kInvalidArgument, "keep_tokens " + std::to_string(options.keep_tokens) +
                                               " would drop part of the model's prefix-LM prefix (" +
                                               std::to_string(model_.config().prefix_len) + " tokens)");
  }
  if (options.slide_context && (context_ < 2 || options.keep_tokens > context_ - 2)) {
    return Error(Status::kInvalidArgument, "keep_tokens " + std::to_string(options.keep_tokens) +
                                               " leaves nothing to slide in a context of " + std::to_string(context_) +
                                               " tokens (at most context - 2 can be kept)");
  }
  if (options.lookup_tokens > max_draft_) {
    return Error(Status::kInvalidArgument, "lookup_tokens " + std::to_string(options.lookup_tokens) +
                                               " is more than the session's max_draft_tokens (" +
                                               std::to_string(max_draft_) + ")");
  }
  if (options.lookup_tokens > 0 && (options.lookup_ngram < 1 || options.lookup_ngram > 16)) {
    return Error(Status::kInvalidArgument, "lookup_ngram must be 1 to 16");
  }
  if (options.draft != nullptr) EF_RETURN_IF_ERROR(CheckDraft(*options.draft));
  if (options.draft != nullptr && options.lookup_tokens > 0) {
    return Error(Status::kInvalidArgument, "a draft model and prompt lookup do not go together: choose one");
  }
  if (options.draft != nullptr && (max_draft_ == 0 || options.draft_tokens > max_draft_)) {
    return Error(Status::kInvalidArgument, "draft_tokens " + std::to_string(options.draft_tokens) +
                                               " needs a session whose max_draft_tokens (" +
                                               std::to_string(max_draft_) + ") is at least it and not 0");
  }
  // Draft proposals per pass: fixed, or adapted to what passes accept.
  size_t draft_k = options.draft_tokens > 0 ? options.draft_tokens : std::min<size_t>(4, max_draft_);
  *reason = StopReason::kMaxTokens;
  const ModelConfig& c = model_.config();
  phase_ = Phase::kDecode;
  cancel_.store(false, std::memory_order_relaxed);
  for (;;) {
    if (cancel_.exchange(false, std::memory_order_relaxed)) {
      *reason = StopReason::kCancelled;
      return Error::Ok();
    }
    if (pending_ >= 0) {
      if (pos_ >= context_) {
        bool slid = false;
        if (options.slide_context) {
          const Error err = SlideContext(options.keep_tokens, &slid);
          if (!err.ok()) {
            *reason = StopReason::kError;
            return err;
          }
        }
        if (!slid) {
          *reason = StopReason::kContextFull;
          return Error(Status::kContextFull,
                       "the context is full (" + std::to_string(context_) + " tokens); generation stopped");
        }
      }
      // Proposals for a verification pass: as many as the context, the tokens still to make
      // (the pending token's row makes one more) and the options allow.
      size_t k = 0;
      if ((options.lookup_tokens > 0 || options.draft != nullptr) && *n_generated < options.max_tokens) {
        int32_t* history = history_.as<int32_t>();
        history[pos_] = pending_;  // the text so far ends with the pending token (pos_ < context_)
        const size_t room = std::min<size_t>(context_ - pos_ - 1, options.max_tokens - *n_generated - 1);
        if (options.draft != nullptr) {
          const Error err = ProposeDraft(*options.draft, std::min(draft_k, room), sampler, &k);
          if (!err.ok()) {
            *reason = StopReason::kError;
            return err;
          }
        } else {
          k = ProposeLookup(history, pos_ + 1, options.lookup_ngram, std::min<size_t>(options.lookup_tokens, room),
                            draft_tokens_.as<int32_t>() + 1);
        }
      }
      if (k > 0) {
        bool stop = false;
        const uint64_t accepted_before = draft_stats_.accepted;
        const float* q = options.draft != nullptr && !sampler.greedy() ? draft_q_.as<float>() : nullptr;
        const Error err = VerifyDraft(k, q, sampler, options, callback, user_data, n_generated, reason, &stop);
        if (!err.ok()) {
          *reason = StopReason::kError;
          return err;
        }
        if (options.draft_tokens == 0) {
          draft_k = draft_stats_.accepted - accepted_before == k ? std::min<size_t>(draft_k + 2, max_draft_)
                                                                 : std::max<size_t>(draft_k, 2) - 1;
        }
        if (release_workers_) pool_->ReleaseWorkers();
        if (stop) return Error::Ok();
        continue;  // the pending token is the last row's sample, delivered
      }
      const Error err = StepPending();
      if (!err.ok()) {  // the token stays pending: the session is as before this step
        *reason = StopReason::kError;
        return err;
      }
      // The caller's callback runs next, for as long as the app needs: no spinning meanwhile.
      if (release_workers_) pool_->ReleaseWorkers();
    }
    if (*n_generated >= options.max_tokens) return Error::Ok();
    pending_ = SampleAt(logits_.as<float>(), pos_, sampler);
    if (Deliver(pending_, c, options, callback, user_data, n_generated, reason)) return Error::Ok();
  }
}

Error Session::CheckDraft(const Session& draft) const {
  const ModelConfig& c = model_.config();
  const ModelConfig& d = draft.model_.config();
  if (&draft == this) return Error(Status::kInvalidArgument, "a session cannot be its own draft");
  if (c.family != Family::kDecoderOnly || d.family != Family::kDecoderOnly) {
    return Error(Status::kUnsupported, "draft models are for decoders: the model and its draft must both be decoders");
  }
  const Tokenizer& a = model_.tokenizer();
  const Tokenizer& b = draft.model_.tokenizer();
  bool same = c.vocab_size == d.vocab_size && a.present() == b.present() && a.vocab_size() == b.vocab_size();
  for (uint32_t id = 0; same && id < a.vocab_size(); ++id) same = a.Piece(-1, id) == b.Piece(-1, id);
  if (!same) {
    return Error(Status::kInvalidArgument, "the draft model's vocabulary (" + std::to_string(d.vocab_size) +
                                               " tokens) is not the model's (" + std::to_string(c.vocab_size) +
                                               "): a draft needs the same tokenizer");
  }
  return Error::Ok();
}

Error Session::ProposeDraft(Session& draft, size_t max_k, Sampler& sampler, size_t* k) {
  *k = 0;
  // The text: the cache's tokens and the pending one (history_[pos_], set by the caller).
  const int32_t* text = history_.as<int32_t>();
  const size_t n = size_t{pos_} + 1;
  // The draft's context must hold the text and all proposals but the last (never fed).
  if (n > draft.context_) return Error::Ok();
  max_k = std::min<size_t>(max_k, draft.context_ - n + 1);
  if (max_k == 0) return Error::Ok();
  // Keep what the draft shares with the text (all but the last text token at most: its logits
  // are the first proposal's), prefill the rest.
  const int32_t* seen = draft.history();
  const size_t limit = std::min<size_t>(draft.pos_, n - 1);
  size_t keep = 0;
  while (keep < limit && seen[keep] == text[keep]) ++keep;
  EF_RETURN_IF_ERROR(draft.Truncate(static_cast<uint32_t>(keep)));
  EF_RETURN_IF_ERROR(draft.Prefill(text + keep, n - keep));
  int32_t* rows = draft_tokens_.as<int32_t>();
  const size_t vocab = model_.config().vocab_size;
  for (size_t j = 0; j < max_k; ++j) {
    if (j > 0) EF_RETURN_IF_ERROR(draft.Prefill(rows + j, 1));
    const float* logits = draft.logits();
    if (sampler.greedy()) {
      rows[j + 1] = static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
      continue;
    }
    // The distribution the model's row j will be judged against: the same settings, the same
    // history (the text and the proposals before this one).
    float* q = draft_q_.as<float>() + j * vocab;
    sampler.Distribution(logits, draft.history(), draft.position(), q);
    rows[j + 1] = sampler.Draw(q);
  }
  *k = max_k;
  return Error::Ok();
}

int32_t Session::SampleAt(float* row, uint32_t fed, Sampler& sampler, const float* q, int32_t proposed) {
  const ModelConfig& c = model_.config();
  const ScopedOp t(profile_, phase_, OpKind::kSample);
  // Ids the model never generates (an encoder-decoder's pad) are out before sampling.
  for (const int32_t id : c.suppress_ids) row[id] = -INFINITY;
  // A forced EOS (BART, Marian: transformers' forced_eos_token_id at max_length) is the token at
  // the context's last position.
  if (c.forced_eos_id >= 0 && fed + 1 == context_) return c.forced_eos_id;
  if (q == nullptr) return sampler.Sample(row, history_.as<int32_t>(), fed);
  // Speculative sampling (model/speculative.h) on the model's distribution p.
  float* p = draft_p_.as<float>();
  sampler.Distribution(row, history_.as<int32_t>(), fed, p);
  if (proposed < 0) return sampler.Draw(p);
  if (AcceptDraft(p, q, proposed, sampler.Uniform())) return proposed;
  // Rejected: p[proposed] < q[proposed], so the residual has mass (if rounding left none: p).
  if (Residual(p, q, c.vocab_size, p) > 0.0f) return sampler.Draw(p);
  sampler.Distribution(row, history_.as<int32_t>(), fed, p);
  return sampler.Draw(p);
}

bool Session::Deliver(int32_t token, const ModelConfig& c, const GenerateOptions& options, TokenCallback callback,
                      void* user_data, size_t* n_generated, StopReason* reason) {
  if (options.stop_at_end_of_text && c.EndsText(token)) {
    *reason = StopReason::kEndOfText;
    return true;
  }
  ++*n_generated;
  if (callback != nullptr && !callback(user_data, token)) {
    *reason = StopReason::kCallback;
    return true;
  }
  return *n_generated >= options.max_tokens;
}

Error Session::VerifyDraft(size_t k, const float* q, Sampler& sampler, const GenerateOptions& options,
                           TokenCallback callback, void* user_data, size_t* n_generated, StopReason* reason,
                           bool* stop) {
  const ModelConfig& c = model_.config();
  const size_t vocab = c.vocab_size;
  int32_t* rows = draft_tokens_.as<int32_t>();
  float* logits = draft_logits_.as<float>();
  rows[0] = pending_;
  const uint32_t pos_before = pos_;
  pending_ = -1;
  native_pass_ = true;
  Error err = Forward(rows, k + 1, false, logits);
  native_pass_ = false;
  if (!err.ok()) {  // the pending token stays pending: the session is as before this pass
    pending_ = rows[0];
    has_logits_ = true;
    (void)RestoreTo(pos_before);
    return err;
  }
  ++draft_stats_.passes;
  draft_stats_.proposed += k;
  // Row i holds the logits after rows[0, i]: its token is sampled as a step after them would be.
  for (size_t i = 0;; ++i) {
    float* row = logits + i * vocab;
    const uint32_t fed = pos_before + static_cast<uint32_t>(i) + 1;
    const int32_t token = q == nullptr ? SampleAt(row, fed, sampler)
                                       : SampleAt(row, fed, sampler, q + i * vocab, i < k ? rows[i + 1] : -1);
    const bool agreed = i < k && token == rows[i + 1];
    if (agreed) ++draft_stats_.accepted;
    // What a step would leave: rows[0, i] fed, row i's logits, its token pending.
    auto keep = [&]() -> Error {
      std::memcpy(logits_.as<float>(), row, vocab * sizeof(float));
      has_logits_ = true;
      pending_ = token;
      return RestoreTo(fed);
    };
    if (Deliver(token, c, options, callback, user_data, n_generated, reason)) {
      *stop = true;
      return keep();
    }
    if (!agreed) return keep();
  }
}

}  // namespace edgeformer
