// Turns a checkpoint into an edgeformer model file.
#pragma once

#include <cstdio>
#include <string>

#include "core/status.h"

namespace edgeformer {
namespace convert {

enum class Quant { kNone, kInt8 };

struct ConvertOptions {
  std::string checkpoint;  // llama2.c model.bin
  std::string tokenizer;   // llama2.c tokenizer.bin; empty: a model without tokenizer (token ids only)
  std::string output;
  Quant quant = Quant::kInt8;           // the matrices of the layers
  Quant embedding_quant = Quant::kNone;  // the token embedding (and the classifier tied to it)
  std::FILE* report = nullptr;  // per-tensor lines (shape, bytes, SNR) when not null
};

Error ConvertLlama2c(const ConvertOptions& options);

}  // namespace convert
}  // namespace edgeformer
