#include "converter/quantize.h"

#include <cmath>
#include <limits>

namespace edgeformer {
namespace convert {

QuantizedInt8 QuantizePerChannelInt8(const float* w, size_t rows, size_t cols) {
  QuantizedInt8 q;
  q.values.resize(rows * cols);
  q.scales.resize(rows);
  q.row_sums.resize(rows);
  double signal = 0.0, noise = 0.0;
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    float amax = 0.0f;
    for (size_t c = 0; c < cols; ++c) amax = std::fmax(amax, std::fabs(row[c]));
    const float scale = amax / 127.0f;
    q.scales[r] = scale;
    int32_t sum = 0;
    for (size_t c = 0; c < cols; ++c) {
      float v = scale > 0.0f ? std::nearbyint(row[c] / scale) : 0.0f;
      v = std::fmin(127.0f, std::fmax(-127.0f, v));
      const int8_t qv = static_cast<int8_t>(v);
      q.values[r * cols + c] = qv;
      sum += qv;
      const double err = static_cast<double>(row[c]) - static_cast<double>(qv) * scale;
      signal += static_cast<double>(row[c]) * row[c];
      noise += err * err;
    }
    q.row_sums[r] = sum;
  }
  q.snr_db = noise > 0.0 ? 10.0 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
  return q;
}

}  // namespace convert
}  // namespace edgeformer
