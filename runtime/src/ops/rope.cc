#include <cmath>

#include "ops/ops.h"
#include "ops/table_math.h"

namespace edgeformer {
namespace ops {

namespace {

float Frequency(size_t i, size_t rotary_dim, const std::vector<float>* ext, const RopeParams& p) {
  const float f = 1.0f / TablePow(p.theta, static_cast<float>(2 * i) / static_cast<float>(rotary_dim));
  if (ext != nullptr) return 1.0f / ((*ext)[i] * TablePow(p.theta, static_cast<float>(2 * i) / static_cast<float>(rotary_dim)));
  if (p.linear) return f / p.factor;
  if (!p.llama3) return f;
  const float kPi = 3.14159265358979323846f;
  const float wavelength = 2.0f * kPi / f;
  const float original = static_cast<float>(p.original_max_pos);
  if (wavelength < original / p.high_freq_factor) return f;
  if (wavelength > original / p.low_freq_factor) return f / p.factor;
  const float smooth = (original / wavelength - p.low_freq_factor) / (p.high_freq_factor - p.low_freq_factor);
  return (1.0f - smooth) * f / p.factor + smooth * f;
}

}  // namespace

void RopeTable(size_t max_pos, size_t rotary_dim, const RopeParams& params, float* table) {
  const size_t half = rotary_dim / 2;
  const std::vector<float>* ext = nullptr;
  if (!params.short_factors.empty()) {
    ext = max_pos > params.original_max_pos ? &params.long_factors : &params.short_factors;
  }
  const float m = ext != nullptr ? params.attention_factor : 1.0f;
  for (size_t pos = 0; pos < max_pos; ++pos) {
    for (size_t i = 0; i < half; ++i) {
      const float freq = Frequency(i, rotary_dim, ext, params);
      const float angle = static_cast<float>(pos) * freq;
      table[(pos * half + i) * 2 + 0] = TableCos(angle) * m;
      table[(pos * half + i) * 2 + 1] = TableSin(angle) * m;
    }
  }
}

void Rope(float* vec, size_t n_heads, size_t head_dim, size_t rotary_dim, RotaryStyle style, const float* cos_sin) {
  const size_t half = rotary_dim / 2;
  // Pair i is (2i, 2i + 1) for adjacent pairs, (i, i + half) for the half split; both rotate by
  // frequency i. Dims from rotary_dim on are left as they are. One loop per style, so that each
  // has constant strides and vectorizes.
  for (size_t h = 0; h < n_heads; ++h) {
    float* v = vec + h * head_dim;
    if (style == RotaryStyle::kAdjacentPairs) {
      for (size_t i = 0; i < half; ++i) {
        const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
        const float v0 = v[2 * i], v1 = v[2 * i + 1];
        v[2 * i] = v0 * c - v1 * s;
        v[2 * i + 1] = v0 * s + v1 * c;
      }
    } else {
      for (size_t i = 0; i < half; ++i) {
        const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
        const float v0 = v[i], v1 = v[i + half];
        v[i] = v0 * c - v1 * s;
        v[i + half] = v0 * s + v1 * c;
      }
    }
  }
}

}  // namespace ops
}  // namespace edgeformer
