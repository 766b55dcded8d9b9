// int8 GEMM for AMX-INT8 over Blocked16x4 weights, for prefill. A Blocked16x4 block holds 16
// output channels x 4 inputs per 64 bytes, so 16 consecutive groups (64 inputs) of one block are
// exactly an AMX B tile (16 rows of 64 bytes, "VNNI format"); 16 activation rows x 64 inputs are
// an A tile. tdpbssd (signed x signed, exact int32) accumulates 16x16 outputs per instruction.
// Tiles: C 0-3 (up to 2 x 2 of 16 x 16 outputs), A 4-5, B 6-7: up to 32 rows x 32 channels.
//
// Rows that do not fill a 16-row tile (all of decode) go to the AVX512-VNNI kernel: every AMX CPU
// has it, and its results are bit-identical. A k that is not a multiple of 64 ends with a
// zero-padded copy of the last partial chunk.
#include "platforms/x86/intrinsics.h"

#include <cstring>

#include "platforms/kernels.h"

namespace edgeformer {
namespace amx {
namespace {

constexpr size_t kTile = 16;       // rows of an A or C tile, channels of a B or C tile
constexpr size_t kChunk = 64;      // inputs per tile step
constexpr size_t kChunkGroups = kChunk / kGroupCols;

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

void LoadConfig() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
}

// Epilogue of one 16 x 16 C tile: c = (float)acc * (a_scale * w_scale), the reference's formula.
inline void Store(const int32_t acc[kTile][kTile], const float* a_scale, const float* w_scale, float* c,
                  size_t c_stride, size_t n_valid) {
  const __mmask16 mask = n_valid >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n_valid) - 1);
  const __m512 ws = _mm512_loadu_ps(w_scale);
  for (size_t r = 0; r < kTile; ++r) {
    const __m512 v = _mm512_cvtepi32_ps(_mm512_loadu_si512(acc[r]));
    _mm512_mask_storeu_ps(c + r * c_stride, mask, _mm512_mul_ps(v, _mm512_mul_ps(_mm512_set1_ps(a_scale[r]), ws)));
  }
}

// RB x CB tiles (RB, CB in {1, 2}): rows [0, 16 RB) of a, blocks [0, CB) of w.
template <int RB, int CB>
void Tiles(size_t k, const int8_t* a, size_t a_stride, const float* a_scale, const int8_t* w, const float* w_scale,
           float* c, size_t c_stride, size_t n_valid) {
  _tile_zero(0);
  if (CB == 2) _tile_zero(1);
  if (RB == 2) _tile_zero(2);
  if (RB == 2 && CB == 2) _tile_zero(3);
  const size_t groups = BlockedCols(k) / kGroupCols;
  const size_t block_bytes = BlockBytes(k);
  alignas(64) int8_t a_tail[2][kTile][kChunk];
  alignas(64) int8_t b_tail[2][kChunkGroups][kBlockGroupBytes];
  for (size_t g = 0; g < groups; g += kChunkGroups) {
    const size_t count = groups - g < kChunkGroups ? groups - g : kChunkGroups;
    const int8_t* a_src[2] = {a + g * kGroupCols, a + 16 * a_stride + g * kGroupCols};
    const int8_t* b_src[2] = {w + g * kBlockGroupBytes, w + block_bytes + g * kBlockGroupBytes};
    size_t a_ld = a_stride;
    if (count < kChunkGroups) {
      // The last chunk is partial: copy it into zeroed tiles (zeros add nothing).
      std::memset(a_tail, 0, sizeof(a_tail));
      std::memset(b_tail, 0, sizeof(b_tail));
      for (int rb = 0; rb < RB; ++rb)
        for (size_t r = 0; r < kTile; ++r) std::memcpy(a_tail[rb][r], a_src[rb] + r * a_stride, count * kGroupCols);
      for (int cb = 0; cb < CB; ++cb) std::memcpy(b_tail[cb], b_src[cb], count * kBlockGroupBytes);
      a_src[0] = &a_tail[0][0][0];
      a_src[1] = &a_tail[1][0][0];
      b_src[0] = &b_tail[0][0][0];
      b_src[1] = &b_tail[1][0][0];
      a_ld = kChunk;
    }
    _tile_loadd(4, a_src[0], a_ld);
    _tile_loadd(6, b_src[0], kBlockGroupBytes);
    _tile_dpbssd(0, 4, 6);
    if (CB == 2) {
      _tile_loadd(7, b_src[1], kBlockGroupBytes);
      _tile_dpbssd(1, 4, 7);
    }
    if (RB == 2) {
      _tile_loadd(5, a_src[1], a_ld);
      _tile_dpbssd(2, 5, 6);
      if (CB == 2) _tile_dpbssd(3, 5, 7);
    }
  }
  alignas(64) int32_t acc[kTile][kTile];
  for (int rb = 0; rb < RB; ++rb) {
    for (int cb = 0; cb < CB; ++cb) {
      const size_t col = cb * kTile;
      if (col >= n_valid) continue;
      const int t = rb * 2 + cb;
      if (t == 0) _tile_stored(0, acc, sizeof(acc[0]));
      if (t == 1) _tile_stored(1, acc, sizeof(acc[0]));
      if (t == 2) _tile_stored(2, acc, sizeof(acc[0]));
      if (t == 3) _tile_stored(3, acc, sizeof(acc[0]));
      Store(acc, a_scale + rb * kTile, w_scale + col, c + rb * kTile * c_stride + col, c_stride, n_valid - col);
    }
  }
}

using TilesFn = void (*)(size_t k, const int8_t* a, size_t a_stride, const float* a_scale, const int8_t* w,
                        const float* w_scale, float* c, size_t c_stride, size_t n_valid);

}  // namespace

void qgemm_s8_32x32c4__amx(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                           const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                           size_t c_stride) {
  const size_t full_rows = m / kTile * kTile;
  if (full_rows > 0) {
    LoadConfig();
    const size_t blocks = (n + kBlockRows - 1) / kBlockRows;
    const size_t block_bytes = BlockBytes(k);
    for (size_t b = 0; b < blocks; b += 2) {
      const bool two = b + 1 < blocks;
      const size_t col = b * kBlockRows;
      const size_t n_valid = n - col;
      const int8_t* wb = w + b * block_bytes;
      // 32-row tiles, then a 16-row one; two blocks of channels while there are two.
      const TilesFn wide = two ? &Tiles<2, 2> : &Tiles<2, 1>;
      const TilesFn narrow = two ? &Tiles<1, 2> : &Tiles<1, 1>;
      for (size_t i = 0; i < full_rows;) {
        const bool tall = i + 2 * kTile <= full_rows;
        (tall ? wide : narrow)(k, a + i * a_stride, a_stride, a_scale + i, wb, w_scale + col, c + i * c_stride + col,
                               c_stride, n_valid);
        i += tall ? 2 * kTile : kTile;
      }
    }
    _tile_release();
  }
  if (full_rows < m) {
    avx512vnni::qgemm_s8_8x32c4__avx512vnni(m - full_rows, n, k, a + full_rows * a_stride, a_stride,
                                            a_scale + full_rows, w, w_scale, w_row_sum, c + full_rows * c_stride,
                                            c_stride);
  }
}

}  // namespace amx
}  // namespace edgeformer
