// Hugging Face safetensors checkpoints: one `model.safetensors`, or shards listed by
// `model.safetensors.index.json`.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {...}}
// then the data; offsets are relative to the first byte after the header. Files are mapped, never
// copied. Every header value is validated before use: the header fits the file, offsets lie
// inside the data, the byte count equals the shape times the dtype's size, and no two tensors
// overlap. Errors name the file and the tensor.
//
// Thread safety: immutable after Open; the views live as long as the SafetensorsSet.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"

namespace edgeformer {
namespace convert {

struct SafeTensor {
  std::string name;
  std::string dtype;  // as in the file: "F32", "BF16", "I64", ...
  std::vector<uint64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapped file, `bytes` long
  uint64_t bytes = 0;
  std::string file;  // for messages
  const MappedFile* mapping = nullptr;  // the file `data` is in
};

// Parses and validates one file's header; `tensors` view into `file`.
Result<std::vector<SafeTensor>> ParseSafetensors(const MappedFile& file, const std::string& path);

class SafetensorsSet {
 public:
  // `dir`/model.safetensors.index.json when it exists (every shard it names must exist, and every
  // tensor must be in the shard the index says), else `dir`/model.safetensors.
  static Result<std::unique_ptr<SafetensorsSet>> OpenDir(const std::string& dir);
  // One file.
  static Result<std::unique_ptr<SafetensorsSet>> OpenFile(const std::string& path);

  const SafeTensor* Find(const std::string& name) const;
  size_t size() const { return by_name_.size(); }

  // The tensor `name` as f32 (F32, F16 and BF16 are read; other dtypes are refused), after
  // checking that it exists and has `shape`. Its pages in the mapped file are released once read
  // (MappedFile::Release): a converter reads each tensor once.
  Result<std::vector<float>> ReadF32(const std::string& name, const std::vector<uint64_t>& shape) const;

 private:
  Error Add(const std::string& path);
  static Result<std::unique_ptr<SafetensorsSet>> OpenDirUnchecked(const std::string& dir);

  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, SafeTensor> by_name_;
};

// "[2, 3]"
std::string ShapeString(const std::vector<uint64_t>& shape);

// dir + "/" + name, without doubling a trailing slash of dir.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace convert
}  // namespace edgeformer
