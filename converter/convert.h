// Turns a checkpoint into an edgeformer model file.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include "core/status.h"
#include "model_generated.h"

namespace edgeformer {
namespace convert {

// kNone keeps f32; kF16 stores IEEE halves (round to nearest even); kInt8 quantizes per output
// channel (Blocked16x4).
enum class Quant { kNone, kF16, kInt8, kInt4 };

struct ConvertOptions {
  std::string checkpoint;  // llama2.c model.bin, or a Hugging Face checkpoint directory
  std::string tokenizer;   // llama2.c tokenizer.bin; empty: a model without tokenizer (token ids only)
  std::string output;
  Quant quant = Quant::kInt8;           // the matrices of the layers (and an untied classifier: see main.cc)
  Quant embedding_quant = Quant::kNone;  // the token embedding (and the classifier tied to it)
  uint32_t group_size = 32;              // int4: columns per scale (32, 64 or 128)
  std::FILE* report = nullptr;    // per-tensor lines (shape, bytes, SNR) when not null
  std::FILE* progress = nullptr;  // "converting tensor i of n (p%)" when not null
  // GGUF metadata, or a Hugging Face tokenizer.json (required then). false: the model takes token
  // ids only.
  bool tokenizer_from_checkpoint = true;
  // Precision per matrix (--quant auto): when set, called for every matrix with its name in the
  // file ("layers.3.wq"), its role, its shape and the precision the fields above give it; returns
  // the precision to store it in.
  std::function<Quant(const std::string& name, schema::TensorRole role, uint64_t rows, uint64_t cols, Quant given)>
      choose;
};

Error ConvertLlama2c(const ConvertOptions& options);

// A Hugging Face checkpoint directory: config.json and model.safetensors, or the shards of
// model.safetensors.index.json; tokenizer.json when present (byte-level BPE). Families llama,
// qwen2, gpt2 (see convert_hf.cc).
Error ConvertHf(const ConvertOptions& options);

// A GGUF file (llama.cpp): architecture llama, tokenizer model llama (SentencePiece-style), F32,
// F16 and Q8_0 tensors. See convert_gguf.cc.
Error ConvertGguf(const ConvertOptions& options);

}  // namespace convert
}  // namespace edgeformer
