#include "ops/weight.h"

namespace edgeformer {

const char* WeightTypeName(WeightType type) {
  switch (type) {
    case WeightType::kInt8: return "int8";
    case WeightType::kF16: return "f16";
    default: return "f32";
  }
}

}  // namespace edgeformer
