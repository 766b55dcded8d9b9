// JSON input of the converter (config.json, tokenizer.json, the shard index, safetensors
// headers), read with limits: a size cap per kind of file, and a nesting cap checked before
// parsing, so hostile files cannot exhaust memory or the stack (printing or walking a value is
// recursive).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace edgeformer {
namespace convert {

// Deeper nesting is refused; real files nest less than 10 levels.
constexpr int kMaxJsonDepth = 64;

// Parses `text`; `what` names it in errors ("<path>: the header").
Result<nlohmann::json> ParseJson(std::string_view text, const std::string& what);

// Reads and parses the file `path`, refused when it has more than `max_bytes` bytes.
Result<nlohmann::json> ReadJsonFile(const std::string& path, uint64_t max_bytes);

}  // namespace convert
}  // namespace edgeformer
