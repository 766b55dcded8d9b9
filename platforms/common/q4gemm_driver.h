// The loop nest and the per-group activation sums shared by the q4gemm kernels over the
// BlockedInt4 layout (platforms/layout.h): tiles of MR activation rows x NB blocks of 16 output
// channels, the rows left over by one-row tiles, the blocks left over by one-block tiles. Each ISA
// supplies Micro:
//
//   Micro::kMR, Micro::kNB: the largest tile;
//   template <size_t MR, size_t NB> static void Tile(const Q4TileArgs& t): the MR x (16 NB)
//   outputs of its tile over the whole k, in the reference's arithmetic (kernels.h, Q4GemmFn),
//   written only for columns < t.n_valid.
//
// Included only by kernel files (at file scope), so each ISA instantiates it with its own flags;
// everything here has internal linkage, so no instantiation leaks between ISAs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platforms/common/row_tiles.h"
#include "platforms/layout.h"

namespace {  // internal linkage: compiled into each ISA's files with that ISA's flags

struct Q4TileArgs {
  size_t group, groups;
  const int8_t* a;  // the tile's first activation row
  size_t a_stride;
  const float* a_scale;    // of that row
  const int32_t* a_sums;   // that row's 32-value sums (a_stride / 32 per row)
  const uint8_t* w;        // the tile's first block
  size_t block_bytes;      // between two blocks
  const uint16_t* scales;  // the first block's scales; a block's are groups * 16 further
  float* c;                // the tile's first output
  size_t c_stride;
  size_t n_valid;  // columns of the tile to write, <= 16 NB
};

// Each of MR rows' activation sum over group g (from the rows' 32-value sums; t.group is 32, 64
// or 128): the kernels multiply the weights as q + 8 and subtract 8 times this.
template <size_t MR>
inline void Q4GroupSums(const Q4TileArgs& t, size_t g, int32_t* sums) {
  const size_t per_group = t.group / 32, row_sums = t.a_stride / 32;
  for (size_t i = 0; i < MR; ++i) {
    // Groups are 32, 64 or 128 values: one, two or four 32-value sums, added without a loop
    // (which compilers vectorize, at a cost per group that measured a fifth of an AVX2 tile's).
    const int32_t* s = t.a_sums + i * row_sums + g * per_group;
    int32_t sum = s[0];
    if (per_group > 1) sum += s[1];
    if (per_group > 2) sum += s[2] + s[3];
    sums[i] = sum;
  }
}

template <typename Micro, size_t NB>
void Q4Rows(size_t m, Q4TileArgs t, const int8_t* a, const float* a_scale, const int32_t* a_sums, float* c) {
  size_t i = 0;
  for (; i + Micro::kMR <= m; i += Micro::kMR) {
    t.a = a + i * t.a_stride, t.a_scale = a_scale + i, t.a_sums = a_sums + i * (t.a_stride / 32);
    t.c = c + i * t.c_stride;
    Micro::template Tile<Micro::kMR, NB>(t);
  }
  if constexpr (Micro::kMR > 1) {
    if (i == m) return;
    t.a = a + i * t.a_stride, t.a_scale = a_scale + i, t.a_sums = a_sums + i * (t.a_stride / 32);
    t.c = c + i * t.c_stride;
    TileOfRows<Micro, NB, Micro::kMR - 1>(m - i, t);
  }
}

template <typename Micro>
void Q4GemmBlocked(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride, const float* a_scale,
                   const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale, float* c, size_t c_stride) {
  using edgeformer::kBlockRows;
  const size_t blocks = (n + kBlockRows - 1) / kBlockRows;
  const size_t groups = edgeformer::Int4Groups(k, group);
  Q4TileArgs t{group, groups, a, a_stride, a_scale, a_sums, w, edgeformer::Int4BlockBytes(k, group), w_scale, c, c_stride, 0};
  // Fewer rows than a tile (decode): one block at a time. Two weight streams at once measured
  // slower there (AVX512-VNNI, one row: 61 against 33 us for S's w_gate), faster for a prompt.
  const bool wide = m >= Micro::kMR;
  for (size_t b = 0; b < blocks;) {
    const size_t nb = wide && b + Micro::kNB <= blocks ? Micro::kNB : 1;
    const size_t col = b * kBlockRows;
    t.w = w + b * t.block_bytes;
    t.scales = w_scale + b * groups * kBlockRows;
    t.n_valid = n - col < nb * kBlockRows ? n - col : nb * kBlockRows;
    if (nb == Micro::kNB) {
      Q4Rows<Micro, Micro::kNB>(m, t, a, a_scale, a_sums, c + col);
    } else {
      Q4Rows<Micro, 1>(m, t, a, a_scale, a_sums, c + col);
    }
    b += nb;
  }
}

}  // namespace
