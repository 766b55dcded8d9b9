// Writes an edgeformer model file (schemas/model.fbs): the size-prefixed FlatBuffer header, then
// each tensor's segments at 64-byte-aligned absolute offsets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "model_generated.h"

namespace edgeformer {
namespace convert {

// Bytes of one segment: either owned, or borrowed from memory that outlives the write.
struct Bytes {
  std::vector<uint8_t> owned;
  const uint8_t* borrowed = nullptr;
  uint64_t borrowed_size = 0;

  const uint8_t* data() const { return borrowed ? borrowed : owned.data(); }
  uint64_t size() const { return borrowed ? borrowed_size : owned.size(); }
};

struct TensorData {
  std::string name;
  schema::TensorRole role = schema::TensorRole::TokenEmbedding;
  int32_t layer = -1;
  std::vector<uint64_t> shape;
  schema::DType dtype = schema::DType::F32;
  schema::QuantScheme quant = schema::QuantScheme::None;
  schema::WeightLayout layout = schema::WeightLayout::RowMajor;
  Bytes data;
  Bytes scales;    // empty unless quantized
  Bytes row_sums;  // empty unless int8
  uint32_t group_size = 0;  // int4: columns per scale
};

struct ModelData {
  schema::ArchitectureT architecture;
  bool has_tokenizer = true;  // false: the file has no tokenizer table (token ids only)
  schema::TokenizerT tokenizer;
  std::vector<TensorData> tensors;
  std::string producer;
};

// Writes `model` to `path`. On failure nothing usable is left at `path`.
Error WriteModelFile(const ModelData& model, const std::string& path);

}  // namespace convert
}  // namespace edgeformer
