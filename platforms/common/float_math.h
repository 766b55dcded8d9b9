// e^x and rounding with a fixed sequence of IEEE operations, the answer key for the softmax and
// int8 attention kernels and for the operators (ops/math.h). Each multiply and add is separate
// (-ffp-contract=off), so a SIMD kernel doing the same operations lane by lane gives the same
// bits on every CPU, in the default rounding mode (to nearest, ties to even), which the library
// assumes. Internal linkage: ISA files include it under their own flags.
#pragma once

#include <cstdint>
#include <cstring>

namespace edgeformer {

// x rounded to the nearest integer, ties to even, for |x| < 2^22 (adding 1.5 * 2^23 leaves no
// fraction bits; the default rounding mode rounds the sum to nearest even). As std::nearbyint
// there, and as the SIMD conversions (cvtps2dq, fcvtns) in the default rounding mode.
static inline float RoundEven(float x) {
  const float kRound = 12582912.0f;
  return (x + kRound) - kRound;
}

// e^x to about 2 ulp for x in [-87, 88.3] (clamped outside: e^-87, about 1.6e-38, below, so
// even -infinity gives it; +infinity from about 88.4 up, where n reaches 128; NaN stays NaN). x = n ln2 + r with |r| <= ln2 / 2 (n rounded with the 1.5 * 2^23 trick, ln2 split in two
// parts), e^r by a degree-6 polynomial, then the exponent added into the float's bits.
// Written once for any lane type V through an ISA's operations O (the scalar ones below, the
// softmax kernels' vectors): O::Set(c) broadcasts, O::Add / Sub / Mul are single IEEE
// operations, O::Above(x, c) is `x > c ? x : c` (a NaN x gives c), O::Below(x, c) is
// `x < c ? x : c`, O::Pow2(n) the float 2^n of an integral n in [-126, 128] (its bits
// (int(n) + 127) << 23: n = 128 gives +infinity), O::NanOr(input, e) is input where input is NaN, else e.
template <typename O, typename V>
static inline V ExpLanes(V input) {
  const V x = O::Below(O::Above(input, O::Set(-87.0f)), O::Set(88.5f));  // NaN becomes -87 here...
  const V round = O::Set(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const V n = O::Sub(O::Add(O::Mul(x, O::Set(1.44269504088896341f)), round), round);
  const V r = O::Sub(O::Sub(x, O::Mul(n, O::Set(0.693145751953125f))), O::Mul(n, O::Set(1.428606765330187e-6f)));
  V p = O::Set(1.0f / 720.0f);
  p = O::Add(O::Mul(p, r), O::Set(1.0f / 120.0f));
  p = O::Add(O::Mul(p, r), O::Set(1.0f / 24.0f));
  p = O::Add(O::Mul(p, r), O::Set(1.0f / 6.0f));
  p = O::Add(O::Mul(p, r), O::Set(0.5f));
  p = O::Add(O::Mul(p, r), O::Set(1.0f));
  p = O::Add(O::Mul(p, r), O::Set(1.0f));
  return O::NanOr(input, O::Mul(p, O::Pow2(n)));  // ...and comes back out as NaN
}

namespace {  // internal linkage: every ISA's file has its own copy (its own flags)

struct ScalarOps {
  static float Set(float c) { return c; }
  static float Add(float a, float b) { return a + b; }
  static float Sub(float a, float b) { return a - b; }
  static float Mul(float a, float b) { return a * b; }
  static float Above(float x, float c) { return x > c ? x : c; }
  static float Below(float x, float c) { return x < c ? x : c; }
  static float Pow2(float n) {
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    return f;
  }
  static float NanOr(float input, float e) { return input == input ? e : input; }
};

}  // namespace

static inline float Exp(float x) { return ExpLanes<ScalarOps, float>(x); }

}  // namespace edgeformer
