#include "ops/ops.h"
#include "platforms/common/f16.h"

namespace edgeformer {
namespace ops {

void Embed(const Weight& table, int32_t token, float* out) {
  const size_t dim = table.cols;
  const size_t row = static_cast<size_t>(token);
  if (table.type == WeightType::kInt8) {
    const int8_t* q = table.i8();
    const float scale = table.scales[row];
    for (size_t j = 0; j < dim; ++j) out[j] = static_cast<float>(q[BlockedOffset(row, j, dim)]) * scale;
  } else if (table.type == WeightType::kF16) {
    const uint16_t* src = table.f16() + row * dim;
    for (size_t j = 0; j < dim; ++j) out[j] = F16ToF32(src[j]);
  } else {
    const float* src = table.f32() + row * dim;
    for (size_t j = 0; j < dim; ++j) out[j] = src[j];
  }
}

}  // namespace ops
}  // namespace edgeformer
