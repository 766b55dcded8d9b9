#include "ops/weight.h"

#include "platforms/layout.h"

namespace edgeformer {

const char* WeightTypeName(WeightType type) {
  switch (type) {
    case WeightType::kInt8: return "int8";
    case WeightType::kInt4: return "int4";
    case WeightType::kF16: return "f16";
    default: return "f32";
  }
}

uint64_t Weight::stored_bytes() const {
  switch (type) {
    case WeightType::kInt8: return rows * cols + rows * 8;  // values, f32 scale, int32 row sum
    case WeightType::kInt4: return (rows * cols + 1) / 2 + rows * Int4Groups(cols, group) * 2;  // f16 scales
    default: return rows * cols * value_bytes();
  }
}

}  // namespace edgeformer
