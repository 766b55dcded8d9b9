// The loop of the f32 GEMM kernels: c[i][j] = Dot16(a row i, w row j, k), by blocks of 64 weight
// rows that stay in cache while every activation row passes over them. Weight rows are f32 or f16
// (widened exactly). `F32Rows` and `F16Rows` compute the dot products of one vector with
// consecutive rows of each type (an ISA's Dot16Rows).
#pragma once

#include <cstddef>
#include <cstdint>

#include "platforms/kernels.h"

namespace edgeformer {

using Dot16RowsFn = void (*)(size_t n, size_t d, const float* q, const void* rows, size_t stride, float* out);

template <Dot16RowsFn Rows, size_t kElemBytes>
static inline void SGemmBlocks(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const void* w,
                        size_t w_stride, float* c, size_t c_stride) {
  constexpr size_t kBlock = 64;
  const auto* bytes = static_cast<const uint8_t*>(w);
  for (size_t j = 0; j < n; j += kBlock) {
    const size_t cols = n - j < kBlock ? n - j : kBlock;
    const void* block = bytes + j * w_stride * kElemBytes;
    for (size_t i = 0; i < m; ++i) Rows(cols, k, a + i * a_stride, block, w_stride, c + i * c_stride + j);
  }
}

template <Dot16RowsFn F32Rows, Dot16RowsFn F16Rows>
static inline void SGemmDot16(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const void* w, size_t w_stride,
                       KvType w_type, float* c, size_t c_stride) {
  if (w_type == KvType::kF16) {
    SGemmBlocks<F16Rows, 2>(m, n, k, a, a_stride, w, w_stride, c, c_stride);
  } else {
    SGemmBlocks<F32Rows, 4>(m, n, k, a, a_stride, w, w_stride, c, c_stride);
  }
}

}  // namespace edgeformer
