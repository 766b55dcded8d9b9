#include "converter/json_file.h"

#include <unistd.h>

#include <cstdio>
#include <utility>
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

// Whether v is an integer in [min, max]; if so, *out is its value.
bool IntegerIn(const nlohmann::json& v, int64_t min, int64_t max, int64_t* out) {
  if (!v.is_number_integer()) return false;  // a float (whatever its value), a string, ...
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max)) return false;
  const int64_t i = v.get<int64_t>();
  if (i < min || i > max) return false;
  *out = i;
  return true;
}

Error NotInteger(const std::string& what, const char* key, const char* kind, int64_t min, int64_t max,
                 const nlohmann::json& v) {
  return Error(Status::kInvalidModel, what + ": " + key + " must be " + kind + " in [" + std::to_string(min) + ", " +
                                          std::to_string(max) + "], not " + v.dump());
}

// j[key] into *out as JsonInt documents it (absent or null: *out unchanged).
Error ReadInteger(const nlohmann::json& j, const char* key, int64_t min, int64_t max, const std::string& what,
                  bool required, int64_t* out) {
  if (!j.contains(key) || j[key].is_null()) {
    return required ? Error(Status::kInvalidModel, what + ": has no " + key) : Error::Ok();
  }
  if (!IntegerIn(j[key], min, max, out)) return NotInteger(what, key, "an integer", min, max, j[key]);
  return Error::Ok();
}

}  // namespace

Error JsonInt(const nlohmann::json& j, const char* key, int32_t min, int32_t max, const std::string& what,
              int32_t* out, bool required) {
  int64_t v = *out;
  EF_RETURN_IF_ERROR(ReadInteger(j, key, min, max, what, required, &v));
  *out = static_cast<int32_t>(v);
  return Error::Ok();
}

Error JsonUint(const nlohmann::json& j, const char* key, uint32_t max, const std::string& what, uint32_t* out,
               bool required) {
  int64_t v = *out;
  EF_RETURN_IF_ERROR(ReadInteger(j, key, 0, max, what, required, &v));
  *out = static_cast<uint32_t>(v);
  return Error::Ok();
}

Error JsonInts(const nlohmann::json& j, const char* key, int32_t min, int32_t max, const std::string& what,
               std::vector<int32_t>* out) {
  if (!j.contains(key) || j[key].is_null()) return Error::Ok();
  const nlohmann::json& list = j[key];
  if (!list.is_array()) return NotInteger(what, key, "a list of integers", min, max, list);
  std::vector<int32_t> values;
  for (const nlohmann::json& v : list) {
    int64_t i = 0;
    if (!IntegerIn(v, min, max, &i)) return NotInteger(what, key, "a list of integers", min, max, v);
    values.push_back(static_cast<int32_t>(i));
  }
  *out = std::move(values);
  return Error::Ok();
}

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
