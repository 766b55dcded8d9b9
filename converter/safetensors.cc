#include "converter/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>
#include <sstream>

#include "converter/json_file.h"
#include "platforms/common/f16.h"

namespace edgeformer {
namespace convert {
namespace {

// The safetensors format caps its JSON header at 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// Bytes per element of every safetensors dtype; 0 for an unknown name.
uint64_t DTypeSize(const std::string& dtype) {
  static const std::map<std::string, uint64_t> kSizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2},  {"U16", 2},
      {"F16", 2},  {"BF16", 2}, {"I32", 4}, {"U32", 4},     {"F32", 4},     {"F64", 8},  {"I64", 8}, {"U64", 8}};
  const auto it = kSizes.find(dtype);
  return it == kSizes.end() ? 0 : it->second;
}

Error Bad(const std::string& path, const std::string& what) {
  return Error(Status::kInvalidModel, path + ": " + what);
}

// a * b, or false on overflow of uint64_t.
bool MulOk(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *out = a * b;
  return true;
}

}  // namespace

std::string JoinPath(const std::string& dir, const std::string& name) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d.empty() ? name : d + "/" + name;
}

std::string ShapeString(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {

Result<std::vector<SafeTensor>> ParseSafetensorsUnchecked(const MappedFile& file, const std::string& path) {
  const uint64_t size = file.size();
  if (size < 8) return Bad(path, "truncated: " + std::to_string(size) + " bytes, not even a header length");
  uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | file.data()[i];
  if (header > size - 8) {
    return Bad(path, "header length " + std::to_string(header) + " runs past the end of the file (" +
                         std::to_string(size) + " bytes): truncated or not a safetensors file");
  }
  if (header > kMaxHeaderBytes) {
    return Bad(path, "header length " + std::to_string(header) + " is more than the format's " +
                         std::to_string(kMaxHeaderBytes));
  }
  const char* text = reinterpret_cast<const char*>(file.data() + 8);
  Result<nlohmann::json> parsed = ParseJson(std::string_view(text, header), path + ": the header");
  if (!parsed.ok()) return parsed.error();
  const nlohmann::json& j = parsed.value();
  if (!j.is_object()) return Bad(path, "the header is not a JSON object");
  const uint64_t data_start = 8 + header, data_size = size - data_start;
  std::vector<SafeTensor> tensors;
  for (const auto& [name, entry] : j.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() || !entry.contains("shape") ||
        !entry["shape"].is_array() || !entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      return Bad(path, where + ": needs dtype, shape and two data_offsets");
    }
    SafeTensor t;
    t.name = name;
    t.file = path;
    t.dtype = entry["dtype"].get<std::string>();
    const uint64_t elem = DTypeSize(t.dtype);
    if (elem == 0) return Bad(path, where + ": unknown dtype '" + t.dtype + "'");
    uint64_t count = 1;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) return Bad(path, where + ": shape values must be non-negative integers");
      t.shape.push_back(d.get<uint64_t>());
      if (!MulOk(count, t.shape.back(), &count)) return Bad(path, where + ": shape overflows");
    }
    const auto& off = entry["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) {
      return Bad(path, where + ": data_offsets must be non-negative integers");
    }
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      return Bad(path, where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                           "] lie outside the data (" + std::to_string(data_size) + " bytes)");
    }
    uint64_t expected = 0;
    if (!MulOk(count, elem, &expected) || expected != end - begin) {
      return Bad(path, where + ": " + std::to_string(end - begin) + " bytes for shape " + ShapeString(t.shape) + " of " +
                           t.dtype + " (" + std::to_string(count) + " x " + std::to_string(elem) + " expected)");
    }
    t.data = file.data() + data_start + begin;
    t.bytes = end - begin;
    tensors.push_back(std::move(t));
  }
  std::vector<const SafeTensor*> order;
  for (const SafeTensor& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const SafeTensor* a, const SafeTensor* b) { return a->data < b->data; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i - 1]->data + order[i - 1]->bytes > order[i]->data) {
      return Bad(path, "tensors '" + order[i - 1]->name + "' and '" + order[i]->name + "' overlap");
    }
  }
  return tensors;
}

}  // namespace

Result<std::vector<SafeTensor>> ParseSafetensors(const MappedFile& file, const std::string& path) {
  return GuardJson(path, [&] { return ParseSafetensorsUnchecked(file, path); });
}

