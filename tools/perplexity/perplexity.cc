#include "tools/perplexity/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace edgeformer {
namespace perplexity {
namespace {

constexpr size_t kChunk = 64;  // positions scored per call: bounds the logits buffer

// -log softmax(logits)[target], in double.
double NegLogLikelihood(const float* logits, size_t vocab, int32_t target) {
  double max = logits[0];
  for (size_t i = 1; i < vocab; ++i) max = logits[i] > max ? logits[i] : max;
  double sum = 0.0;
  for (size_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  return -(static_cast<double>(logits[target]) - max - std::log(sum));
}

}  // namespace

std::vector<std::string> SplitDocuments(std::string text, const std::string& separator) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (separator.empty()) return {text};
  std::vector<std::string> docs;
  std::string current;
  bool first_line = true;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    if (line == separator) {
      docs.push_back(current);
      current.clear();
      first_line = true;
    } else {
      if (!first_line) current += '\n';
      current += line;
      first_line = false;
    }
    at = end + 1;
  }
  docs.push_back(current);
  return docs;
}

edgeformer_status ScoreDocuments(edgeformer_model* model, edgeformer_session* session,
                                 const std::vector<std::string>& documents, int32_t end_token, Score* score,
                                 LongDocuments long_documents) {
  edgeformer_model_info info;
  edgeformer_status st = edgeformer_model_get_info(model, &info);
  if (st != EDGEFORMER_OK) return st;
  edgeformer_session_info sinfo;
  st = edgeformer_session_get_info(session, &sinfo);
  if (st != EDGEFORMER_OK) return st;
  const size_t vocab = info.vocab_size;
  std::vector<float> logits(kChunk * vocab);
  std::vector<int32_t> tokens;
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& doc : documents) {
    tokens.assign(doc.size() + 2, 0);
    size_t n = 0;
    st = edgeformer_tokenize(model, doc.data(), doc.size(), EDGEFORMER_TOKENIZE_ADD_SPECIAL, tokens.data(), tokens.size(), &n);
    if (st != EDGEFORMER_OK) return st;
    tokens.resize(n);
    if (end_token >= 0) tokens.push_back(end_token);
    const size_t window = size_t{sinfo.context_length} + 1;  // positions + the last target
    const bool long_document = tokens.size() > window;
    if (long_document && long_documents == LongDocuments::kTruncate) tokens.resize(window);
    const size_t stride = std::max<size_t>(1, sinfo.context_length / 2);
    size_t scored_to = 1;  // tokens before this index are predicted already (token 0 never is)
    for (size_t begin = 0; scored_to < tokens.size(); begin += stride) {
      const size_t end = std::min(begin + window, tokens.size());
      st = edgeformer_session_reset(session);
      if (st != EDGEFORMER_OK) return st;
      // Tokens begin .. scored_to - 2 are context only: a prefill without logits.
      size_t done = begin;
      if (scored_to - 1 > begin) {
        st = edgeformer_session_prefill(session, tokens.data() + begin, scored_to - 1 - begin);
        if (st != EDGEFORMER_OK) return st;
        done = scored_to - 1;
      }
      // Position i's logits predict token i + 1; the last token is only a target.
      while (done + 1 < end) {
        const size_t chunk = std::min(kChunk, end - 1 - done);
        st = edgeformer_session_prefill_logits(session, tokens.data() + done, chunk, logits.data(), logits.size());
        if (st != EDGEFORMER_OK) return st;
        for (size_t i = 0; i < chunk; ++i) {
          score->nll_sum += NegLogLikelihood(logits.data() + i * vocab, vocab, tokens[done + i + 1]);
        }
        score->tokens += chunk;
        done += chunk;
      }
      scored_to = end;
      if (long_document) ++score->windows;
    }
    if (long_document) ++score->long_documents;
    ++score->documents;
  }
  score->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return EDGEFORMER_OK;
}

}  // namespace perplexity
}  // namespace edgeformer
