// Parameters of the position and attention operators (model/config.h states them per model).
#pragma once

#include <cstdint>
#include <vector>

namespace edgeformer {

// Which positions a query attends to.
enum class MaskKind { kCausal, kBidirectional, kPrefixLM };

// Which dimensions of a head rotary positions rotate together.
enum class RotaryStyle { kAdjacentPairs, kHalfSplit };

// Rotary position parameters: base frequency theta, and optional llama3 frequency scaling
// (schemas/model.fbs, RopeScaling).
struct RopeParams {
  float theta = 10000.0f;
  bool llama3 = false;
  bool linear = false;  // every frequency divided by factor
  float factor = 1.0f, low_freq_factor = 1.0f, high_freq_factor = 4.0f;
  uint32_t original_max_pos = 0;
  // LongRoPE (Phi-3): frequency i divided by short_factors[i], or long_factors[i] for a table
  // longer than original_max_pos; cos and sin scaled by attention_factor. Empty: none.
  std::vector<float> short_factors, long_factors;
  float attention_factor = 1.0f;
};

// T5's relative position buckets.
struct RelativeParams {
  uint32_t buckets = 0;
  uint32_t max_distance = 0;
  bool bidirectional = false;
  bool shared = false;  // one table (layer -1) for every layer
};

}  // namespace edgeformer
