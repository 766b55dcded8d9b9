// Writes an edgeformer model file (schemas/model.fbs): the size-prefixed FlatBuffer header, then
// each tensor's segments at 64-byte-aligned absolute offsets.
//
// The segments are spooled to a temporary file as each tensor is converted (ModelData::spool,
// filled by the Builder), so a converter holds one tensor at a time whatever the model's size;
// the header, which needs every tensor's place, is written last at the front, and the spool is
// copied after it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model_generated.h"

namespace edgeformer {
namespace convert {

// Bytes of one segment: owned, or borrowed from memory that outlives the write, or already in the
// spool (spooled_size bytes; data() is then null).
struct Bytes {
  std::vector<uint8_t> owned;
  const uint8_t* borrowed = nullptr;
  uint64_t borrowed_size = 0;
  uint64_t spooled_size = 0;

  const uint8_t* data() const { return borrowed ? borrowed : owned.data(); }
  uint64_t size() const { return spooled_size ? spooled_size : borrowed ? borrowed_size : owned.size(); }
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
  uint64_t checksum = 0;    // of the segments, set by SegmentSpool::Take
  uint8_t stack = 0;        // 0: the decoder or only stack; 1: an encoder-decoder's encoder
};

// A temporary file beside the output that takes a model's segments in order as they are built,
// each at a 64-byte-aligned offset from its start: the same places, shifted by the header's size,
// that they have in the model file. Unlinked as soon as it is created (nothing is left behind,
// however the process ends); closed on destruction. After a failed write every call fails. Not
// thread-safe.
class SegmentSpool {
 public:
  // A spool in the folder of the model file `path`.
  static Result<std::unique_ptr<SegmentSpool>> Create(const std::string& path);
  ~SegmentSpool();
  SegmentSpool(const SegmentSpool&) = delete;
  SegmentSpool& operator=(const SegmentSpool&) = delete;

  // Moves t's segments into the spool (their memory is freed; borrowed bytes are only read) and
  // records their checksum. An I/O error is returned and leaves t unchanged.
  Error Take(TensorData* t);
  // Bytes spooled so far (the end of the last segment).
  uint64_t size() const { return end_; }
  // Appends the spool's bytes [0, size()) to `out`.
  Error CopyTo(std::FILE* out);

 private:
  SegmentSpool(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;  // the output it is beside: for messages
  uint64_t end_ = 0;
  bool failed_ = false;
};

struct ModelData {
  schema::ArchitectureT architecture;
  bool has_tokenizer = true;  // false: the file has no tokenizer table (token ids only)
  schema::TokenizerT tokenizer;
  // An encoder-decoder's source-side tokenizer when it differs (Marian's source.spm); null: none.
  std::unique_ptr<schema::TokenizerT> source_tokenizer;
  std::vector<TensorData> tensors;
  std::string producer;
  // Where the Builder puts each tensor's segments as it adds them (created by the first Builder).
  std::unique_ptr<SegmentSpool> spool;
};

// Writes `model`, every tensor of which is in model.spool, to `path`. On failure nothing usable
// is left at `path`.
Error WriteModelFile(const ModelData& model, const std::string& path);

}  // namespace convert
}  // namespace edgeformer