Error SafetensorsSet::Add(const std::string& path) {
  Result<std::unique_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.error();
  Result<std::vector<SafeTensor>> tensors = ParseSafetensors(*file.value(), path);
  if (!tensors.ok()) return tensors.error();
  for (SafeTensor& t : tensors.value()) {
    t.mapping = file.value().get();
    if (by_name_.count(t.name)) return Bad(path, "tensor '" + t.name + "' is also in " + by_name_[t.name].file);
    by_name_[t.name] = std::move(t);
  }
  files_.push_back(file.take());
  return Error::Ok();
}

Result<std::unique_ptr<SafetensorsSet>> SafetensorsSet::OpenFile(const std::string& path) {
  std::unique_ptr<SafetensorsSet> set(new SafetensorsSet());
  EF_RETURN_IF_ERROR(set->Add(path));
  return set;
}

Result<std::unique_ptr<SafetensorsSet>> SafetensorsSet::OpenDir(const std::string& dir) {
  return GuardJson(JoinPath(dir, "model.safetensors.index.json"), [&] { return OpenDirUnchecked(dir); });
}

Result<std::unique_ptr<SafetensorsSet>> SafetensorsSet::OpenDirUnchecked(const std::string& dir) {
  const std::string index_path = JoinPath(dir, "model.safetensors.index.json");
  if (!PathExists(index_path)) {
    const std::string single = JoinPath(dir, "model.safetensors");
    if (!PathExists(single)) {
      return Error(Status::kIoError, dir + ": has neither model.safetensors nor model.safetensors.index.json");
    }
    return OpenFile(single);
  }
  Result<nlohmann::json> index = ReadJsonFile(index_path, uint64_t{64} << 20);  // real ones: well under 1 MB
  if (!index.ok()) return index.error();
  const nlohmann::json& j = index.value();
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
    return Error(Status::kInvalidModel, index_path + ": has no weight_map object");
  }
  std::set<std::string> shards;
  for (const auto& [name, shard] : j["weight_map"].items()) {
    if (!shard.is_string() || shard.get<std::string>().find('/') != std::string::npos) {
      return Error(Status::kInvalidModel, index_path + ": the shard of '" + name + "' must be a file name");
    }
    shards.insert(shard.get<std::string>());
  }
  std::unique_ptr<SafetensorsSet> set(new SafetensorsSet());
  for (const std::string& shard : shards) EF_RETURN_IF_ERROR(set->Add(JoinPath(dir, shard)));
  for (const auto& [name, shard] : j["weight_map"].items()) {
    const SafeTensor* t = set->Find(name);
    const std::string want = JoinPath(dir, shard.get<std::string>());
    if (t == nullptr || t->file != want) {
      return Error(Status::kInvalidModel, index_path + ": '" + name + "' is not in " + want);
    }
  }
  return set;
}

const SafeTensor* SafetensorsSet::Find(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

Result<std::vector<float>> SafetensorsSet::ReadF32(const std::string& name, const std::vector<uint64_t>& shape) const {
  const SafeTensor* t = Find(name);
  if (t == nullptr) return Error(Status::kInvalidModel, "the checkpoint has no tensor '" + name + "'");
  if (t->shape != shape) {
    return Error(Status::kInvalidModel, t->file + ": tensor '" + name + "' has shape " + ShapeString(t->shape) +
                                            ", the config implies " + ShapeString(shape));
  }
  uint64_t count = 1;
  for (uint64_t d : shape) count *= d;
  std::vector<float> out(count);
  if (t->dtype == "F32") {
    std::memcpy(out.data(), t->data, count * 4);
  } else if (t->dtype == "F16" || t->dtype == "BF16") {
    const bool bf16 = t->dtype == "BF16";
    for (uint64_t i = 0; i < count; ++i) {
      const uint16_t h = static_cast<uint16_t>(t->data[2 * i] | (t->data[2 * i + 1] << 8));
      out[i] = bf16 ? BitsFloat(uint32_t{h} << 16) : F16ToF32(h);
    }
  } else {
    return Error(Status::kUnsupported, t->file + ": tensor '" + name + "' has dtype " + t->dtype +
                                           "; the converter reads F32, F16 and BF16");
  }
  if (t->mapping != nullptr) t->mapping->Release(t->data, t->bytes);
  return out;
}

}  // namespace convert
}  // namespace edgeformer
