// Fuzz target: the llama2.c readers. The input's first byte chooses the file: the checkpoint
// (model.bin: header, sizes, segments) or the tokenizer (tokenizer.bin, for a vocabulary of 32).
#include <cstdint>

#include "converter/llama2c.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string path = edgeformer::fuzz::WriteScratch("llama2c", data + 1, size - 1);
  if (data[0] & 1) {
    auto tokens = edgeformer::convert::ReadLlama2cTokenizer(path, 32);
    (void)tokens;
  } else {
    auto checkpoint = edgeformer::convert::ReadLlama2cCheckpoint(path);
    if (checkpoint.ok()) {
      // Touch the segments the reader vouched for.
      const auto& c = checkpoint.value();
      volatile float sink = c.rms_final[c.config.dim - 1] + c.token_embedding[0];
      (void)sink;
    }
  }
  return 0;
}
