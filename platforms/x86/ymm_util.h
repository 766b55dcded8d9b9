// Small ymm helpers shared by the AVX2 and AVX-VNNI kernel files (both compiled with at least
// AVX2 and F16C). Included only by those files, at file scope: internal linkage, so no copy
// compiled with one ISA's flags leaks into another's.
#pragma once

#include <cstddef>
#include <cstring>

#include "platforms/x86/intrinsics.h"

namespace {

// The first n (<= 8) floats of v to dst.
inline void StoreFirst8(float* dst, __m256 v, size_t n) {
  if (n >= 8) {
    _mm256_storeu_ps(dst, v);
    return;
  }
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, v);
  std::memcpy(dst, tmp, n * sizeof(float));
}

}  // namespace
