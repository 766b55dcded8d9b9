#include "converter/gguf.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "converter/safetensors.h"
#include "converter/ggml_blocks.h"

namespace edgeformer {
namespace convert {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kMaxCount = uint64_t{1} << 32;
constexpr uint32_t kTypeQ4_0 = 2;
constexpr uint64_t kQ4Block = 32, kQ4BlockBytes = 18;  // f16 scale + 16 bytes: value j's q + 8 in byte
                                                       // j % 16, the low nibble for j < 16

// Value j (< 32) of a Q4_0 block: q - 8, in [-8, 7].
int Q4Value(const uint8_t* block, uint64_t j) {
  return ((j < 16 ? block[2 + j] : block[2 + j - 16] >> 4) & 0xF) - 8;
}

// Bytes of `count` elements of a ggml type the reader knows; 0 when unknown or not whole blocks.
uint64_t TypeBytes(uint32_t type, uint64_t count) {
  const GgmlType* t = FindGgmlType(type);
  if (t == nullptr || count % t->elements != 0) return 0;
  return count / t->elements * t->bytes;
}

}  // namespace

// Reads the header with bounds checks on every read.
class GgufParser {
 public:
  explicit GgufParser(GgufFile* f) : f_(f), p_(f->file_->data()), end_(p_ + f->file_->size()) {}

