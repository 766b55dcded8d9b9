// JSON input of the converter (config.json, tokenizer.json, the shard index, safetensors
// headers), read with limits: a size cap per kind of file, and a nesting cap checked before
// parsing, so hostile files cannot exhaust memory or the stack (printing or walking a value is
// recursive).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

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
