#include "converter/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "platforms/common/f16.h"

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

QuantizedInt4 QuantizeGroupInt4(const float* w, size_t rows, size_t cols, size_t group) {
  QuantizedInt4 q;
  const size_t groups = (cols + group - 1) / group;
  q.values.resize(rows * cols);
  q.scales.resize(rows * groups);
  double signal = 0.0, noise = 0.0;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t g = 0; g < groups; ++g) {
      const size_t begin = g * group, end = std::min(cols, begin + group);
      const float* row = w + r * cols;
      float amax = 0.0f, m = 0.0f;
      for (size_t c = begin; c < end; ++c) {
        if (std::fabs(row[c]) > amax) amax = std::fabs(row[c]), m = row[c];
      }
      const float d = m / -8.0f;
      // 0 for an all-zero group, and for one so small that 1/d overflows (|d| < 3e-39, whose f16
      // scale is 0 too): its values are all 0.
      const float inv = d != 0.0f ? 1.0f / d : 0.0f;
      const float id = std::isfinite(inv) ? inv : 0.0f;
      const uint16_t stored = F32ToF16(d);
      q.scales[r * groups + g] = stored;
      const double scale = F16ToF32(stored);
      for (size_t c = begin; c < end; ++c) {
        // In [0.5, 16.5] for finite weights: truncation rounds half up. Clamped to [0, 15] first
        // (fmax takes 0 for NaN) so that the cast is defined for any weight.
        const float x = std::fmin(15.0f, std::fmax(0.0f, row[c] * id + 8.5f));
        const int qv = static_cast<int>(x) - 8;
        q.values[r * cols + c] = static_cast<int8_t>(qv);
        const double err = static_cast<double>(row[c]) - qv * scale;
        signal += static_cast<double>(row[c]) * row[c];
        noise += err * err;
      }
    }
  }
  q.snr_db = noise > 0.0 ? 10.0 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
  return q;
}

}  // namespace convert
}  // namespace edgeformer
