// Structure-aware mutator for fuzz_safetensors_structured: parses the 8-byte header length and the
// JSON header, changes a tensor's dtype, shape or data_offsets (or any node), writes the header
// back with its length (now and then a wrong one), and keeps the data bytes. Unparseable inputs,
// and one in eight others, get libFuzzer's byte-level mutation.
#include <cstring>
#include <vector>

#include "fuzz/mutate_json.h"

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  using namespace edgeformer::fuzz;
  Rng rng(seed);
  uint64_t header = 0;
  if (size >= 8) std::memcpy(&header, data, 8);
  if (size < 10 || header > size - 8 || rng.OneIn(8)) return LLVMFuzzerMutate(data, size, max_size);
  Json j = Json::parse(data + 8, data + 8 + header, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return LLVMFuzzerMutate(data, size, max_size);
  if (rng.OneIn(3)) {
    // A tensor's dtype: another real one, or none known.
    std::vector<Json*> entries;
    for (auto& [key, value] : j.items()) {
      if (value.is_object() && value.contains("dtype")) entries.push_back(&value);
    }
    if (!entries.empty()) {
      static const char* kDtypes[] = {"F32", "F16", "BF16", "I8", "U8", "I32", "I64", "F64", "BOOL", "F8_E4M3", ""};
      (*entries[rng.Below(entries.size())])["dtype"] = kDtypes[rng.Below(sizeof(kDtypes) / sizeof(kDtypes[0]))];
    }
  } else {
    MutateJson(rng, j, {"shape", "data_offsets", "dtype"});
  }
  const std::string text = j.dump(-1, ' ', false, Json::error_handler_t::replace);  // mutated strings may not be UTF-8
  const size_t data_bytes = size - 8 - header;
  const size_t total = 8 + text.size() + data_bytes;
  if (total > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::vector<uint8_t> out(total);
  uint64_t length = text.size();
  if (rng.OneIn(16)) length = InterestingUnsigned(rng, length);
  std::memcpy(out.data(), &length, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::memcpy(out.data() + 8 + text.size(), data + 8 + header, data_bytes);
  std::memcpy(data, out.data(), total);
  return total;
}
