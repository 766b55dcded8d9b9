// Fuzz target: the Hugging Face JSON files: config.json (first byte even) and tokenizer.json
// (odd; for a vocabulary of 300), through the converter's readers.
#include <cstdint>

#include "converter/hf_config.h"
#include "converter/hf_tokenizer.h"
#include "fuzz/fuzz_util.h"
#include "model_generated.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string path = edgeformer::fuzz::WriteScratch("hf.json", data + 1, size - 1);
  if (data[0] & 1) {
    edgeformer::schema::TokenizerT tokenizer;
    (void)edgeformer::convert::ReadHfTokenizer(path, 300, &tokenizer);
  } else {
    (void)edgeformer::convert::ReadHfConfig(path);
  }
  return 0;
}
