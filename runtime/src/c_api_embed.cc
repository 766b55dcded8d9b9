// The C API of embeddings and encoding (c_api.cc says how the C API files divide).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "c_api_internal.h"

namespace {

using edgeformer::Error;
using edgeformer::Status;
using namespace edgeformer::capi;  // NOLINT(google-build-using-namespace): the C API's own helpers

// Whether an optional output buffer (null: not wanted) holds n_tokens rows of `row` floats; else
// fails with what it needed.
bool Fits(const float* buffer, size_t n_tokens, size_t row, size_t capacity, const char* what, edgeformer_status* st) {
  if (buffer == nullptr || n_tokens <= capacity / row) return true;
  *st = Fail(Status::kInvalidArgument, std::to_string(n_tokens) + " tokens need " + std::to_string(n_tokens * row) +
                                           " " + what + " but the buffer holds " + std::to_string(capacity));
  return false;
}

}  // namespace

extern "C" {

edgeformer_embed_params edgeformer_embed_default_params(void) {
  edgeformer_embed_params p;
  p.pooling = EDGEFORMER_POOLING_MODEL;
  p.normalize = -1;
  return p;
}

edgeformer_status edgeformer_embed(edgeformer_session* session, const int32_t* tokens, const int32_t* token_types,
                                   const size_t* lengths, size_t n_texts, const edgeformer_embed_params* params,
                                   float* embeddings, size_t capacity) {
  if (session == nullptr) return Null("session");
  if (tokens == nullptr || lengths == nullptr) return Null("tokens or lengths");
  if (embeddings == nullptr) return Null("embeddings");
  const edgeformer_embed_params p = params ? *params : edgeformer_embed_default_params();
  if (p.pooling < EDGEFORMER_POOLING_MODEL || p.pooling > EDGEFORMER_POOLING_POOLER) {
    return Fail(Status::kInvalidArgument, "unknown pooling " + std::to_string(p.pooling));
  }
  const edgeformer::ModelConfig& c = session->model->config();
  if (n_texts > capacity / c.dim) {
    return Fail(Status::kInvalidArgument, std::to_string(n_texts) + " embeddings need " +
                                              std::to_string(n_texts * c.dim) + " floats but the buffer holds " +
                                              std::to_string(capacity));
  }
  return InCall(session, [&] {
    edgeformer::EncodeInput in;
    in.tokens = tokens;
    in.token_types = token_types;
    in.lengths = lengths;
    in.n_texts = n_texts;
    edgeformer::EncodeOutput out;
    out.embeddings = embeddings;
    out.pooling = static_cast<edgeformer::Pooling>(p.pooling);
    out.normalize = p.normalize < 0 ? c.normalize : p.normalize != 0;
    return Report(session->session->Encode(in, out));
  });
}

edgeformer_status edgeformer_embed_texts(edgeformer_session* session, const char* const* texts, const size_t* text_lens,
                                         size_t n_texts, const edgeformer_embed_params* params, float* embeddings,
                                         size_t capacity) {
  if (session == nullptr) return Null("session");
  if (texts == nullptr || text_lens == nullptr) return Null("texts or text_lens");
  return Guard([&] {
    std::vector<int32_t> ids;
    std::vector<size_t> lengths(n_texts);
    for (size_t i = 0; i < n_texts; ++i) {
      if (texts[i] == nullptr && text_lens[i] > 0) return Null("a text");
      const size_t before = ids.size();
      Error err = session->model->tokenizer().Encode(std::string_view(texts[i] ? texts[i] : "", text_lens[i]),
                                                     /*add_special=*/true, /*parse_special=*/false, &ids);
      if (!err.ok()) return Report(err);
      lengths[i] = ids.size() - before;
    }
    return edgeformer_embed(session, ids.data(), nullptr, lengths.data(), n_texts, params, embeddings, capacity);
  });
}

edgeformer_status edgeformer_encode(edgeformer_session* session, const int32_t* tokens, const int32_t* token_types,
                                    size_t n_tokens, float* hidden, size_t hidden_capacity, float* logits,
                                    size_t logits_capacity) {
  if (session == nullptr) return Null("session");
  if (tokens == nullptr) return Null("tokens");
  const edgeformer::ModelConfig& c = session->model->config();
  edgeformer_status st = EDGEFORMER_OK;
  if (!Fits(hidden, n_tokens, c.dim, hidden_capacity, "hidden floats", &st) ||
      !Fits(logits, n_tokens, c.vocab_size, logits_capacity, "logits", &st)) {
    return st;
  }
  return InCall(session, [&] {
    edgeformer::EncodeInput in;
    in.tokens = tokens;
    in.token_types = token_types;
    in.lengths = &n_tokens;
    in.n_texts = 1;
    edgeformer::EncodeOutput out;
    out.hidden = hidden;
    out.logits = logits;
    return Report(session->session->Encode(in, out));
  });
}

edgeformer_status edgeformer_encode_source(edgeformer_session* session, const int32_t* tokens, size_t n_tokens,
                                           float* hidden, size_t hidden_capacity) {
  if (session == nullptr) return Null("session");
  if (tokens == nullptr) return Null("tokens");
  edgeformer_status st = EDGEFORMER_OK;
  if (!Fits(hidden, n_tokens, session->model->config().dim, hidden_capacity, "hidden floats", &st)) return st;
  return InCall(session, [&] { return Report(session->session->EncodeSource(tokens, n_tokens, hidden)); });
}

edgeformer_beam_params edgeformer_beam_default_params(void) {
  edgeformer_beam_params p;
  p.beams = 4;
  p.max_tokens = 64;
  p.length_penalty = 1.0f;
  p.early_stopping = EDGEFORMER_EARLY_STOPPING_HEURISTIC;
  p.n_best = 1;
  return p;
}

edgeformer_status edgeformer_generate_beam(edgeformer_session* session, const edgeformer_beam_params* params,
                                           int32_t* tokens, size_t capacity, uint32_t* lengths, float* scores,
                                           uint32_t* n_results) {
  if (n_results != nullptr) *n_results = 0;
  if (session == nullptr) return Null("session");
  const edgeformer_beam_params p = params ? *params : edgeformer_beam_default_params();
  if (p.early_stopping < EDGEFORMER_EARLY_STOPPING_HEURISTIC || p.early_stopping > EDGEFORMER_EARLY_STOPPING_NEVER) {
    return Fail(Status::kInvalidArgument, "unknown early_stopping " + std::to_string(p.early_stopping));
  }
  if (tokens != nullptr && capacity == 0) return Fail(Status::kInvalidArgument, "tokens has no capacity");
  return InCall(session, [&] {
    edgeformer::BeamOptions o;
    o.beams = p.beams;
    o.max_tokens = p.max_tokens;
    o.length_penalty = p.length_penalty;
    o.early_stopping = p.early_stopping == EDGEFORMER_EARLY_STOPPING_ALWAYS  ? edgeformer::EarlyStopping::kAlways
                       : p.early_stopping == EDGEFORMER_EARLY_STOPPING_NEVER ? edgeformer::EarlyStopping::kNever
                                                                             : edgeformer::EarlyStopping::kHeuristic;
    o.n_best = p.n_best;
    const Error err = session->session->GenerateBeam(o);
    if (!err.ok()) return Report(err);
    const edgeformer::BeamSearch& beam = session->session->beam_results();
    for (uint32_t i = 0; i < beam.results(); ++i) {
      uint32_t n = 0;
      const int32_t* ids = beam.result_tokens(i, &n);
      if (tokens != nullptr) std::copy_n(ids, std::min<size_t>(n, capacity), tokens + i * capacity);
      if (lengths != nullptr) lengths[i] = n;
      if (scores != nullptr) scores[i] = beam.result_score(i);
    }
    if (n_results != nullptr) *n_results = beam.results();
    return EDGEFORMER_OK;
  });
}

}  // extern "C"
