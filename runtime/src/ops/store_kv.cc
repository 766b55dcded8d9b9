#include <cstring>

#include "ops/ops.h"
#include "platforms/common/f16.h"

namespace edgeformer {
namespace ops {

void StoreKv(const float* src, size_t n, size_t width, size_t src_stride, KvType kv_type, void* dst,
             size_t dst_stride) {
  for (size_t r = 0; r < n; ++r) {
    const float* in = src + r * src_stride;
    if (kv_type == KvType::kF16) {
      uint16_t* out = static_cast<uint16_t*>(dst) + r * dst_stride;
      for (size_t i = 0; i < width; ++i) out[i] = F32ToF16(in[i]);
    } else {
      std::memcpy(static_cast<float*>(dst) + r * dst_stride, in, width * sizeof(float));
    }
  }
}

}  // namespace ops
}  // namespace edgeformer
