// The loop nest shared by every qgemm microkernel: tiles of MR x NR outputs, a kernel-specific
// tile function for the int32 dot products, and one epilogue (identical float arithmetic for all
// ISAs, so results are bit-identical). Rows come in blocks of Tile::kMR; the rows left over (all
// of them when m < kMR, as in decode, where m is 1) go through RowTile, whose kMR is 1, so no
// tile computes rows it then throws away.
//
// Included only by kernel files, inside their ISA namespace, so each ISA gets its own
// instantiation compiled with its own flags.
//
// Tile contract: Tile::kMR, Tile::kNR; Tile::kActivationBias (0, or 128 when the tile computes
// sum((a + 128) * w)); static void Run(size_t k, const int8_t* const a[kMR],
// const int8_t* const w[kNR], int32_t acc[kMR][kNR]). Row pointers past the end of the matrix
// repeat the last valid row, so tiles never branch on edges.
#pragma once

#include <cstddef>
#include <cstdint>

template <typename Tile>
static void QGemmRows(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                      const float* a_scale, const int8_t* w, size_t w_stride,
                      const float* w_scale, const int32_t* w_row_sum, float* c,
                      size_t c_stride) {
  constexpr size_t MR = Tile::kMR;
  constexpr size_t NR = Tile::kNR;
  for (size_t i0 = 0; i0 < m; i0 += MR) {
    const size_t mr = m - i0 < MR ? m - i0 : MR;
    const int8_t* a_rows[MR];
    for (size_t i = 0; i < MR; ++i) a_rows[i] = a + (i0 + (i < mr ? i : mr - 1)) * a_stride;
    for (size_t j0 = 0; j0 < n; j0 += NR) {
      const size_t nr = n - j0 < NR ? n - j0 : NR;
      const int8_t* w_rows[NR];
      for (size_t j = 0; j < NR; ++j) w_rows[j] = w + (j0 + (j < nr ? j : nr - 1)) * w_stride;
      int32_t acc[MR][NR];
      Tile::Run(k, a_rows, w_rows, acc);
      for (size_t i = 0; i < mr; ++i) {
        float* out = c + (i0 + i) * c_stride + j0;
        for (size_t j = 0; j < nr; ++j) {
          int32_t v = acc[i][j];
          if (Tile::kActivationBias != 0) v -= Tile::kActivationBias * w_row_sum[j0 + j];
          out[j] = static_cast<float>(v) * (a_scale[i0 + i] * w_scale[j0 + j]);
        }
      }
    }
  }
}

template <typename Tile, typename RowTile>
static void QGemmDriver(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                        const float* a_scale, const int8_t* w, size_t w_stride,
                        const float* w_scale, const int32_t* w_row_sum, float* c,
                        size_t c_stride) {
  static_assert(RowTile::kMR == 1, "the row tile handles one row at a time");
  static_assert(Tile::kActivationBias == RowTile::kActivationBias, "tiles must agree on the bias");
  const size_t blocked = m / Tile::kMR * Tile::kMR;
  if (blocked > 0) {
    QGemmRows<Tile>(blocked, n, k, a, a_stride, a_scale, w, w_stride, w_scale, w_row_sum, c, c_stride);
  }
  if (blocked < m) {
    QGemmRows<RowTile>(m - blocked, n, k, a + blocked * a_stride, a_stride, a_scale + blocked, w, w_stride,
                       w_scale, w_row_sum, c + blocked * c_stride, c_stride);
  }
}
