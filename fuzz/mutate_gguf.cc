// Structure-aware mutator for fuzz_gguf_structured: walks a GGUF file (v2/v3: magic, version,
// counts, metadata keys with typed values and arrays, tensor infos with dims, type and offset),
// records where each field lies, and overwrites one to three of them in place with boundary
// values: counts and lengths (so the walk of the reader goes astray), value types, array element
// types and counts, scalar values (ids, sizes, the alignment), dims, tensor types, offsets, and
// string bytes. Nothing moves, so the rest of the file stays what it was. Files that do not walk,
// and one in eight others, get libFuzzer's byte-level mutation.
#include <cstring>
#include <vector>

#include "fuzz/mutate_util.h"

namespace edgeformer {
namespace fuzz {
namespace {

struct Field {
  size_t at;
  int width;     // bytes: 1, 4 or 8
  bool is_type;  // a GGUF value type or tensor type: small enums
};

// The byte widths of GGUF's scalar value types (0..12), 0 for string (8) and array (9).
int ScalarWidth(uint32_t type) {
  static const int kWidths[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  return type < 13 ? kWidths[type] : -1;
}

class Walker {
 public:
  Walker(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  // Records the fields of the whole header; false when it does not walk.
  bool Walk(std::vector<Field>* fields) {
    fields_ = fields;
    if (size_ < 24 || std::memcmp(data_, "GGUF", 4) != 0) return false;
    uint32_t version = 0;
    std::memcpy(&version, data_ + 4, 4);
    if (version < 2) return false;
    Add(4, 4, false);
    at_ = 8;
    uint64_t n_tensors = 0, n_kv = 0;
    if (!U64(&n_tensors) || !U64(&n_kv) || n_kv > (1 << 20) || n_tensors > (1 << 20)) return false;
    for (uint64_t i = 0; i < n_kv; ++i) {
      uint32_t type = 0;
      if (!String() || !U32(&type, true) || !Value(type, 0)) return false;
    }
    for (uint64_t i = 0; i < n_tensors; ++i) {
      uint32_t n_dims = 0, type = 0;
      uint64_t dim = 0, offset = 0;
      if (!String() || !U32(&n_dims, false) || n_dims > 8) return false;
      for (uint32_t d = 0; d < n_dims; ++d) {
        if (!U64(&dim)) return false;
      }
      if (!U32(&type, true) || !U64(&offset)) return false;
    }
    return true;
  }

 private:
  void Add(size_t at, int width, bool is_type) { fields_->push_back(Field{at, width, is_type}); }
  bool Room(uint64_t n) const { return n <= size_ - at_; }
  bool U32(uint32_t* v, bool is_type) {
    if (!Room(4)) return false;
    std::memcpy(v, data_ + at_, 4);
    Add(at_, 4, is_type);
    at_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (!Room(8)) return false;
    std::memcpy(v, data_ + at_, 8);
    Add(at_, 8, false);
    at_ += 8;
    return true;
  }
  bool String() {
    uint64_t n = 0;
    if (!U64(&n) || !Room(n)) return false;
    if (n > 0) Add(at_ + (n > 1 ? n / 2 : 0), 1, false);  // one of its bytes
    at_ += n;
    return true;
  }
  bool Value(uint32_t type, int depth) {
    if (type == 8) return String();
    if (type == 9) {
      uint32_t element = 0;
      uint64_t count = 0;
      if (depth > 2 || !U32(&element, true) || !U64(&count)) return false;
      const int width = ScalarWidth(element);
      if (width > 0) {
        if (!Room(count * static_cast<uint64_t>(width)) || count > size_) return false;
        // A few elements of a scalar array (token types, scores): their values.
        for (uint64_t i = 0; i < count && i < 8; ++i) Add(at_ + i * width, width >= 4 ? width : 1, false);
        at_ += count * width;
        return true;
      }
      for (uint64_t i = 0; i < count; ++i) {
        if (!Value(element, depth + 1)) return false;
      }
      return true;
    }
    const int width = ScalarWidth(type);
    if (width <= 0 || !Room(width)) return false;
    Add(at_, width >= 4 ? width : 1, false);
    at_ += width;
    return true;
  }

  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
  std::vector<Field>* fields_ = nullptr;
};

void Overwrite(Rng& rng, uint8_t* data, const Field& f) {
  uint64_t v = 0;
  std::memcpy(&v, data + f.at, f.width);
  if (f.is_type) {
    v = rng.OneIn(4) ? InterestingUnsigned(rng, v) : rng.Below(40);
  } else if (f.width == 1) {
    v = rng.Below(256);
  } else if (f.width == 4 && rng.OneIn(3)) {
    float x;
    std::memcpy(&x, &v, 4);
    x = InterestingFloat(rng, x);
    std::memcpy(&v, &x, 4);
  } else {
    v = InterestingUnsigned(rng, v);
  }
  std::memcpy(data + f.at, &v, f.width);
}

}  // namespace
}  // namespace fuzz
}  // namespace edgeformer

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  using namespace edgeformer::fuzz;
  Rng rng(seed);
  std::vector<Field> fields;
  if (rng.OneIn(8) || !Walker(data, size).Walk(&fields) || fields.empty()) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  const int n = 1 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < n; ++i) Overwrite(rng, data, fields[rng.Below(fields.size())]);
  return size;
}