  Error Parse() {
    uint32_t magic = 0, version = 0;
    uint64_t n_tensors = 0, n_kv = 0;
    EF_RETURN_IF_ERROR(Read(&magic, "the magic number"));
    if (magic != kMagic) return Bad("not a GGUF file (no GGUF magic number)");
    EF_RETURN_IF_ERROR(Read(&version, "the version"));
    if (version != 2 && version != 3) return Bad("GGUF version " + std::to_string(version) + " (2 and 3 are read)");
    EF_RETURN_IF_ERROR(Read(&n_tensors, "the tensor count"));
    EF_RETURN_IF_ERROR(Read(&n_kv, "the metadata count"));
    if (n_tensors > kMaxCount || n_kv > kMaxCount) return Bad("absurd tensor or metadata count");
    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key;
      EF_RETURN_IF_ERROR(ReadString(&key, "a metadata key"));
      uint32_t type = 0;
      EF_RETURN_IF_ERROR(Read(&type, "the type of '" + key + "'"));
      GgufValue v;
      EF_RETURN_IF_ERROR(ReadValue(type, &v, key, true));
      if (f_->metadata_.count(key)) return Bad("metadata key '" + key + "' appears twice");
      f_->metadata_[key] = std::move(v);
    }
    uint64_t alignment = 32;
    if (const GgufValue* a = f_->Find("general.alignment")) {
      // Range and integrality are checked on the double (NaN fails them) before it is cast.
      if (a->type == GgufValue::kArray || a->type == GgufValue::kString || !(a->number >= 1 && a->number <= 65536) ||
          a->number != std::floor(a->number) ||
          (static_cast<uint64_t>(a->number) & (static_cast<uint64_t>(a->number) - 1)) != 0) {
        return Bad("general.alignment must be a power of two up to 65536");
      }
      alignment = static_cast<uint64_t>(a->number);
    }
    std::vector<std::pair<GgufTensor, uint64_t>> infos;  // with their offsets, in file order
    for (uint64_t i = 0; i < n_tensors; ++i) {
      GgufTensor t;
      EF_RETURN_IF_ERROR(ReadString(&t.name, "a tensor name"));
      const std::string what = "tensor '" + t.name + "'";
      uint32_t n_dims = 0;
      EF_RETURN_IF_ERROR(Read(&n_dims, what + " dimension count"));
      if (n_dims == 0 || n_dims > 4) return Bad(what + ": " + std::to_string(n_dims) + " dimensions (1 to 4)");
      uint64_t count = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        uint64_t dim = 0;
        EF_RETURN_IF_ERROR(Read(&dim, what + " dimensions"));
        if (dim == 0 || dim > (uint64_t{1} << 40) || count > (uint64_t{1} << 40) / dim) {
          return Bad(what + ": dimension " + std::to_string(dim) + " is zero or too large");
        }
        count *= dim;
        t.dims.push_back(dim);
      }
      uint64_t offset = 0;
      EF_RETURN_IF_ERROR(Read(&t.type, what + " type"));
      EF_RETURN_IF_ERROR(Read(&offset, what + " offset"));
      if (offset % alignment != 0) return Bad(what + ": data offset " + std::to_string(offset) + " is not aligned");
      t.bytes = TypeBytes(t.type, count);
      infos.emplace_back(std::move(t), offset);
    }
    const uint64_t header = static_cast<uint64_t>(p_ - f_->file_->data());
    const uint64_t data_start = (header + alignment - 1) / alignment * alignment;
    const uint64_t size = f_->file_->size();
    if (data_start > size) return Bad("truncated: the data section starts past the end of the file");
    std::vector<std::pair<uint64_t, std::string>> ranges;  // offset, name
    for (auto& [t, offset] : infos) {
      if (f_->tensors_.count(t.name)) return Bad("tensor '" + t.name + "' appears twice");
      if (t.bytes != 0) {  // a type the converter does not read is refused only if used
        if (offset > size - data_start || t.bytes > size - data_start - offset) {
          return Bad("tensor '" + t.name + "': its " + std::to_string(t.bytes) + " bytes at offset " +
                     std::to_string(offset) + " run past the end of the file (truncated?)");
        }
        t.data = f_->file_->data() + data_start + offset;
        ranges.emplace_back(offset, t.name);
      }
      const std::string name = t.name;
      f_->tensors_[name] = std::move(t);
    }
    std::sort(ranges.begin(), ranges.end());
    for (size_t r = 1; r < ranges.size(); ++r) {
      if (ranges[r - 1].first + f_->tensors_[ranges[r - 1].second].bytes > ranges[r].first) {
        return Bad("tensors '" + ranges[r - 1].second + "' and '" + ranges[r].second + "' overlap");
      }
    }
    return Error::Ok();
  }


 private:
  Error Bad(const std::string& what) const { return Error(Status::kInvalidModel, f_->path_ + ": " + what); }

  template <typename T>
  Error Read(T* out, const std::string& what) {
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) return Bad("truncated while reading " + what);
    std::memcpy(out, p_, sizeof(T));
    p_ += sizeof(T);
    return Error::Ok();
  }

  Error ReadString(std::string* out, const std::string& what) {
    uint64_t n = 0;
    EF_RETURN_IF_ERROR(Read(&n, what));
    if (n > static_cast<uint64_t>(end_ - p_)) return Bad("truncated: " + what + " runs past the end of the file");
    out->assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return Error::Ok();
  }

  template <typename T>
  Error ReadAs(double* out, const std::string& key) {
    T v{};
    EF_RETURN_IF_ERROR(Read(&v, "the value of '" + key + "'"));
    *out = static_cast<double>(v);
    return Error::Ok();
  }

  Error ReadNumber(uint32_t type, double* out, const std::string& key) {
    switch (type) {
      case GgufValue::kU8: return ReadAs<uint8_t>(out, key);
      case GgufValue::kI8: return ReadAs<int8_t>(out, key);
      case GgufValue::kU16: return ReadAs<uint16_t>(out, key);
      case GgufValue::kI16: return ReadAs<int16_t>(out, key);
      case GgufValue::kU32: return ReadAs<uint32_t>(out, key);
      case GgufValue::kI32: return ReadAs<int32_t>(out, key);
      case GgufValue::kF32: return ReadAs<float>(out, key);
      case GgufValue::kU64: return ReadAs<uint64_t>(out, key);
      case GgufValue::kI64: return ReadAs<int64_t>(out, key);
      case GgufValue::kF64: return ReadAs<double>(out, key);
      case GgufValue::kBool:
        EF_RETURN_IF_ERROR(ReadAs<uint8_t>(out, key));
        if (*out > 1) return Bad("'" + key + "': a bool of value " + std::to_string(static_cast<int>(*out)));
        return Error::Ok();
      default: return Bad("'" + key + "': unknown value type " + std::to_string(type));
    }
  }

  Error ReadValue(uint32_t type, GgufValue* v, const std::string& key, bool allow_array) {
    v->type = static_cast<GgufValue::Type>(type);
    if (type == GgufValue::kString) return ReadString(&v->text, "the value of '" + key + "'");
    if (type != GgufValue::kArray) return ReadNumber(type, &v->number, key);
    if (!allow_array) return Bad("'" + key + "': arrays of arrays are not read");
    uint32_t element = 0;
    uint64_t count = 0;
    EF_RETURN_IF_ERROR(Read(&element, "the element type of '" + key + "'"));
    EF_RETURN_IF_ERROR(Read(&count, "the length of '" + key + "'"));
    // Every element takes at least one byte: a count beyond the bytes left is a lie.
    if (count > static_cast<uint64_t>(end_ - p_)) return Bad("truncated: array '" + key + "' runs past the end");
    v->element_type = static_cast<GgufValue::Type>(element);
    for (uint64_t i = 0; i < count; ++i) {
      if (element == GgufValue::kString) {
        v->texts.emplace_back();
        EF_RETURN_IF_ERROR(ReadString(&v->texts.back(), "an element of '" + key + "'"));
      } else if (element == GgufValue::kArray) {
        return Bad("'" + key + "': arrays of arrays are not read");
      } else {
        double d = 0;
        EF_RETURN_IF_ERROR(ReadNumber(element, &d, key));
        v->numbers.push_back(d);
      }
    }
    return Error::Ok();
  }

  GgufFile* f_;
  const uint8_t* p_;
  const uint8_t* end_;
};

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  Result<std::unique_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.error();
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  f->file_ = file.take();
  GgufParser parser(f.get());
  EF_RETURN_IF_ERROR(parser.Parse());
  return f;
}

