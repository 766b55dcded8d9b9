// The loop of the f32 GEMM kernels: c[i][j] = Dot16(a row i, w row j, k), by blocks of 64 weight
// rows that stay in cache while every activation row passes over them. `Rows` computes the dot
// products of one vector with consecutive rows (an ISA's Dot16Rows for f32).
#pragma once

#include <cstddef>

namespace edgeformer {

using Dot16RowsFn = void (*)(size_t n, size_t d, const float* q, const void* rows, size_t stride, float* out);

template <Dot16RowsFn Rows>
inline void SGemmDot16(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const float* w,
                       size_t w_stride, float* c, size_t c_stride) {
  constexpr size_t kBlock = 64;
  for (size_t j = 0; j < n; j += kBlock) {
    const size_t cols = n - j < kBlock ? n - j : kBlock;
    for (size_t i = 0; i < m; ++i) Rows(cols, k, a + i * a_stride, w + j * w_stride, w_stride, c + i * c_stride + j);
  }
}

}  // namespace edgeformer
