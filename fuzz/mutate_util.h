// Helpers of the structure-aware mutators (fuzz/mutate_*.cc): a seeded generator and the
// "interesting" values that reach a reader's checks (bounds, off-by-one, sign, overflow, NaN).
// Header-only, internal linkage.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace edgeformer {
namespace fuzz {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 1) {}
  uint64_t Next() {  // splitmix64
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool OneIn(uint64_t n) { return Below(n) == 0; }

 private:
  uint64_t state_;
};

// A value near `current` or at a boundary: 0, 1, current +- small, doubled, halved, powers of two,
// type limits, random bits. Truncated by the caller to the field's width.
[[maybe_unused]] uint64_t InterestingUnsigned(Rng& rng, uint64_t current) {
  switch (rng.Below(14)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return current + 1;
    case 3: return current - 1;
    case 4: return current * 2;
    case 5: return current / 2;
    case 6: return current + rng.Below(129) - 64;
    case 7: return uint64_t{1} << rng.Below(64);
    case 8: return (uint64_t{1} << rng.Below(64)) - 1;
    case 9: return 0xffffffffull;
    case 10: return 0x7fffffffull + rng.Below(3);
    case 11: return std::numeric_limits<uint64_t>::max() - rng.Below(3);
    case 12: return current ^ (uint64_t{1} << rng.Below(64));
    default: return rng.Next();
  }
}

[[maybe_unused]] int32_t InterestingInt32(Rng& rng, int32_t current) {
  switch (rng.Below(6)) {
    case 0: return -1;
    case 1: return -2;
    case 2: return std::numeric_limits<int32_t>::min();
    case 3: return std::numeric_limits<int32_t>::max();
    default: return static_cast<int32_t>(InterestingUnsigned(rng, static_cast<uint64_t>(static_cast<int64_t>(current))));
  }
}

[[maybe_unused]] float InterestingFloat(Rng& rng, float current) {
  switch (rng.Below(13)) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return std::numeric_limits<float>::quiet_NaN();
    case 3: return std::numeric_limits<float>::infinity();
    case 4: return -std::numeric_limits<float>::infinity();
    case 5: return std::numeric_limits<float>::denorm_min();
    case 6: return std::numeric_limits<float>::max();
    case 7: return -1.0f;
    case 8: return current * 2.0f;
    case 9: return -current;
    case 10: return 1e30f;
    case 11: return 1e-30f;
    default: {
      uint32_t bits;
      std::memcpy(&bits, &current, 4);
      bits ^= 1u << rng.Below(32);
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
  }
}

// An enum value: often a valid one (below `count`), sometimes one past the end, sometimes any.
template <typename E>
E InterestingEnum(Rng& rng, int count, int max = 255) {
  const int v = rng.OneIn(3) ? count + static_cast<int>(rng.Below(3)) : rng.OneIn(4) ? static_cast<int>(rng.Below(max + 1))
                                                                                     : static_cast<int>(rng.Below(count));
  return static_cast<E>(v);
}

}  // namespace
}  // namespace fuzz
}  // namespace edgeformer
