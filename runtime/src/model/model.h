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
#include "model/tensor_roles.h"
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
  // An encoder-decoder's source-side tokenizer: the file's source_tokenizer (ids of the encoder's
  // vocabulary) when it has one, else the tokenizer.
  const Tokenizer& source_tokenizer() const { return source_tokenizer_.present() ? source_tokenizer_ : tokenizer_; }
  const GlobalWeights& globals() const { return globals_; }
  const Weight& token_embedding() const { return globals_.token_embedding; }  // [vocab, dim]
  const Weight& classifier() const { return globals_.classifier; }            // [vocab, dim]
  const LayerWeights& layer(uint32_t i) const { return layers_[i]; }
  // An encoder-decoder's encoder stack (config().encoder): its own tensors and layers.
  const GlobalWeights& encoder_globals() const { return encoder_globals_; }
  const LayerWeights& encoder_layer(uint32_t i) const { return encoder_layers_[i]; }
  // Calls f(config, info, layer, weight) for every role of the table in every stack (the
  // decoder's or only one, then an encoder's), for each of a stack's layers (layer -1: the
  // stack's own tensors), present or not.
  template <typename F>
  void ForEachWeight(F&& f) const {
    const ModelConfig* configs[2] = {&config_, config_.encoder.get()};
    const GlobalWeights* globals[2] = {&globals_, &encoder_globals_};
    const std::vector<LayerWeights>* layers[2] = {&layers_, &encoder_layers_};
    for (int stack = 0; stack < 2 && configs[stack] != nullptr; ++stack) {
      const ModelConfig& c = *configs[stack];
      ForEachRole([&](const TensorRoleInfo& info) {
        if (!info.per_layer) {
          f(c, info, -1, globals[stack]->*(info.global));
          return;
        }
        for (uint32_t l = 0; l < c.n_layers; ++l) f(c, info, static_cast<int32_t>(l), (*layers[stack])[l].*(info.layer));
      });
    }
  }
  // The type of the first layer's matrices (all of them unless the converter chose per matrix,
  // --quant auto): what the backend's choice and the tools' one-word summary go by.
  WeightType matmul_type() const { return layers_[0].wq.type; }
  // Bytes of weights a decode step reads (every matrix once, one embedding row; an
  // encoder-decoder's decoder without the cross-attention keys and values, read once per source).
  uint64_t weight_bytes() const { return weight_bytes_; }
  // Bytes of weights encoding a source reads (the encoder's, and the cross-attention keys' and
  // values' of every decoder layer); 0 unless an encoder-decoder.
  uint64_t encoder_weight_bytes() const { return encoder_weight_bytes_; }
  size_t file_size() const { return file_->size(); }
  // FNV-1a 64 of the file's header (the architecture, the tokenizer, every tensor's place, type
  // and checksum): what a saved session state names as its model.
  uint64_t identity() const { return identity_; }
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
  Tokenizer source_tokenizer_;  // absent unless the file has one
  GlobalWeights globals_;
  std::vector<LayerWeights> layers_;
  GlobalWeights encoder_globals_;
  std::vector<LayerWeights> encoder_layers_;
  uint64_t identity_ = 0;
  uint64_t weight_bytes_ = 0;
  uint64_t encoder_weight_bytes_ = 0;
  std::string weights_summary_;
};

}  // namespace edgeformer
