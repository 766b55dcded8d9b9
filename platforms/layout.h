// The weight layout of int8 matrices, shared by the converter (which writes it), the loader
// (which checks sizes) and every qgemm kernel (which reads it in place).
//
// Blocked16x4 (schema WeightLayout.Blocked16x4): an [n][k] matrix is stored as blocks of 16 rows
// (n padded with zero rows to a multiple of 16). Inside a block, for each group of 4 columns
// (k padded with zeros to a multiple of 4), 64 bytes: row r's 4 values at bytes 4r .. 4r + 3.
// One 64-byte load is then 16 output channels x 4 inputs: a zmm operand of VNNI vpdpbusd, two
// ymm rows of AVX2, four q registers of NEON sdot (by lane), and the B tile format of AMX.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace edgeformer {

constexpr size_t kBlockRows = 16;
constexpr size_t kGroupCols = 4;
constexpr size_t kBlockGroupBytes = kBlockRows * kGroupCols;  // 64

static constexpr size_t BlockedRows(size_t n) { return (n + kBlockRows - 1) / kBlockRows * kBlockRows; }
static constexpr size_t BlockedCols(size_t k) { return (k + kGroupCols - 1) / kGroupCols * kGroupCols; }
// Bytes of one block of 16 rows.
static constexpr size_t BlockBytes(size_t k) { return kBlockRows * BlockedCols(k); }
static constexpr size_t BlockedBytes(size_t n, size_t k) { return BlockedRows(n) * BlockedCols(k); }

// Where w[r][c] of an [n][k] matrix lives.
static constexpr size_t BlockedOffset(size_t r, size_t c, size_t k) {
  return (r / kBlockRows) * BlockBytes(k) + (c / kGroupCols) * kBlockGroupBytes + (r % kBlockRows) * kGroupCols +
         c % kGroupCols;
}

// Writes the row-major [n][k] matrix w (row stride `stride`) to out, BlockedBytes(n, k) bytes,
// padding included.
static inline void PackBlocked16x4(const int8_t* w, size_t n, size_t k, size_t stride, int8_t* out) {
  std::memset(out, 0, BlockedBytes(n, k));
  for (size_t r = 0; r < n; ++r) {
    for (size_t c = 0; c < k; ++c) out[BlockedOffset(r, c, k)] = w[r * stride + c];
  }
}

// Activation rows must be readable (any values) up to this many bytes: kernels load whole
// 64-byte steps; weights are zero past k, so the extra values never count.
static constexpr size_t ActivationRowBytes(size_t k) { return (k + 63) / 64 * 64; }

}  // namespace edgeformer
