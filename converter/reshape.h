// Reshaping checkpoint tensors: transposes, row ranges, and the reorder from a checkpoint's
// half-split rotary layout to edgeformer's adjacent pairs. Shared by the Hugging Face and GGUF
// converters.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace edgeformer {
namespace convert {

// [rows][cols] -> [cols][rows].
inline std::vector<float> Transpose(const std::vector<float>& w, uint64_t rows, uint64_t cols) {
  std::vector<float> out(w.size());
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) out[c * rows + r] = w[r * cols + c];
  return out;
}

inline std::vector<float> Rows(const std::vector<float>& w, uint64_t first, uint64_t count, uint64_t cols) {
  return std::vector<float>(w.begin() + static_cast<long>(first * cols), w.begin() + static_cast<long>((first + count) * cols));
}

// Rows of each of `heads` heads of head_dim rows [cols] reordered from the half-split rotary
// layout (Hugging Face, llama.cpp's NEOX) to edgeformer's adjacent pairs, in the first
// rotary_dim rows of the head (the rest, not rotated, stay). Applied to q and k alike, it leaves
// q.k unchanged.
template <typename T>
std::vector<T> HalvesToPairs(const std::vector<T>& w, uint64_t heads, uint64_t head_dim, uint64_t rotary_dim,
                             uint64_t cols) {
  std::vector<T> out(w);
  const uint64_t half = rotary_dim / 2;
  for (uint64_t h = 0; h < heads; ++h) {
    for (uint64_t i = 0; i < half; ++i) {
      const T* first = &w[(h * head_dim + i) * cols];
      const T* second = &w[(h * head_dim + i + half) * cols];
      std::copy(first, first + cols, &out[(h * head_dim + 2 * i) * cols]);
      std::copy(second, second + cols, &out[(h * head_dim + 2 * i + 1) * cols]);
    }
  }
  return out;
}

}  // namespace convert
}  // namespace edgeformer
