// The rotary layouts of checkpoints and edgeformer's: shared by the Hugging Face and GGUF
// converters.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace edgeformer {
namespace convert {

// Rows of each of `heads` heads of head_dim rows [cols] reordered from the half-split rotary
// layout (Hugging Face, llama.cpp's NEOX) to edgeformer's adjacent pairs, in the first
// rotary_dim rows of the head (the rest, not rotated, stay). Applied to q and k alike, it leaves
// q.k unchanged.
inline std::vector<float> HalvesToPairs(const std::vector<float>& w, uint64_t heads, uint64_t head_dim,
                                        uint64_t rotary_dim, uint64_t cols) {
  std::vector<float> out(w);
  const uint64_t half = rotary_dim / 2;
  for (uint64_t h = 0; h < heads; ++h) {
    for (uint64_t i = 0; i < half; ++i) {
      const float* first = &w[(h * head_dim + i) * cols];
      const float* second = &w[(h * head_dim + i + half) * cols];
      std::copy(first, first + cols, &out[(h * head_dim + 2 * i) * cols]);
      std::copy(second, second + cols, &out[(h * head_dim + 2 * i + 1) * cols]);
    }
  }
  return out;
}

}  // namespace convert
}  // namespace edgeformer
