// A loaded model: validated hyper-parameters, the tokenizer, and views of the weights inside the
// mapped file.
//
// Ownership: Model owns the mapping; every pointer in it points into the mapping (weights are
// never copied) or into Model-owned tables, and lives as long as the Model.
// Thread safety: immutable after Load; any number of sessions on any threads may share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "model/tokenizer.h"

namespace edgeformer {

enum class NormKind { kRMSNorm, kLayerNorm };
enum class ActivationKind { kSwiGLU, kGELU, kGELUTanh, kReLU };
enum class PositionKind { kRotary, kLearned, kSinusoidal, kALiBi, kNone };

// Hyper-parameters, checked for consistency at load.
// Rotary position parameters: base frequency theta, and optional llama3 frequency scaling
// (schemas/model.fbs, RopeScaling).
struct RopeParams {
  float theta = 10000.0f;
  bool llama3 = false;
  float factor = 1.0f, low_freq_factor = 1.0f, high_freq_factor = 4.0f;
  uint32_t original_max_pos = 0;
};

struct ModelConfig {
  uint32_t n_layers = 0;
  uint32_t dim = 0;
  uint32_t hidden_dim = 0;
  uint32_t n_heads = 0;
  uint32_t n_kv_heads = 0;
  uint32_t head_dim = 0;
  uint32_t vocab_size = 0;
  uint32_t max_seq_len = 0;
  NormKind norm = NormKind::kRMSNorm;
  float norm_eps = 1e-5f;
  ActivationKind activation = ActivationKind::kSwiGLU;
  PositionKind position = PositionKind::kRotary;
  RopeParams rope;
  uint32_t rotary_dim = 0;
  bool tied_embeddings = false;
  bool attention_bias = false;  // bq, bk, bv present (bo optional)
  bool mlp_bias = false;        // b_up, b_down (and b_gate with SwiGLU) present
  int32_t bos_id = -1;
  int32_t eos_id = -1;

  uint32_t q_dim() const { return n_heads * head_dim; }
  uint32_t kv_dim() const { return n_kv_heads * head_dim; }
};

enum class WeightType { kF32, kInt8, kF16 };

// "f32", "int8", "f16"; static storage.
const char* WeightTypeName(WeightType type);

// A 2-D weight [rows][cols] (or a 1-D vector with rows == 1) inside the mapping: f32 row-major;
// kF16 (matrices only) row-major IEEE halves;
// kInt8 in the Blocked16x4 layout (platforms/layout.h), value[r][c] = scales[r] * q[r][c],
// row_sums[r] = sum_c q[r][c], with scales and row_sums padded to BlockedRows(rows) entries.
struct Weight {
  WeightType type = WeightType::kF32;
  uint64_t rows = 0;
  uint64_t cols = 0;
  const void* data = nullptr;
  const float* scales = nullptr;
  const int32_t* row_sums = nullptr;

  const float* f32() const { return static_cast<const float*>(data); }
  const uint16_t* f16() const { return static_cast<const uint16_t*>(data); }
  // Bytes of one value of the data segment.
  size_t value_bytes() const { return type == WeightType::kInt8 ? 1 : type == WeightType::kF16 ? 2 : 4; }
  const int8_t* i8() const { return static_cast<const int8_t*>(data); }
  bool present() const { return data != nullptr; }
};

// A layer's tensors. Which are present depends on the architecture (the loader checks): the
// norm biases with LayerNorm, w_gate with SwiGLU (GELU: up, activation, down), the biases with
// attention_bias / mlp_bias. Absent tensors have data == nullptr.
struct LayerWeights {
  Weight attn_norm;       // [dim]
  Weight attn_norm_bias;  // [dim]
  Weight wq, bq;          // [q_dim, dim], [q_dim]
  Weight wk, bk;          // [kv_dim, dim], [kv_dim]
  Weight wv, bv;          // [kv_dim, dim], [kv_dim]
  Weight wo, bo;          // [dim, q_dim], [dim]
  Weight ffn_norm;        // [dim]
  Weight ffn_norm_bias;   // [dim]
  Weight w_gate, b_gate;  // [hidden_dim, dim], [hidden_dim]
  Weight w_down, b_down;  // [dim, hidden_dim], [dim]
  Weight w_up, b_up;      // [hidden_dim, dim], [hidden_dim]
};

struct LoadOptions {
  bool verify_checksums = false;  // hash every tensor at load (reads the whole file)
  uint64_t memory_budget = 0;     // bytes the model's file may occupy once read; 0: no limit
};

class Model {
 public:
  // Maps and validates the file at `path`.
  static Result<std::unique_ptr<Model>> Load(const std::string& path, const LoadOptions& options);
  // Validates a model held in caller-owned memory, which must stay valid and unchanged for the
  // Model's lifetime. Weights are used in place, so `data` should be 64-byte aligned for speed.
  static Result<std::unique_ptr<Model>> LoadFromMemory(const void* data, size_t size,
                                                        const LoadOptions& options);

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const Weight& token_embedding() const { return token_embedding_; }  // [vocab, dim]
  const Weight& position_embedding() const { return position_embedding_; }  // [max_seq_len, dim] (learned)
  const Weight& final_norm() const { return final_norm_; }            // [dim]
  const Weight& final_norm_bias() const { return final_norm_bias_; }  // [dim] (LayerNorm)
  const Weight& classifier() const { return classifier_; }            // [vocab, dim]
  const Weight& classifier_bias() const { return classifier_bias_; }  // [vocab], optional
  const LayerWeights& layer(uint32_t i) const { return layers_[i]; }
  // The type of the layers' matrices (the converter writes them all alike): what decides the
  // kernels and the backend.
  WeightType matmul_type() const { return layers_[0].wq.type; }
  // Bytes of weights a decode step reads (every matrix once, one embedding row).
  uint64_t weight_bytes() const { return weight_bytes_; }
  size_t file_size() const { return file_->size(); }

 private:
  static Result<std::unique_ptr<Model>> FromFile(std::unique_ptr<MappedFile> file,
                                                 const LoadOptions& options);
  Error Parse(const LoadOptions& options);

  std::unique_ptr<MappedFile> file_;
  ModelConfig config_;
  Tokenizer tokenizer_;
  Weight token_embedding_;
  Weight position_embedding_;
  Weight final_norm_;
  Weight final_norm_bias_;
  Weight classifier_;
  Weight classifier_bias_;
  std::vector<LayerWeights> layers_;
  uint64_t weight_bytes_ = 0;
};

}  // namespace edgeformer
