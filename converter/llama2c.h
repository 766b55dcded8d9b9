// Reader for llama2.c checkpoints (legacy format, version 0) and their tokenizer.bin, and a
// writer of the same format for synthetic models.
//
// Checkpoint: seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
// a negative vocab_size means a separate classifier follows), then float32 tensors in run.c's
// order. tokenizer.bin: int32 max_token_length, then per token: float32 score, int32 length,
// bytes. Both are untrusted: every size is checked against the file before use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"

namespace edgeformer {
namespace convert {

struct Llama2cConfig {
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;  // vocab_size was positive
};

// A shape with a shared classifier, fields in the checkpoint header's order.
inline Llama2cConfig Llama2cShape(int32_t dim, int32_t hidden_dim, int32_t n_layers, int32_t n_heads,
                                  int32_t n_kv_heads, int32_t vocab_size, int32_t seq_len) {
  Llama2cConfig c;
  c.dim = dim;
  c.hidden_dim = hidden_dim;
  c.n_layers = n_layers;
  c.n_heads = n_heads;
  c.n_kv_heads = n_kv_heads;
  c.vocab_size = vocab_size;
  c.seq_len = seq_len;
  return c;
}

// Views of the checkpoint's tensors, pointing into its mapping. Shapes are [rows][cols] per layer.
struct Llama2cCheckpoint {
  Llama2cConfig config;
  std::unique_ptr<MappedFile> file;
  const float* token_embedding = nullptr;  // [vocab][dim]
  const float* rms_att = nullptr;          // [layers][dim]
  const float* wq = nullptr;               // [layers][n_heads * head_dim][dim]
  const float* wk = nullptr;               // [layers][n_kv_heads * head_dim][dim]
  const float* wv = nullptr;               // [layers][n_kv_heads * head_dim][dim]
  const float* wo = nullptr;               // [layers][dim][n_heads * head_dim]
  const float* rms_ffn = nullptr;          // [layers][dim]
  const float* w1 = nullptr;               // [layers][hidden][dim]
  const float* w2 = nullptr;               // [layers][dim][hidden]
  const float* w3 = nullptr;               // [layers][hidden][dim]
  const float* rms_final = nullptr;        // [dim]
  const float* classifier = nullptr;       // [vocab][dim]; == token_embedding when shared
};

Result<Llama2cCheckpoint> ReadLlama2cCheckpoint(const std::string& path);

struct Llama2cToken {
  std::string piece;
  float score;
};

// Reads exactly `vocab_size` tokens.
Result<std::vector<Llama2cToken>> ReadLlama2cTokenizer(const std::string& path, int32_t vocab_size);

// Writes a checkpoint with normally distributed weights (std 0.02, norms 1) from `seed`, and,
// unless tokenizer_path is empty, a tokenizer.bin with byte tokens and pieces made of common
// English letter pairs. For speed tests and pipelines; its text is nonsense.
Error WriteSyntheticLlama2c(const Llama2cConfig& config, uint64_t seed, const std::string& model_path,
                            const std::string& tokenizer_path);

}  // namespace convert
}  // namespace edgeformer
