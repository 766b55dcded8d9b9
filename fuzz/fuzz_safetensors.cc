// Fuzz target: a safetensors file (header length, JSON header, dtypes, shapes, offsets), then
// every tensor read as f32 through the converter's reader.
#include <cstdint>

#include "converter/safetensors.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = edgeformer::fuzz::WriteScratch("model.safetensors", data, size);
  auto set = edgeformer::convert::SafetensorsSet::OpenFile(path);
  if (!set.ok()) return 0;
  auto file = edgeformer::MappedFile::Open(path);
  if (!file.ok()) return 0;
  auto tensors = edgeformer::convert::ParseSafetensors(*file.value(), path);
  if (!tensors.ok()) return 0;
  for (const auto& t : tensors.value()) {
    auto values = set.value()->ReadF32(t.name, t.shape);
    (void)values;
  }
  return 0;
}
