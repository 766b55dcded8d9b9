// The loop nest shared by the qgemm kernels over the Blocked16x4 layout (platforms/layout.h):
// tiles of MR activation rows x NB blocks of 16 output channels, the rows left over by a one-row
// tile, the blocks left over by one-block tiles. Each ISA supplies Micro:
//
//   Micro::kMR, Micro::kNB: the largest tile;
//   template <size_t MR, size_t NB> static void Tile(const TileArgs& t): computes the MR x
//   (16 NB) outputs of its tile over the whole k, including the epilogue
//   c = (float)acc * (a_scale * w_scale), written only for columns < t.n_valid.
//
// Included only by kernel files (at file scope), so each ISA instantiates it with its own flags;
// every function here is static, so no instantiation leaks between ISAs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platforms/common/row_tiles.h"
#include "platforms/layout.h"

struct QGemmTileArgs {
  size_t k;
  const int8_t* a;        // first activation row of the tile
  size_t a_stride;
  const float* a_scale;   // of the tile's first row
  const int8_t* w;        // first block of the tile
  const float* w_scale;   // of the tile's first column, 16 NB readable
  const int32_t* w_row_sum;
  float* c;               // the tile's first output
  size_t c_stride;
  size_t n_valid;         // columns of the tile to write, <= 16 NB
  // The tile is the first to read its weights (its column tile's first rows): they come from
  // memory, and a kernel may prefetch ahead of them. Later row tiles find them in cache.
  bool first_rows;
};

// All rows of A against blocks [b, b + NBT) (NBT = NB, or 1 for the leftover blocks).
template <typename Micro, size_t NBT>
static void QGemmColumnTile(size_t m, size_t n, size_t b, const int8_t* a, size_t a_stride, const float* a_scale,
                            const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                            size_t c_stride, size_t k) {
  constexpr size_t MR = Micro::kMR;
  const size_t col = b * edgeformer::kBlockRows;
  const size_t width = NBT * edgeformer::kBlockRows;
  QGemmTileArgs t{k, a, a_stride, a_scale, w + b * edgeformer::BlockBytes(k), w_scale + col, w_row_sum + col,
                  c + col, c_stride, n - col < width ? n - col : width, true};
  size_t i = 0;
  for (; i + MR <= m; i += MR) {
    t.a = a + i * a_stride;
    t.a_scale = a_scale + i;
    t.c = c + i * c_stride + col;
    t.first_rows = i == 0;
    Micro::template Tile<MR, NBT>(t);
  }
  if constexpr (MR > 1) {
    if (i == m) return;
    t.a = a + i * a_stride;
    t.a_scale = a_scale + i;
    t.c = c + i * c_stride + col;
    t.first_rows = i == 0;
    TileOfRows<Micro, NBT, MR - 1>(m - i, t);
  }
}

template <typename Micro>
static void QGemmBlocked(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                         const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                         size_t c_stride) {
  constexpr size_t NB = Micro::kNB;
  const size_t blocks = (n + edgeformer::kBlockRows - 1) / edgeformer::kBlockRows;
  size_t b = 0;
  // Fewer rows than a tile (decode): one block at a time, one weight stream, as the q4gemm driver
  // (AVX512-VNNI at one row, interleaved A/B: S's classifier 0.60-0.74 ms against 0.97-1.27; M's
  // matrices within the noise).
  if (m >= Micro::kMR) {
    for (; b + NB <= blocks; b += NB) {
      QGemmColumnTile<Micro, NB>(m, n, b, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride, k);
    }
  }
  for (; b < blocks; ++b) {
    QGemmColumnTile<Micro, 1>(m, n, b, a, a_stride, a_scale, w, w_scale, w_row_sum, c, c_stride, k);
  }
}
