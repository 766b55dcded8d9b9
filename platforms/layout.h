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

// BlockedInt4 (schema WeightLayout.BlockedInt4): symmetric int4 values q in [-8, 7] with one scale
// per `group` consecutive columns of a row (group 32, 64 or 128). Columns are padded with q = 0 to
// a multiple of the group; rows to a multiple of 16. Blocks of 16 rows; inside a block, for each
// 8 columns, 64 bytes: byte 4r + c (r < 16, c < 4) holds q + 8 of column 8i + c in its low nibble
// and of column 8i + 4 + c in its high nibble. So one 64-byte load, split into nibbles, is two
// Blocked16x4 steps of unsigned values q + 8 (the kernels subtract 8 times the activations' sum).
// Scales are f16, block by block: [BlockedRows(n) / 16][groups][16] (zero for padded rows).
constexpr size_t kInt4Cols = 8;  // columns per 64-byte step
static constexpr size_t Int4PaddedCols(size_t k, size_t group) { return (k + group - 1) / group * group; }
static constexpr size_t Int4Groups(size_t k, size_t group) { return Int4PaddedCols(k, group) / group; }
static constexpr size_t Int4BlockBytes(size_t k, size_t group) { return kBlockRows * Int4PaddedCols(k, group) / 2; }
static constexpr size_t Int4Bytes(size_t n, size_t k, size_t group) {
  return BlockedRows(n) / kBlockRows * Int4BlockBytes(k, group);
}
static constexpr size_t Int4ScaleCount(size_t n, size_t k, size_t group) { return BlockedRows(n) * Int4Groups(k, group); }
// The byte holding w[r][c], and the shift of its nibble (0 or 4).
static constexpr size_t Int4Offset(size_t r, size_t c, size_t k, size_t group) {
  return (r / kBlockRows) * Int4BlockBytes(k, group) + (c / kInt4Cols) * kBlockGroupBytes + (r % kBlockRows) * kGroupCols +
         c % kGroupCols;
}
static constexpr unsigned Int4Shift(size_t c) { return (c / kGroupCols) % 2 * 4; }
// Where the scale of row r, group g lives among the scales.
static constexpr size_t Int4ScaleIndex(size_t r, size_t g, size_t k, size_t group) {
  return (r / kBlockRows) * Int4Groups(k, group) * kBlockRows + g * kBlockRows + r % kBlockRows;
}
static constexpr bool Int4GroupSupported(size_t group) { return group == 32 || group == 64 || group == 128; }

// Writes the row-major [n][k] values q (each in [-8, 7], row stride `stride`) to out,
// Int4Bytes(n, k, group) bytes, padding included.
static inline void PackInt4(const int8_t* q, size_t n, size_t k, size_t stride, size_t group, uint8_t* out) {
  std::memset(out, 0x88, Int4Bytes(n, k, group));  // q = 0 everywhere, padding included
  for (size_t r = 0; r < n; ++r) {
    for (size_t c = 0; c < k; ++c) {
      uint8_t& byte = out[Int4Offset(r, c, k, group)];
      const unsigned shift = Int4Shift(c);
      byte = static_cast<uint8_t>((byte & ~(0xF << shift)) | ((static_cast<unsigned>(q[r * stride + c] + 8) & 0xF) << shift));
    }
  }
}

// Activation rows must be readable (any values) up to this many bytes: kernels load whole
// 64-byte steps (int4: whole groups of up to 128); weights are zero past k, so the extra values
// never count.
static constexpr size_t ActivationRowBytes(size_t k) { return (k + 127) / 128 * 128; }

}  // namespace edgeformer
