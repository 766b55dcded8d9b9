#include "converter/json_file.h"

#include <unistd.h>

#include <cstdio>
#include <vector>

namespace edgeformer {
namespace convert {
namespace {

// The deepest nesting of arrays and objects in `text`, outside strings; stops counting past
// kMaxJsonDepth.
int NestingDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > kMaxJsonDepth) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text, const std::string& what) {
  if (NestingDepth(text) > kMaxJsonDepth) {
    return Error(Status::kInvalidModel,
                 what + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(Status::kInvalidModel, what + ": not valid JSON");
  return j;
}

Result<nlohmann::json> ReadJsonFile(const std::string& path, uint64_t max_bytes) {
  Result<int> fd = OpenRegularFile(path);  // never waits on a FIFO
  if (!fd.ok()) return fd.error();
  std::FILE* f = ::fdopen(fd.value(), "rb");
  if (f == nullptr) {
    ::close(fd.value());
    return Error(Status::kIoError, path + ": cannot open");
  }
  std::vector<char> text;
  char chunk[1 << 16];
  size_t n = 0;
  bool too_big = false;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) {
    if (text.size() + n > max_bytes) {
      too_big = true;
      break;
    }
    text.insert(text.end(), chunk, chunk + n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (too_big) {
    return Error(Status::kInvalidModel,
                 path + ": more than " + std::to_string(max_bytes) + " bytes, too large for this kind of file");
  }
  if (failed) return Error(Status::kIoError, path + ": read error");
  return ParseJson(std::string_view(text.data(), text.size()), path);
}

}  // namespace convert
}  // namespace edgeformer
