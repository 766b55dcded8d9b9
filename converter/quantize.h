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

}  // namespace convert
}  // namespace edgeformer
