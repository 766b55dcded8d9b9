// Shared by the Hugging Face converters (convert_hf.cc, convert_bert.cc, convert_bloom.cc,
// convert_generic.cc): reading tensors as f32 with the shape the config implies (with progress);
// reshaping them is converter/reshape.h.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "converter/builder.h"
#include "converter/convert.h"
#include "converter/reshape.h"
#include "converter/safetensors.h"

namespace edgeformer {
namespace convert {

// The common part of every family: reads tensors as f32 with the shape the config implies, and
// reports progress.
class Reader {
 public:
  Reader(const SafetensorsSet& st, const ConvertOptions& options, uint64_t total)
      : st_(st), progress_(options.progress, total) {}

  Result<std::vector<float>> Read(const std::string& name, const std::vector<uint64_t>& shape) {
    progress_.Next();
    return st_.ReadF32(name, shape);
  }
  void Done(const std::string& output) const { progress_.Done(output); }

 private:
  const SafetensorsSet& st_;
  Progress progress_;
};

}  // namespace convert
}  // namespace edgeformer

// Reads tensor `name` of the given shape into std::vector<float> `var`, or returns its error.
#define EF_READ(var, name, ...)                                            \
  Result<std::vector<float>> var##_read = reader.Read(name, {__VA_ARGS__}); \
  if (!var##_read.ok()) return var##_read.error();                         \
  std::vector<float> var = var##_read.take()
