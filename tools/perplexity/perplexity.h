// edgeformer-perplexity: how well a model predicts a text, as llama.cpp's perplexity tool
// reports it: the mean negative log-likelihood per predicted token and its exponential.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeformer.h"

namespace edgeformer {
namespace perplexity {

// Splits `text` (its final newline dropped) into documents at lines equal to `separator`; an
// empty separator keeps the text as one document.
std::vector<std::string> SplitDocuments(std::string text, const std::string& separator);

struct Score {
  double nll_sum = 0.0;     // natural log
  uint64_t tokens = 0;      // predicted tokens
  uint64_t documents = 0;
  uint64_t long_documents = 0;  // documents longer than the context, scored in windows
  uint64_t windows = 0;         // windows of those documents
  double seconds = 0.0;
  double nll_per_token() const { return tokens ? nll_sum / static_cast<double>(tokens) : 0.0; }
};

// What to do with a document longer than the context.
enum class LongDocuments {
  kWindows,   // score it all, in strided windows (below)
  kTruncate,  // score its first context + 1 tokens only (as many models' own evaluations do)
};

// Scores each document as BOS + its tokens (+ end_token when >= 0); every token after the first
// is predicted. A document of more than context + 1 tokens is, with kWindows, scored in windows
// of context + 1 tokens that start every context / 2 tokens (as Hugging Face's strided
// perplexity): each window predicts only the tokens the previous ones did not, so every token is
// scored once, with at least context / 2 tokens before it; with kTruncate, cut to context + 1
// tokens. Either way score->long_documents counts them. Adds to *score.
edgeformer_status ScoreDocuments(edgeformer_model* model, edgeformer_session* session,
                                 const std::vector<std::string>& documents, int32_t end_token, Score* score,
                                 LongDocuments long_documents = LongDocuments::kWindows);

}  // namespace perplexity
}  // namespace edgeformer
