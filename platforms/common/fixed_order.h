// Float reductions in one canonical order, the answer key for every kernel and operator that sums
// floats. Every operation is a separate IEEE multiply or add (no fused multiply-add: the build
// uses -ffp-contract=off), so a SIMD kernel that follows the same order gives the same bits on
// every CPU, x86 or ARM, at any vector width.
#pragma once

#include <cmath>
#include <cstddef>

namespace edgeformer {

constexpr size_t kLanes = 16;

// Adds lane[j + w] into lane[j] for w = 8, 4, 2, 1 and returns lane[0].
static inline float ReduceLanes(float lane[kLanes]) {
  for (size_t width = kLanes / 2; width >= 1; width /= 2) {
    for (size_t j = 0; j < width; ++j) lane[j] += lane[j + width];
  }
  return lane[0];
}

// sum a[i] * b[i]: accumulated in 16 lanes (lane i % 16, in increasing i, each lane starting at
// +0.0f), then ReduceLanes. A lane that never receives a product stays +0.0f, and adding +0.0f
// to a lane changes nothing (a lane is never -0.0f), so SIMD code may pad with zeros.
static inline float Dot16(const float* a, const float* b, size_t n) {
  float lane[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lane[j] += a[i + j] * b[i + j];
  }
  for (size_t j = 0; i < n; ++i, ++j) lane[j] += a[i] * b[i];
  return ReduceLanes(lane);
}

// sum a[i], in the same order as Dot16.
static inline float Sum16(const float* a, size_t n) {
  float lane[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lane[j] += a[i + j];
  }
  for (size_t j = 0; i < n; ++i, ++j) lane[j] += a[i];
  return ReduceLanes(lane);
}

// The largest of n values (NaN ignored; -infinity for none), in 16 lanes: vectorized. A maximum
// does not depend on the order, so this is every sequential loop's value.
static inline float Max16(const float* x, size_t n) {
  float lane[kLanes];
  for (float& l : lane) l = -INFINITY;
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
  }
  for (size_t j = 0; i < n; ++i, ++j) lane[j] = x[i] > lane[j] ? x[i] : lane[j];
  float m = -INFINITY;
  for (const float l : lane) m = l > m ? l : m;
  return m;
}

}  // namespace edgeformer
