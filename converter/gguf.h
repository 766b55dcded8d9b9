// GGUF files (version 2 and 3, as llama.cpp writes them): metadata key/value pairs and a tensor
// table whose data follows, aligned to general.alignment (default 32).
//
// The file is mapped, never copied. Everything is validated before use: counts and string and
// array lengths against the bytes left, value types, tensor dimensions (at most 4, products that
// do not overflow), types the converter reads (converter/ggml_blocks.h; others are named in the
// error only when the tensor is used), data offsets aligned and inside the file, no overlaps. Errors
// name the file and what is wrong.
//
// Thread safety: immutable after Open; the views live as long as the GgufFile.
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

// One metadata value. Arrays keep their element type and either numbers or strings.
struct GgufValue {
  enum Type : uint32_t {
    kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
    kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
  };
  Type type = kU8;
  Type element_type = kU8;       // for arrays
  double number = 0.0;           // scalar numbers and bools (u64/i64 beyond 2^53 are refused)
  std::string text;              // strings
  std::vector<double> numbers;   // numeric arrays
  std::vector<std::string> texts;  // string arrays
};

struct GgufTensor {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the contiguous (innermost) one
  uint32_t type = 0;           // ggml type: 0 F32, 1 F16, 8 Q8_0, ...
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;          // 0 for types the reader does not know the size of
};

class GgufFile {
 public:
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  const GgufValue* Find(const std::string& key) const;
  const GgufTensor* Tensor(const std::string& name) const;

  // Typed metadata access: an error naming the key when it is missing or of the wrong kind.
  Result<uint64_t> Uint(const std::string& key) const;
  Result<double> Number(const std::string& key) const;
  Result<std::string> String(const std::string& key) const;

  // The tensor as f32 [rows][cols] (quantized types dequantized as ggml does), after checking it
  // exists and has ggml dims {cols, rows} (or {cols} for a vector, rows = 1). Its pages in the
  // mapped file are released once read (MappedFile::Release).
  Result<std::vector<float>> ReadF32(const std::string& name, uint64_t rows, uint64_t cols) const;

  // The ggml name of a tensor's type ("Q4_K"), or "" when there is no such tensor.
  std::string TypeName(const std::string& name) const;

  // A Q4_0 tensor [rows][cols] as its values q in [-8, 7] ([rows][cols]) and its f16 scales (one
  // per 32 values of a row, [rows][cols / 32]): value = scale * q, exactly edgeformer's int4 in
  // groups of 32. False (nothing read) when the tensor is not Q4_0; an error when it is but its
  // dims disagree.
  Result<bool> ReadQ4_0(const std::string& name, uint64_t rows, uint64_t cols, std::vector<int8_t>* q,
                        std::vector<uint16_t>* scales) const;

 private:
  std::string path_;
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, GgufValue> metadata_;
  std::map<std::string, GgufTensor> tensors_;

  friend class GgufParser;
};

}  // namespace convert
}  // namespace edgeformer
