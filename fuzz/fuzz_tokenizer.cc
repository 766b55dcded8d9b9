// Fuzz target: encoding arbitrary bytes with real tokenizers (SentencePiece-style scored BPE and
// GPT-2's byte-level BPE with each pre-tokenizer), from the model files named by
// $EDGEFORMER_FUZZ_TOKENIZERS (colon-separated; scripts/fuzz.sh makes them). The first byte picks
// the tokenizer and whether a BOS is added, the rest is the text; every id must be in the vocabulary
// and have a piece. (One tokenizer per input, not all of them: coverage guides each one as well, at
// a fifth of the cost per execution under the sanitizers.)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "edgeformer.h"

namespace {

std::vector<edgeformer_model*> LoadModels() {
  std::vector<edgeformer_model*> models;
  const char* list = std::getenv("EDGEFORMER_FUZZ_TOKENIZERS");
  std::string paths = list != nullptr ? list : "";
  for (size_t start = 0; start < paths.size();) {
    size_t end = paths.find(':', start);
    if (end == std::string::npos) end = paths.size();
    const std::string path = paths.substr(start, end - start);
    edgeformer_model* m = nullptr;
    if (!path.empty() && edgeformer_model_load(path.c_str(), nullptr, &m) == EDGEFORMER_OK) {
      models.push_back(m);
    } else if (!path.empty()) {
      std::fprintf(stderr, "fuzz_tokenizer: cannot load %s: %s\n", path.c_str(), edgeformer_last_error());
      std::abort();
    }
    start = end + 1;
  }
  if (models.empty()) {
    std::fprintf(stderr, "fuzz_tokenizer: set EDGEFORMER_FUZZ_TOKENIZERS to model files\n");
    std::abort();
  }
  return models;
}

}  // namespace

// Loaded before fuzzing starts (allocations of the first input would count as its leaks).
std::vector<edgeformer_model*>* g_models = nullptr;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_models = new std::vector<edgeformer_model*>(LoadModels());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<edgeformer_model*>& models = *g_models;
  edgeformer_model* m = models[data[0] % models.size()];
  const bool add_bos = (data[0] / models.size()) % 2 != 0;
  const char* text = reinterpret_cast<const char*>(data + 1);
  const size_t text_size = size - 1;
  std::vector<int32_t> ids(text_size * 4 + 8);
  edgeformer_model_info info;
  edgeformer_model_get_info(m, &info);
  size_t n = 0;
  const edgeformer_status st = edgeformer_tokenize(m, text, text_size, add_bos, ids.data(), ids.size(), &n);
  if (st != EDGEFORMER_OK) {
    std::fprintf(stderr, "tokenize failed on %zu bytes: %s\n", text_size, edgeformer_last_error());
    std::abort();
  }
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || static_cast<uint32_t>(ids[i]) >= info.vocab_size) std::abort();
    const char* piece = nullptr;
    size_t len = 0;
    if (edgeformer_token_piece(m, i ? ids[i - 1] : -1, ids[i], &piece, &len) != EDGEFORMER_OK) std::abort();
  }
  return 0;
}