const GgufValue* GgufFile::Find(const std::string& key) const {
  const auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::Tensor(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Result<uint64_t> GgufFile::Uint(const std::string& key) const {
  Result<double> v = Number(key);
  if (!v.ok()) return v.error();
  if (v.value() < 0 || v.value() > 4294967295.0 || v.value() != std::floor(v.value())) {
    return Error(Status::kInvalidModel, path_ + ": '" + key + "' must be a non-negative integer");
  }
  return static_cast<uint64_t>(v.value());
}

Result<double> GgufFile::Number(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(Status::kInvalidModel, path_ + ": has no metadata '" + key + "'");
  if (v->type == GgufValue::kString || v->type == GgufValue::kArray) {
    return Error(Status::kInvalidModel, path_ + ": '" + key + "' is not a number");
  }
  return v->number;
}

Result<std::string> GgufFile::String(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Error(Status::kInvalidModel, path_ + ": has no metadata '" + key + "'");
  if (v->type != GgufValue::kString) return Error(Status::kInvalidModel, path_ + ": '" + key + "' is not a string");
  return v->text;
}

Result<std::vector<float>> GgufFile::ReadF32(const std::string& name, uint64_t rows, uint64_t cols) const {
  const GgufTensor* t = Tensor(name);
  if (t == nullptr) return Error(Status::kInvalidModel, path_ + ": has no tensor '" + name + "'");
  const std::vector<uint64_t> want = rows == 1 ? std::vector<uint64_t>{cols} : std::vector<uint64_t>{cols, rows};
  if (t->dims != want) {
    return Error(Status::kInvalidModel, path_ + ": tensor '" + name + "' has dims " + ShapeString(t->dims) +
                                            ", the metadata implies " + ShapeString(want));
  }
  if (t->data == nullptr) {
    return Error(Status::kUnsupported, path_ + ": tensor '" + name + "' has type " + GgmlTypeName(t->type) +
                                           "; the converter reads " + GgmlTypesRead());
  }
  const GgmlType* type = FindGgmlType(t->type);  // known: t->data is set only for these
  const uint64_t count = rows * cols;
  std::vector<float> out(count);
  for (uint64_t b = 0; b < count / type->elements; ++b) {
    type->dequantize(t->data + b * type->bytes, out.data() + b * type->elements);
  }
  file_->Release(t->data, count / type->elements * type->bytes);  // read once
  return out;
}

std::string GgufFile::TypeName(const std::string& name) const {
  const GgufTensor* t = Tensor(name);
  return t == nullptr ? std::string() : GgmlTypeName(t->type);
}

Result<bool> GgufFile::ReadQ4_0(const std::string& name, uint64_t rows, uint64_t cols, std::vector<int8_t>* q,
                                std::vector<uint16_t>* scales) const {
  const GgufTensor* t = Tensor(name);
  if (t == nullptr || t->type != kTypeQ4_0) return false;
  const std::vector<uint64_t> want = rows == 1 ? std::vector<uint64_t>{cols} : std::vector<uint64_t>{cols, rows};
  if (t->dims != want || t->data == nullptr) return ReadF32(name, rows, cols).error();  // its message
  const uint64_t blocks = rows * cols / kQ4Block;
  q->resize(rows * cols);
  scales->resize(blocks);
  for (uint64_t b = 0; b < blocks; ++b) {
    const uint8_t* block = t->data + b * kQ4BlockBytes;
    (*scales)[b] = static_cast<uint16_t>(block[0] | (block[1] << 8));
    for (uint64_t j = 0; j < kQ4Block; ++j) (*q)[b * kQ4Block + j] = static_cast<int8_t>(Q4Value(block, j));
  }
  file_->Release(t->data, blocks * kQ4BlockBytes);
  return true;
}

}  // namespace convert
}  // namespace edgeformer
