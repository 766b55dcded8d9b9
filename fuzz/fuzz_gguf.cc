// Fuzz target: a GGUF file (header, metadata of every type, tensor infos, alignment, offsets),
// then the typed metadata getters and tensor reads, then the whole conversion (architecture,
// tokenizer metadata, tensors) into a scratch file.
#include <cstdint>

#include "converter/convert.h"
#include "converter/gguf.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = edgeformer::fuzz::WriteScratch("model.gguf", data, size);
  auto gguf = edgeformer::convert::GgufFile::Open(path);
  if (!gguf.ok()) return 0;
  const auto& g = *gguf.value();
  for (const char* key : {"general.architecture", "llama.embedding_length", "llama.block_count",
                          "tokenizer.ggml.model", "llama.rope.freq_base"}) {
    (void)g.Uint(key);
    (void)g.Number(key);
    (void)g.String(key);
  }
  for (const char* name : {"token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight"}) {
    const auto* t = g.Tensor(name);
    if (t == nullptr) continue;
    const uint64_t cols = t->dims.empty() ? 0 : t->dims[0];
    const uint64_t rows = t->dims.size() > 1 ? t->dims[1] : 1;
    (void)g.ReadF32(name, rows, cols);
  }
  edgeformer::convert::ConvertOptions options;
  options.checkpoint = path;
  options.output = edgeformer::fuzz::ScratchPath("out.edgf");
  (void)edgeformer::convert::ConvertGguf(options);
  return 0;
}
