// JSON input of the converter (config.json, tokenizer.json, the shard index, safetensors
// headers), read with limits: a size cap per kind of file, and a nesting cap checked before
// parsing, so hostile files cannot exhaust memory or the stack (printing or walking a value is
// recursive).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"

namespace edgeformer {
namespace convert {

// Deeper nesting is refused; real files nest less than 10 levels.
constexpr int kMaxJsonDepth = 64;

// Parses `text`; `what` names it in errors ("<path>: the header").
Result<nlohmann::json> ParseJson(std::string_view text, const std::string& what);

// Reads and parses the file `path`, refused when it has more than `max_bytes` bytes.
Result<nlohmann::json> ReadJsonFile(const std::string& path, uint64_t max_bytes);

// The largest dimension or token id a config may state (as converter/hf_config.cc).
constexpr int32_t kMaxConfigInt = 1 << 24;

// Integers read from a JSON object, checked before any conversion (nlohmann's get<uint32_t>() of
// 1e30 is undefined behaviour, of -1 wraps): j[key] must be an integer (not a float, whatever its
// value) in [min, max], else the error names `what`, the key and the value. An absent or null key
// leaves *out as it is (the caller's default), or is an error when `required`.
Error JsonInt(const nlohmann::json& j, const char* key, int32_t min, int32_t max, const std::string& what,
              int32_t* out, bool required = false);
Error JsonUint(const nlohmann::json& j, const char* key, uint32_t max, const std::string& what, uint32_t* out,
               bool required = false);
// j[key] as a list of integers in [min, max], each checked as JsonInt does; absent or null leaves
// *out as it is.
Error JsonInts(const nlohmann::json& j, const char* key, int32_t min, int32_t max, const std::string& what,
               std::vector<int32_t>* out);

// Runs fn() (returning Error or Result<T>) and turns a JSON exception (a value of a kind its
// reader did not check for, e.g. `"type": false` where a string belongs) into an error naming
// `what`, so a hostile file cannot end the process.
template <typename Fn>
auto GuardJson(const std::string& what, Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const nlohmann::json::exception& e) {
    return Error(Status::kInvalidModel, what + ": a value of an unexpected kind (" + e.what() + ")");
  }
}

}  // namespace convert
}  // namespace edgeformer
