// Structure-aware mutator for fuzz_hf_json_structured: the input is a selector byte (config.json
// or tokenizer.json, as fuzz_hf_json) and JSON; one node of the JSON changes (ids, sizes, merges,
// vocabulary entries, pre-tokenizer settings) and it is written back, so the readers' value
// checks get the time a byte flip would spend on syntax errors. Unparseable inputs, and one in
// eight others, get libFuzzer's byte-level mutation.
#include <cstring>

#include "fuzz/mutate_json.h"

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  using namespace edgeformer::fuzz;
  Rng rng(seed);
  if (size < 2 || rng.OneIn(8)) return LLVMFuzzerMutate(data, size, max_size);
  Json j = Json::parse(data + 1, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return LLVMFuzzerMutate(data, size, max_size);
  const int n = 1 + static_cast<int>(rng.Below(2));
  for (int i = 0; i < n; ++i) {
    MutateJson(rng, j, {"vocab_size", "hidden_size", "num_attention_heads", "num_key_value_heads", "id", "vocab",
                        "merges", "bos_token_id", "eos_token_id", "rope_scaling", "head_dim", "added_tokens"});
  }
  const std::string text = j.dump(-1, ' ', false, Json::error_handler_t::replace);  // mutated strings may not be UTF-8
  if (text.size() + 1 > max_size) return LLVMFuzzerMutate(data, size, max_size);
  if (rng.OneIn(16)) data[0] ^= 1;  // the same JSON as the other kind of file
  std::memcpy(data + 1, text.data(), text.size());
  return text.size() + 1;
}
