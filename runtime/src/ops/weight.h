// A weight as the operators read it: a view into a model file's mapping (or any memory).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgeformer {

enum class WeightType { kF32, kInt8, kF16, kInt4 };

// "f32", "int8", "f16"; static storage.
const char* WeightTypeName(WeightType type);

// A 2-D weight [rows][cols] (or a 1-D vector with rows == 1): f32 row-major; kF16 (matrices only)
// row-major IEEE halves; kInt8 in the Blocked16x4 layout (platforms/layout.h), value[r][c] =
// scales[r] * q[r][c], row_sums[r] = sum_c q[r][c], with scales and row_sums padded to
// BlockedRows(rows) entries; kInt4 (matrices multiplied by activations only) in the BlockedInt4
// layout with `group` columns per f16 scale (int4_scales, in that layout's order). Absent when
// data is null.
struct Weight {
  WeightType type = WeightType::kF32;
  uint64_t rows = 0;
  uint64_t cols = 0;
  const void* data = nullptr;
  const float* scales = nullptr;
  const int32_t* row_sums = nullptr;
  uint32_t group = 0;                     // kInt4
  const uint16_t* int4_scales = nullptr;  // kInt4

  const float* f32() const { return static_cast<const float*>(data); }
  const uint16_t* f16() const { return static_cast<const uint16_t*>(data); }
  // Bytes of one value of the data segment (kInt4: 1 per value pair, see stored_bytes).
  size_t value_bytes() const {
    return type == WeightType::kInt8 || type == WeightType::kInt4 ? 1 : type == WeightType::kF16 ? 2 : 4;
  }
  // Bytes of its values and scales (and int8's row sums), padding not counted: what a pass over
  // the whole weight reads.
  uint64_t stored_bytes() const;
  // Whether a matmul by it reads int8-quantized activations.
  bool quantized() const { return type == WeightType::kInt8 || type == WeightType::kInt4; }
  const int8_t* i8() const { return static_cast<const int8_t*>(data); }
  bool present() const { return data != nullptr; }
};

}  // namespace edgeformer
