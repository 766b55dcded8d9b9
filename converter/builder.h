// Builds the tensor table of a model file: matrices (quantized per output channel to int8 in the
// Blocked16x4 layout, stored as f16, or kept f32) and f32 vectors, with a per-tensor report line (shape, bytes,
// SNR of the quantization) when asked.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "converter/convert.h"
#include "core/mapped_file.h"
#include "converter/writer.h"

namespace edgeformer {
namespace convert {

// "converting tensor i of n (p%)" on one line of `out` (none when out is null), then where the file goes.
class Progress {
 public:
  Progress(std::FILE* out, uint64_t total) : out_(out), total_(total) {}
  void Next();
  void Done(const std::string& output) const;
  uint64_t done() const { return done_; }

 private:
  std::FILE* out_;
  uint64_t total_;
  uint64_t done_ = 0;
};

class Builder {
 public:
  // `model` receives the tensors, `options.report` (may be null) a line per tensor; int4 matrices
  // use groups of `options.group_size`. Each tensor's segments go to a spool beside
  // `options.output` as the tensor is added (ModelData::spool), so the converter holds one
  // converted tensor at a time. `model` outlives the Builder.
  Builder(ModelData* model, const ConvertOptions& options);

  // The checkpoint's mapping: the pages of a borrowed matrix or vector read from it are dropped
  // from the resident set once the tensor is converted (MappedFile::Release). May be null.
  void SetSourceFile(const MappedFile* file) { source_file_ = file; }

  // A matrix [rows][cols] from `w` (read before the call returns). A value past the f16 range (|w| > 65504)
  // fails the build: see status().
  void Matrix(const std::string& name, schema::TensorRole role, int32_t layer, const float* w, uint64_t rows,
              uint64_t cols, Quant quant);
  // The same from an owned buffer: the model keeps it.
  void Matrix(const std::string& name, schema::TensorRole role, int32_t layer, std::vector<float>&& w, uint64_t rows,
              uint64_t cols, Quant quant);

  // An int4 matrix already quantized in groups of 32 (GGUF's Q4_0): values q [rows][cols] in
  // [-8, 7] and f16 scales [rows][cols / 32], stored as they are (no second rounding).
  void Int4Matrix(const std::string& name, schema::TensorRole role, int32_t layer, const std::vector<int8_t>& q,
                  const std::vector<uint16_t>& scales, uint64_t rows, uint64_t cols);

  // A vector, always f32.
  void Vector(const std::string& name, schema::TensorRole role, int32_t layer, const float* v, uint64_t n);
  void Vector(const std::string& name, schema::TensorRole role, int32_t layer, std::vector<float>&& v);

  // Where the tensors added from now on came from ("Q4_K", dequantized; "" for none), named on
  // their report lines: their SNR is then the error of requantizing those values.
  void SetSource(std::string source) { source_ = std::move(source); }

  // The stack the tensors added from now on belong to (TensorData::stack): 1 names them
  // "encoder.<name>" and puts them in an encoder-decoder's encoder; 0 (the default) the decoder.
  void SetStack(uint8_t stack) { stack_ = stack; }

  // The first error of the matrices added so far (Ok when none); check it before writing.
  const Error& status() const { return status_; }

 private:
  void Add(TensorData&& t, double snr);

  // Stores w as f16 into t; returns the SNR. Sets status_ when a value does not fit.
  double HalvesInto(const float* w, uint64_t rows, uint64_t cols, TensorData* t);
  // Quantizes w into t as int4 in groups (BlockedInt4); returns the SNR. Sets status_ when a
  // scale does not fit f16.
  double Int4Into(const float* w, uint64_t rows, uint64_t cols, TensorData* t);
  // Packs q and row-major scales [rows][groups] into t (BlockedInt4, groups of `group`).
  void PackInt4Into(const std::vector<int8_t>& q, const std::vector<uint16_t>& scales, uint64_t rows, uint64_t cols,
                    size_t group, TensorData* t);

  ModelData* model_;
  std::FILE* report_;
  uint32_t group_size_;
  std::string source_;
  uint8_t stack_ = 0;
  const MappedFile* source_file_ = nullptr;
  std::function<Quant(const std::string&, schema::TensorRole, uint64_t, uint64_t, Quant)> choose_;
  Error status_ = Error::Ok();
};

}  // namespace convert
}  // namespace edgeformer
