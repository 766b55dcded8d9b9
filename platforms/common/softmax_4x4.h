// The loop of the 4-lane SoftmaxFn kernels (kernels.h; NEON and SIMD128): Max16's and Sum16's 16
// lanes (platforms/common/fixed_order.h) as four 4-float vectors, so the accumulators follow their
// order exactly. The last step of fewer than 16 values updates only the vectors holding some of
// them (the others would take -infinity into the maximum and +0.0f into the sum, which never
// changes a lane: a sum lane is never -0.0f); a vector holding fewer than 4 values goes through a
// 4-float buffer (-infinity past them for the maximum; their exps kept, +0.0f past them, for the
// sum). Lanes supplies, on 4-float vectors V:
//
//   ExpLanes' operations (platforms/common/float_math.h): Set(float), Add, Sub, Mul, and
//   Above(x, c): x > c ? x : c per lane (NaN x gives c, as Max16 ignores NaN);
//   Load(const float*), Store(float*, V), and Exp(V): ExpLanes on V.
//
// Included only by kernel files (at file scope), so each ISA instantiates it with its own flags;
// every function here is static, so no instantiation leaks between ISAs.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>

// The 4 floats at x, or the count < 4 there and `fill` past them.
template <typename Lanes>
static typename Lanes::V SoftmaxLoadPart(const float* x, size_t count, float fill) {
  if (count >= 4) return Lanes::Load(x);
  float buf[4] = {fill, fill, fill, fill};
  std::memcpy(buf, x, count * sizeof(float));
  return Lanes::Load(buf);
}

// Vector `v` of a last step of `count` (1..15) values at x: the maximum.
template <typename Lanes>
static void SoftmaxMaxPart(const float* x, size_t count, int v, typename Lanes::V& lane) {
  if (count <= 4 * static_cast<size_t>(v)) return;
  lane = Lanes::Above(SoftmaxLoadPart<Lanes>(x + 4 * v, count - 4 * v, -INFINITY), lane);
}

// Vector `v` of a last step of `count` (1..15) values at x: x = exp(x - m), summed.
template <typename Lanes>
static void SoftmaxExpPart(float* x, size_t count, int v, typename Lanes::V m, typename Lanes::V& sum) {
  if (count <= 4 * static_cast<size_t>(v)) return;
  const size_t left = count - 4 * v;
  const typename Lanes::V e = Lanes::Exp(Lanes::Sub(SoftmaxLoadPart<Lanes>(x + 4 * v, left, 0.0f), m));
  if (left >= 4) {
    Lanes::Store(x + 4 * v, e);
    sum = Lanes::Add(sum, e);
    return;
  }
  float buf[4];
  Lanes::Store(buf, e);
  std::memcpy(x + 4 * v, buf, left * sizeof(float));
  for (size_t j = left; j < 4; ++j) buf[j] = 0.0f;
  sum = Lanes::Add(sum, Lanes::Load(buf));
}

template <typename Lanes>
static void Softmax4x4With(float* x, size_t n) {
  using V = typename Lanes::V;
  if (n == 0) return;
  V lane[4];
  for (V& l : lane) l = Lanes::Set(-INFINITY);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int v = 0; v < 4; ++v) lane[v] = Lanes::Above(Lanes::Load(x + i + 4 * v), lane[v]);
  }
  if (i < n) {
    for (int v = 0; v < 4; ++v) SoftmaxMaxPart<Lanes>(x + i, n - i, v, lane[v]);
  }
  // Max16's last step, a maximum of the lanes: any order gives its value.
  float lanes[16];
  for (int v = 0; v < 4; ++v) Lanes::Store(lanes + 4 * v, lane[v]);
  float max = -INFINITY;
  for (const float l : lanes) max = l > max ? l : max;
  const V m = Lanes::Set(max);
  V sum[4];
  for (V& s : sum) s = Lanes::Set(0.0f);
  for (i = 0; i + 16 <= n; i += 16) {
    for (int v = 0; v < 4; ++v) {
      const V e = Lanes::Exp(Lanes::Sub(Lanes::Load(x + i + 4 * v), m));
      Lanes::Store(x + i + 4 * v, e);
      sum[v] = Lanes::Add(sum[v], e);
    }
  }
  if (i < n) {
    for (int v = 0; v < 4; ++v) SoftmaxExpPart<Lanes>(x + i, n - i, v, m, sum[v]);
  }
  // fixed_order.h's ReduceLanes: lane j += lane j + w for w = 8, 4 (whole vectors), 2, 1.
  float w4[4];
  Lanes::Store(w4, Lanes::Add(Lanes::Add(sum[0], sum[2]), Lanes::Add(sum[1], sum[3])));
  const float inv = 1.0f / ((w4[0] + w4[2]) + (w4[1] + w4[3]));
  const V invv = Lanes::Set(inv);
  for (i = 0; i + 4 <= n; i += 4) Lanes::Store(x + i, Lanes::Mul(Lanes::Load(x + i), invv));
  for (; i < n; ++i) x[i] *= inv;
}
