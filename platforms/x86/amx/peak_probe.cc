// tdpbssd throughput: four independent 16 x 16 int32 accumulator tiles fed by two A and two B
// tiles, 16 x 16 x 64 multiply-adds per instruction.
#include "platforms/x86/intrinsics.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace edgeformer {
namespace amx {

int32_t tdpbssd_peak_probe__amx(size_t rounds) {
  struct alignas(64) {
    uint8_t palette = 1, start_row = 0, reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
  } cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
  alignas(64) int8_t ones[16 * 64];
  std::memset(ones, 1, sizeof(ones));
  _tile_loadd(4, ones, 64);
  _tile_loadd(5, ones, 64);
  _tile_loadd(6, ones, 64);
  _tile_loadd(7, ones, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (size_t r = 0; r < rounds; ++r) {
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
  alignas(64) int32_t c[4][16 * 16];
  _tile_stored(0, c[0], 64);
  _tile_stored(1, c[1], 64);
  _tile_stored(2, c[2], 64);
  _tile_stored(3, c[3], 64);
  _tile_release();
  return c[0][0] + c[1][17] + c[2][100] + c[3][255];
}

}  // namespace amx
}  // namespace edgeformer
