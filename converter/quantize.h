// Weight quantization done by the converter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgeformer {
namespace convert {

struct QuantizedInt8 {
  std::vector<int8_t> values;     // [rows][cols]
  std::vector<float> scales;      // [rows]
  std::vector<int32_t> row_sums;  // [rows]
  double snr_db;                  // 10 log10(signal energy / error energy); +inf when exact
};

// Symmetric int8 with one scale per row (output channel): scale = max|w| / 127,
// q = round-half-even(w / scale) clamped to [-127, 127]. An all-zero row gets scale 0.
QuantizedInt8 QuantizePerChannelInt8(const float* w, size_t rows, size_t cols);

struct QuantizedInt4 {
  std::vector<int8_t> values;    // [rows][cols], each in [-8, 7]
  std::vector<uint16_t> scales;  // [rows][groups] f16
  double snr_db;                 // of the values as stored (f16 scale times q)
};

// Symmetric int4 in groups of `group` columns, as llama.cpp's Q4_0 (so its files map exactly): per
// group, d = m / -8 for the value m of largest magnitude, q = min(7, floor(w / d + 8.5) - 8), the
// scale stored as f16(d) (negative when m is positive). An all-zero group gets scale 0.
QuantizedInt4 QuantizeGroupInt4(const float* w, size_t rows, size_t cols, size_t group);

}  // namespace convert
}  // namespace edgeformer
