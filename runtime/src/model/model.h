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
#include "model/config.h"
#include "model/tokenizer.h"
#include "model/weights.h"

namespace edgeformer {

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
  const GlobalWeights& globals() const { return globals_; }
  const Weight& token_embedding() const { return globals_.token_embedding; }  // [vocab, dim]
  const Weight& classifier() const { return globals_.classifier; }            // [vocab, dim]
  const LayerWeights& layer(uint32_t i) const { return layers_[i]; }
  // The type of the first layer's matrices (all of them unless the converter chose per matrix,
  // --quant auto): what the backend's choice and the tools' one-word summary go by.
  WeightType matmul_type() const { return layers_[0].wq.type; }
  // Bytes of weights a decode step reads (every matrix once, one embedding row).
  uint64_t weight_bytes() const { return weight_bytes_; }
  size_t file_size() const { return file_->size(); }
  // The matrices' types by class, as the tools print it: "embedding int8; attention int4/g32;
  // ffn int4/g32 x10+int8 x2; classifier tied" (a count per type where a class mixes them).
  const std::string& weights_summary() const { return weights_summary_; }

 private:
  static Result<std::unique_ptr<Model>> FromFile(std::unique_ptr<MappedFile> file,
                                                 const LoadOptions& options);
  Error Parse(const LoadOptions& options);
  std::string SummarizeWeights() const;

  std::unique_ptr<MappedFile> file_;
  ModelConfig config_;
  Tokenizer tokenizer_;
  GlobalWeights globals_;
  std::vector<LayerWeights> layers_;
  uint64_t weight_bytes_ = 0;
  std::string weights_summary_;
};

}  // namespace edgeformer
