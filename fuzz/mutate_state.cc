// Structure-aware mutator for fuzz_state_structured: reads a session state file's header (after
// the target's selector byte), overwrites one to three values in place with boundary values (the
// header's counts, types and sizes, the layer table's first positions, history ids, logits, and
// cache values and int8 scales), then recomputes the header's checksum as a writer would, so that
// most inputs reach the loader's value checks rather than its hash. Files that do not parse, and
// one in eight others, get libFuzzer's byte-level mutation (the checksum left as it falls).
#include <cstring>

#include "fuzz/mutate_util.h"
#include "runtime/src/core/checksum.h"

namespace edgeformer {
namespace fuzz {
namespace {

constexpr size_t kHeader = 128;  // model/session_state.cc's StateHeader
constexpr size_t kChecksum = 32, kLayers = 48, kVocab = 60, kTokens = 64, kHasLogits = 72;

uint32_t U32(const uint8_t* data, size_t at) {
  uint32_t v;
  std::memcpy(&v, data + at, 4);
  return v;
}

uint64_t Align64(uint64_t n) { return (n + 63) / 64 * 64; }

// Bytes of the hashed tables after the header (layer table, history, logits) as the header
// states them, clamped so that a mutated count cannot overflow.
uint64_t SmallBytes(const uint8_t* data) {
  const uint64_t layers = U32(data, kLayers) & 0xfffff, tokens = U32(data, kTokens) & 0xfffff;
  return Align64(layers * 4) + Align64(tokens * 4) + (U32(data, kHasLogits) == 1 ? Align64((U32(data, kVocab) & 0xfffff) * 4) : 0);
}

void Rehash(uint8_t* data, size_t size) {
  const uint64_t small = SmallBytes(data);
  if (kHeader + small > size) return;
  std::memset(data + kChecksum, 0, 8);
  const uint64_t h = Fnv1a64(data + kHeader, small, Fnv1a64(data, kHeader, kFnv1aInit));
  std::memcpy(data + kChecksum, &h, 8);
}

void Mutate(Rng& rng, uint8_t* data, size_t size) {
  const uint64_t small = SmallBytes(data);
  const uint64_t table = Align64(uint64_t{U32(data, kLayers) & 0xfffff} * 4);
  size_t at = 0;
  int width = 4;
  bool as_float = false;
  switch (rng.Below(6)) {
    case 0:  // a header field: version .. the reserved bytes
      at = 8 + 4 * rng.Below(21);
      if (at == 16 || at == 24) width = 8;  // file size, model identity
      if (at == kChecksum) at = kLayers;
      break;
    case 1:  // a layer's first position
      at = kHeader + 4 * rng.Below((U32(data, kLayers) & 0xff) + 1);
      break;
    case 2:  // a token of the history
      at = kHeader + table + 4 * rng.Below((U32(data, kTokens) & 0xfffff) + 1);
      break;
    case 3: {  // a logit (the last 64 of the hashed tables)
      const uint64_t back = 4 * (1 + rng.Below(64));
      if (U32(data, kHasLogits) != 1 || back > small) return;
      at = kHeader + small - back;
      as_float = true;
      break;
    }
    default:  // a cache value or scale
      if (size <= kHeader + small + 4) return;
      at = kHeader + small + (rng.Below(size - kHeader - small - 4) & ~size_t{3});
      as_float = rng.OneIn(2);
      width = as_float || rng.OneIn(2) ? 4 : 1;
      break;
  }
  if (at + width > size) return;
  uint64_t v = 0;
  std::memcpy(&v, data + at, width);
  if (as_float) {
    float f;
    std::memcpy(&f, data + at, 4);
    f = InterestingFloat(rng, f);
    std::memcpy(&v, &f, 4);
  } else {
    v = width == 1 ? rng.Below(256) : InterestingUnsigned(rng, v);
  }
  std::memcpy(data + at, &v, width);
}

}  // namespace
}  // namespace fuzz
}  // namespace edgeformer

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  using namespace edgeformer::fuzz;
  Rng rng(seed);
  // data[0] picks the session; the state file follows.
  if (rng.OneIn(8) || size < 1 + kHeader || std::memcmp(data + 1, "EFSTATE", 8) != 0) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  if (rng.OneIn(4)) data[0] = static_cast<uint8_t>(rng.Below(256));
  const int n = 1 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < n; ++i) Mutate(rng, data + 1, size - 1);
  if (!rng.OneIn(16)) Rehash(data + 1, size - 1);
  return size;
}
