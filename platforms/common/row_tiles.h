// The rows a GEMM driver's full tiles leave (fewer than Micro::kMR: a beam search's 4 rows under
// AVX-512's 8-row tile) in one tile of that many rows, so the weights are streamed once for them
// all instead of once per row. Included into ISA files: internal linkage.
#pragma once

#include <cstddef>

namespace {

// Runs Micro::Tile<R, NB>(t) for R == rows, 1 <= rows <= MaxR.
template <typename Micro, size_t NB, size_t MaxR, typename Args>
inline void TileOfRows(size_t rows, const Args& t) {
  if constexpr (MaxR > 1) {
    if (rows < MaxR) return TileOfRows<Micro, NB, MaxR - 1>(rows, t);
  }
  Micro::template Tile<MaxR, NB>(t);
}

}  // namespace
