// Every kernel of platforms/kernels.inc against the reference kernel, on awkward shapes and
// extreme values. Integer paths must agree bit for bit; a kernel whose ISA this CPU lacks is
// reported as skipped, never passed silently.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "platforms/common/f16.h"
#include "platforms/common/fixed_order.h"
#include "model/isa_option.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace {

enum class Fill { kRandom, kMax, kMin, kAlternating };

struct Problem {
  size_t m, n, k, a_stride, w_stride, c_stride;
  std::vector<int8_t> a, w, packed;
  std::vector<float> a_scale, w_scale;
  std::vector<int32_t> row_sum;

  Problem(size_t m_, size_t n_, size_t k_, Fill fill, uint32_t seed)
      : m(m_), n(n_), k(k_), a_stride(ActivationRowBytes(k_) + 4), w_stride(k_ + 5), c_stride(n_ + 2) {
    std::mt19937 rng(seed);
    // Activations past k are readable but must not count: fill them with junk, -128 included.
    a.resize(m * a_stride);
    for (int8_t& v : a) v = static_cast<int8_t>(rng() % 256);
    w.assign(n * w_stride, 99);
    for (size_t i = 0; i < m; ++i) {
      for (size_t kk = 0; kk < k; ++kk) {
        int v = static_cast<int>(rng() % 255) - 127;  // activations live in [-127, 127]
        if (fill == Fill::kMax) v = 127;
        if (fill == Fill::kMin) v = -127;
        if (fill == Fill::kAlternating) v = (kk + i) % 2 ? 127 : -127;
        a[i * a_stride + kk] = static_cast<int8_t>(v);
      }
    }
    for (size_t j = 0; j < n; ++j) {
      int32_t sum = 0;
      for (size_t kk = 0; kk < k; ++kk) {
        int v = static_cast<int>(rng() % 256) - 128;  // weights use the full int8 range
        if (fill == Fill::kMax) v = 127;
        if (fill == Fill::kMin) v = -128;
        if (fill == Fill::kAlternating) v = (kk + j) % 3 ? -128 : 127;
        w[j * w_stride + kk] = static_cast<int8_t>(v);
        sum += v;
      }
      row_sum.push_back(sum);
    }
    std::uniform_real_distribution<float> scale(1e-4f, 2.0f);
    for (size_t i = 0; i < m; ++i) a_scale.push_back(scale(rng));
    for (size_t j = 0; j < n; ++j) w_scale.push_back(scale(rng));
    w_scale.resize(BlockedRows(n), 0.0f);
    row_sum.resize(BlockedRows(n), 0);
    packed.resize(BlockedBytes(n, k));
    PackBlocked16x4(w.data(), n, k, w_stride, packed.data());
  }

  std::vector<float> Run(QGemmFn fn) const {
    std::vector<float> c(m * c_stride, -7.0f);
    fn(m, n, k, a.data(), a_stride, a_scale.data(), packed.data(), w_scale.data(), row_sum.data(), c.data(),
       c_stride);
    return c;
  }
};

// Exact int32 dot products, independent of every kernel.
int32_t Dot(const Problem& p, size_t i, size_t j) {
  int32_t acc = 0;
  for (size_t kk = 0; kk < p.k; ++kk) acc += int32_t{p.a[i * p.a_stride + kk]} * p.w[j * p.w_stride + kk];
  return acc;
}

const QGemmFn kReference = &reference::qgemm_s8_1x1__reference;

// The whole answer-key comparison for one kernel.
void CheckAgainstReference(const char* name, QGemmFn kernel) {
  const size_t ms[] = {1, 2, 3, 4, 5, 7, 9, 16, 17, 33};  // 16 and up reach the AMX tiles
  const size_t ns[] = {1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 48, 65};
  const size_t ks[] = {1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129, 1000};
  uint32_t seed = 1;
  for (size_t m : ms) {
    for (size_t n : ns) {
      for (size_t k : ks) {
        for (Fill fill : {Fill::kRandom, Fill::kMax, Fill::kMin, Fill::kAlternating}) {
          if (fill != Fill::kRandom && (m > 5 || n > 17)) continue;
          const Problem p(m, n, k, fill, ++seed);
          const std::vector<float> want = p.Run(kReference);
          const std::vector<float> got = p.Run(kernel);
          INFO(name << " m=" << m << " n=" << n << " k=" << k << " fill=" << static_cast<int>(fill));
          REQUIRE(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) == 0);
        }
      }
    }
  }
}

// The largest supported k must not overflow: 65536 products of -127 x -128.
void CheckLargestK(QGemmFn kernel) {
  const size_t k = 65536;
  std::vector<int8_t> a(k, -127), w(k, -128), packed(BlockedBytes(1, k));
  PackBlocked16x4(w.data(), 1, k, k, packed.data());
  std::vector<int32_t> sum(kBlockRows, 0);
  sum[0] = -128 * static_cast<int32_t>(k);
  std::vector<float> one(kBlockRows, 1.0f);
  float c = 0.0f;
  kernel(1, 1, k, a.data(), k, one.data(), packed.data(), one.data(), sum.data(), &c, 1);
  CHECK(c == static_cast<float>(int64_t{127} * 128 * static_cast<int64_t>(k)));
}

// An int4 problem: m rows of activations (junk past k), an [n][k] matrix of int4 values in
// groups, packed, with f16 scales (junk in the padded rows' scales must not be read: they are
// NaN).
struct Int4Problem {
  size_t m, n, k, group, a_stride, c_stride;
  std::vector<int8_t> a, q;  // q: [n][k] in [-8, 7]
  std::vector<uint8_t> packed;
  std::vector<uint16_t> scales;  // BlockedInt4's order
  std::vector<float> a_scale;
  std::vector<int32_t> a_sums;  // [m][a_stride / 32]: of the bytes as they are, junk included

  Int4Problem(size_t m_, size_t n_, size_t k_, size_t group_, Fill fill, uint32_t seed)
      : m(m_), n(n_), k(k_), group(group_), a_stride(ActivationRowBytes(k_) + 4), c_stride(n_ + 2) {
    std::mt19937 rng(seed);
    a.resize(m * a_stride);
    for (int8_t& v : a) v = static_cast<int8_t>(rng() % 256);
    for (size_t i = 0; i < m; ++i) {
      for (size_t kk = 0; kk < k; ++kk) {
        int v = static_cast<int>(rng() % 255) - 127;
        if (fill == Fill::kMax) v = 127;
        if (fill == Fill::kMin) v = -127;
        if (fill == Fill::kAlternating) v = (kk + i) % 2 ? 127 : -127;
        a[i * a_stride + kk] = static_cast<int8_t>(v);
      }
    }
    q.resize(n * k);
    for (size_t j = 0; j < n; ++j) {
      for (size_t kk = 0; kk < k; ++kk) {
        int v = static_cast<int>(rng() % 16) - 8;
        if (fill == Fill::kMax) v = 7;
        if (fill == Fill::kMin) v = -8;
        if (fill == Fill::kAlternating) v = (kk + j) % 3 ? -8 : 7;
        q[j * k + kk] = static_cast<int8_t>(v);
      }
    }
    packed.resize(Int4Bytes(n, k, group));
    PackInt4(q.data(), n, k, k, group, packed.data());
    scales.assign(Int4ScaleCount(n, k, group), 0x7e00);  // NaN: padded rows' scales are not read
    std::uniform_real_distribution<float> scale(1e-4f, 2.0f);
    for (size_t j = 0; j < n; ++j) {
      for (size_t g = 0; g < Int4Groups(k, group); ++g) scales[Int4ScaleIndex(j, g, k, group)] = F32ToF16(scale(rng));
    }
    for (size_t i = 0; i < m; ++i) a_scale.push_back(scale(rng));
    a_sums.assign(m * (a_stride / 32), 0);
    for (size_t i = 0; i < m; ++i) {
      for (size_t x = 0; x < ActivationRowBytes(k) / 32; ++x) {
        for (size_t j = 0; j < 32; ++j) a_sums[i * (a_stride / 32) + x] += a[i * a_stride + 32 * x + j];
      }
    }
  }

  std::vector<float> Run(Q4GemmFn fn) const {
    std::vector<float> c(m * c_stride, -7.0f);
    fn(m, n, k, group, a.data(), a_stride, a_scale.data(), a_sums.data(), packed.data(), scales.data(), c.data(),
       c_stride);
    return c;
  }
};

const Q4GemmFn kQ4Reference = &reference::q4gemm_s8_1x1__reference;

void CheckQ4AgainstReference(const char* name, Q4GemmFn kernel) {
  uint32_t seed = 7;
  for (size_t group : {32, 64, 128}) {
    for (size_t m : {1, 2, 3, 4, 5, 8, 9, 17}) {
      for (size_t n : {1, 3, 15, 16, 17, 32, 33, 65}) {
        for (size_t k : {1, 7, 8, 31, 32, 33, 63, 64, 65, 127, 128, 129, 300, 1000}) {
          for (Fill fill : {Fill::kRandom, Fill::kMax, Fill::kMin, Fill::kAlternating}) {
            if (fill != Fill::kRandom && (m > 4 || n > 17)) continue;
            const Int4Problem p(m, n, k, group, fill, ++seed);
            const std::vector<float> want = p.Run(kQ4Reference);
            const std::vector<float> got = p.Run(kernel);
            INFO(name << " group=" << group << " m=" << m << " n=" << n << " k=" << k << " fill=" << static_cast<int>(fill));
            REQUIRE(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) == 0);
          }
        }
      }
    }
  }
}

// Every sgemm kernel against Dot16 of each row pair (f16 weights widened to f32 first), bit for
// bit, on shapes that cross the kernels' row groups (4, 16) and weight blocks (64), with strides
// past the row ends (junk there: infinity, which must not be read) and values of mixed magnitudes
// (sums that depend on order). f16 weights also get the f16 extremes: the largest finite half,
// subnormals and signed zeros.
void CheckSGemm(SGemmFn kernel, KvType w_type) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const float junk = std::numeric_limits<float>::infinity();
  const float extremes[] = {65504.0f, -65504.0f, 6e-8f, -3e-5f, 0.0f, -0.0f};
  for (size_t m : {1, 2, 3, 5}) {
    for (size_t n : {1, 3, 4, 7, 16, 17, 63, 64, 65, 130}) {
      for (size_t k : {1, 5, 15, 16, 17, 64, 67, 100, 255}) {
        const size_t as = k + 3, ws = k + 1, cs = n + 2;
        std::vector<float> a(m * as, junk), w(n * ws, junk), c(m * cs, -7.0f);
        std::vector<uint16_t> w16(n * ws, F32ToF16(junk));
        for (size_t i = 0; i < m; ++i)
          for (size_t kk = 0; kk < k; ++kk) a[i * as + kk] = dist(rng) * std::ldexp(1.0f, static_cast<int>(rng() % 20) - 10);
        for (size_t j = 0; j < n; ++j) {
          for (size_t kk = 0; kk < k; ++kk) {
            const bool extreme = w_type == KvType::kF16 && rng() % 8 == 0;
            w[j * ws + kk] = extreme ? extremes[rng() % 6] : dist(rng);
            w16[j * ws + kk] = F32ToF16(w[j * ws + kk]);
            if (w_type == KvType::kF16) w[j * ws + kk] = F16ToF32(w16[j * ws + kk]);  // the value the kernel sees
          }
        }
        const void* weights = w_type == KvType::kF16 ? static_cast<const void*>(w16.data()) : w.data();
        kernel(m, n, k, a.data(), as, weights, ws, w_type, c.data(), cs);
        for (size_t i = 0; i < m; ++i) {
          INFO("m=" << m << " n=" << n << " k=" << k << " row " << i << (w_type == KvType::kF16 ? " f16" : " f32"));
          for (size_t j = 0; j < n; ++j) REQUIRE(FloatBits(c[i * cs + j]) == FloatBits(Dot16(&a[i * as], &w[j * ws], k)));
          REQUIRE(c[i * cs + n] == -7.0f);
        }
      }
    }
  }
}

// An attention problem: n cache rows of d values (row stride d + 3 elements) and a query or
// weight vector of max(n, d) values, in one of several value patterns.
enum class AttnFill { kRandom, kMixedMagnitudes, kHuge, kSubnormal };

struct AttnProblem {
  size_t n, d, stride;
  KvType type;
  std::vector<float> q, w, rows;  // rows as f32 (already rounded through f16 for f16 caches)
  std::vector<uint16_t> rows16;

  AttnProblem(size_t n_, size_t d_, KvType type_, AttnFill fill, uint32_t seed)
      : n(n_), d(d_), stride(d_ + 3), type(type_) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    auto value = [&]() {
      switch (fill) {
        case AttnFill::kMixedMagnitudes: return unit(rng) * std::ldexp(1.0f, static_cast<int>(rng() % 24) - 12);
        case AttnFill::kHuge: return 60000.0f + 5000.0f * unit(rng);  // near the f16 maximum, all positive
        case AttnFill::kSubnormal: return unit(rng) * 1e-5f;          // f16 subnormals, f32 products ~1e-10
        default: return unit(rng);
      }
    };
    // Huge: positive products past the f32 range, so sums overflow to infinity (and never NaN).
    for (size_t i = 0; i < d; ++i) q.push_back(fill == AttnFill::kHuge ? 3e34f * std::fabs(unit(rng)) : value());
    for (size_t s = 0; s < n; ++s) w.push_back(fill == AttnFill::kHuge ? 3e34f * std::fabs(unit(rng)) : value());
    rows.assign(n * stride, 0.0f);
    rows16.assign(n * stride, 0);
    for (size_t s = 0; s < n; ++s) {
      for (size_t i = 0; i < stride; ++i) {
        // Values past d are junk the kernels must not use (infinity in the f32 rows).
        const float v = i < d ? value() : std::numeric_limits<float>::infinity();
        rows16[s * stride + i] = F32ToF16(v);
        rows[s * stride + i] = type == KvType::kF16 ? F16ToF32(rows16[s * stride + i]) : v;
      }
    }
  }

  const void* cache() const {
    return type == KvType::kF16 ? static_cast<const void*>(rows16.data()) : static_cast<const void*>(rows.data());
  }

  // Output of the scores (n values) or values (d values) kernel, with 2 guard values after it.
  std::vector<float> Scores(AttnScoresFn fn) const {
    std::vector<float> out(n + 2, -7.0f);
    fn(n, d, q.data(), cache(), stride, type, out.data());
    return out;
  }
  std::vector<float> Values(AttnValuesFn fn) const {
    std::vector<float> out(d + 2, -7.0f);
    fn(n, d, w.data(), cache(), stride, type, false, out.data());
    return out;
  }
  // The same sum in two calls, positions [0, split) then [split, n) accumulating.
  std::vector<float> ChainedValues(AttnValuesFn fn, size_t split) const {
    std::vector<float> out(d + 2, -7.0f);
    const size_t elem = KvTypeBytes(type);
    fn(split, d, w.data(), cache(), stride, type, false, out.data());
    fn(n - split, d, w.data() + split, static_cast<const char*>(cache()) + split * stride * elem, stride, type, true,
       out.data());
    return out;
  }
};

// The compiler's own half type, an independent check of platforms/common/f16.h (clang has no
// _Float16 for wasm32; its __fp16 there converts in software).
#if defined(__aarch64__) || defined(__wasm__)
using NativeHalf = __fp16;
#else
using NativeHalf = _Float16;
#endif

const AttnFns kAttnReference{&reference::attn_scores_1p__reference, &reference::attn_values_1d__reference};

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void CheckAttnAgainstReference(const char* name, AttnFns fns) {
  uint32_t seed = 1;
  for (KvType type : {KvType::kF32, KvType::kF16}) {
    for (size_t n : {1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 33, 100}) {
      for (size_t d : {1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 48, 64, 65, 80, 100, 128, 130}) {
        for (AttnFill fill : {AttnFill::kRandom, AttnFill::kMixedMagnitudes, AttnFill::kHuge, AttnFill::kSubnormal}) {
          if (fill != AttnFill::kRandom && n > 17) continue;
          const AttnProblem p(n, d, type, fill, ++seed);
          INFO(name << " n=" << n << " d=" << d << " kv type " << static_cast<int>(type)
                    << " fill=" << static_cast<int>(fill));
          REQUIRE(SameBits(p.Scores(kAttnReference.scores), p.Scores(fns.scores)));
          REQUIRE(SameBits(p.Values(kAttnReference.values), p.Values(fns.values)));
          // Positions in two runs (the KV blocks of a beam) give the bits of one call.
          for (size_t split : {size_t{1}, n / 2, n - 1}) {
            if (split == 0 || split >= n) continue;
            CAPTURE(split);
            REQUIRE(SameBits(p.Values(kAttnReference.values), p.ChainedValues(fns.values, split)));
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("f16 conversions: exact widening, round to nearest even, as the compiler's half type") {
  size_t checked = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    NativeHalf native;
    std::memcpy(&native, &h, sizeof(native));
    if (std::isnan(f)) {
      CHECK(std::isnan(static_cast<float>(native)));
      CHECK((F32ToF16(f) & 0x7fff) == 0x7e00);
      continue;
    }
    REQUIRE(FloatBits(f) == FloatBits(static_cast<float>(native)));
    REQUIRE(F32ToF16(f) == h);
    ++checked;
  }
  CHECK(checked == 0x10000 - 2 * 1023);  // every value but the 2046 NaNs
  // Random f32 bit patterns (all exponents), midpoints between halves, and their neighbours.
  std::mt19937 rng(3);
  for (int i = 0; i < 2000000; ++i) {
    uint32_t bits = rng();
    if (i % 4 == 1) bits = (bits & 0x8000e000u) | ((rng() % 40 + 100) << 23) | 0x1000u;  // ties
    const float f = BitsFloat(bits);
    if (std::isnan(f)) continue;
    const NativeHalf native = static_cast<NativeHalf>(f);
    uint16_t want;
    std::memcpy(&want, &native, sizeof(want));
    INFO("f32 bits " << bits);
    REQUIRE(F32ToF16(f) == want);
  }
}

TEST_CASE("the attention reference follows the fixed-order contract") {
  for (KvType type : {KvType::kF32, KvType::kF16}) {
    for (size_t d : {1, 17, 64, 100}) {
      const AttnProblem p(9, d, type, AttnFill::kMixedMagnitudes, 7);
      const std::vector<float> scores = p.Scores(kAttnReference.scores);
      const std::vector<float> values = p.Values(kAttnReference.values);
      for (size_t s = 0; s < p.n; ++s) {
        CHECK(FloatBits(scores[s]) == FloatBits(Dot16(p.q.data(), &p.rows[s * p.stride], d)));
      }
      CHECK(scores[p.n] == -7.0f);
      for (size_t i = 0; i < d; ++i) {
        float acc = 0.0f;
        for (size_t s = 0; s < p.n; ++s) acc += p.w[s] * p.rows[s * p.stride + i];
        CHECK(FloatBits(values[i]) == FloatBits(acc));
      }
      CHECK(values[d] == -7.0f);
    }
  }
}

TEST_CASE("the Blocked16x4 layout: 16 rows x 4 columns per 64 bytes, zero padding") {
  CHECK(BlockedRows(1) == 16);
  CHECK(BlockedRows(16) == 16);
  CHECK(BlockedRows(17) == 32);
  CHECK(BlockedCols(5) == 8);
  CHECK(BlockedOffset(0, 0, 8) == 0);
  CHECK(BlockedOffset(0, 3, 8) == 3);
  CHECK(BlockedOffset(1, 0, 8) == 4);
  CHECK(BlockedOffset(15, 3, 8) == 63);
  CHECK(BlockedOffset(0, 4, 8) == 64);
  CHECK(BlockedOffset(16, 0, 8) == 128);
  std::vector<int8_t> w(17 * 5);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(i + 1);
  std::vector<int8_t> packed(BlockedBytes(17, 5), 55);
  PackBlocked16x4(w.data(), 17, 5, 5, packed.data());
  size_t nonzero = 0;
  for (int8_t v : packed) nonzero += v != 0;
  CHECK(nonzero == w.size());
  for (size_t r = 0; r < 17; ++r)
    for (size_t c = 0; c < 5; ++c) CHECK(packed[BlockedOffset(r, c, 5)] == w[r * 5 + c]);
}

TEST_CASE("PackInt4 puts every value at Int4Offset, q + 8 in its nibble, and q = 0 in the padding") {
  std::vector<int8_t> q(17 * 45);
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(static_cast<int>(i % 16) - 8);
  std::vector<uint8_t> packed(Int4Bytes(17, 45, 32));
  PackInt4(q.data(), 17, 45, 45, 32, packed.data());
  CHECK(packed.size() == 2 * 16 * 64 / 2);  // 32 rows, 64 columns, half a byte each
  for (size_t r = 0; r < 32; ++r) {
    for (size_t c = 0; c < 64; ++c) {
      const int got = static_cast<int>((packed[Int4Offset(r, c, 45, 32)] >> Int4Shift(c)) & 0xF) - 8;
      CHECK(got == (r < 17 && c < 45 ? q[r * 45 + c] : 0));
    }
  }
}

TEST_CASE("the reference q4gemm sums exact group dot products times their scales, in group order") {
  for (size_t group : {32, 128}) {
    const Int4Problem p(3, 5, 300, group, Fill::kRandom, 13);
    const std::vector<float> c = p.Run(kQ4Reference);
    for (size_t i = 0; i < p.m; ++i) {
      for (size_t j = 0; j < p.n; ++j) {
        float s = 0.0f;
        for (size_t g = 0; g * group < p.k; ++g) {
          int32_t acc = 0;
          for (size_t kk = g * group; kk < std::min(p.k, (g + 1) * group); ++kk) {
            acc += int32_t{p.a[i * p.a_stride + kk]} * p.q[j * p.k + kk];
          }
          s = s + static_cast<float>(acc) * F16ToF32(p.scales[Int4ScaleIndex(j, g, p.k, group)]);
        }
        CHECK(c[i * p.c_stride + j] == s * p.a_scale[i]);
      }
      CHECK(c[i * p.c_stride + p.n] == -7.0f);
    }
  }
}

TEST_CASE("the reference qgemm computes exact dot products times both scales") {
  for (size_t k : {1, 7, 300}) {
    Problem p(3, 5, k, Fill::kRandom, 11);
    const std::vector<float> c = p.Run(kReference);
    for (size_t i = 0; i < p.m; ++i) {
      for (size_t j = 0; j < p.n; ++j) {
        CHECK(c[i * p.c_stride + j] == static_cast<float>(Dot(p, i, j)) * (p.a_scale[i] * p.w_scale[j]));
      }
      // Columns past n are untouched.
      CHECK(c[i * p.c_stride + p.n] == -7.0f);
    }
  }
}

// One test case per entry of platforms/kernels.inc; doctest reports it as skipped when the CPU
// lacks the kernel's ISA.
#define EF_QGEMM_KERNEL(isa, fn)                                                               \
  TEST_CASE(#fn " matches the reference bit for bit" * doctest::skip(!CpuSupports(Isa::isa))) { \
    CheckAgainstReference(#fn, &isa::fn);                                                      \
    CheckLargestK(&isa::fn);                                                                   \
  }
#define EF_Q4GEMM_KERNEL(isa, fn)                                                              \
  TEST_CASE(#fn " matches the reference bit for bit" * doctest::skip(!CpuSupports(Isa::isa))) { \
    CheckQ4AgainstReference(#fn, &isa::fn);                                                     \
  }
#define EF_SGEMM_KERNEL(isa, fn) \
  TEST_CASE(#fn " matches Dot16 bit for bit" * doctest::skip(!CpuSupports(Isa::isa))) { \
    CheckSGemm(&isa::fn, KvType::kF32);                                                  \
    CheckSGemm(&isa::fn, KvType::kF16);                                                  \
  }
#define EF_ATTN_KERNEL(isa, scores, values)                                                                  \
  TEST_CASE(#scores " and " #values " match the reference bit for bit" * doctest::skip(!CpuSupports(Isa::isa))) { \
    CheckAttnAgainstReference(#scores, AttnFns{&isa::scores, &isa::values});                                  \
  }
#define EF_ATTN_I8_KERNEL(isa, scores, values)  // tests/attention_test.cc
#define EF_SOFTMAX_KERNEL(isa, fn)              // tests/attention_test.cc
#define EF_QUANTIZE_KERNEL(isa, fn)             // tests/row_kernels_test.cc
#define EF_SWIGLU_KERNEL(isa, fn)               // tests/row_kernels_test.cc
#include "platforms/kernels.inc"
#undef EF_SOFTMAX_KERNEL
#undef EF_QUANTIZE_KERNEL
#undef EF_SWIGLU_KERNEL
#undef EF_QGEMM_KERNEL
#undef EF_Q4GEMM_KERNEL
#undef EF_SGEMM_KERNEL
#undef EF_ATTN_KERNEL
#undef EF_ATTN_I8_KERNEL

#if defined(EDGEFORMER_ARCH_X86_64)
// The AVX-VNNI kernels' sources compiled with the EVEX vpdpbusd (tests/CMakeLists.txt,
// platforms/x86/avxvnni/vnni256.h): the same arithmetic, runnable on AVX512-VNNI CPUs, which
// mostly lack AVX-VNNI (the test cases above run the real ones where the CPU has it).
namespace avxvnni_evex_twin {
void qgemm_s8_6x16c4__avxvnni(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const float* a_scale,
                              const int8_t* w, const float* w_scale, const int32_t* w_row_sum, float* c,
                              size_t c_stride);
void q4gemm_s8_4x16c8__avxvnni(size_t m, size_t n, size_t k, size_t group, const int8_t* a, size_t a_stride,
                               const float* a_scale, const int32_t* a_sums, const uint8_t* w, const uint16_t* w_scale,
                               float* c, size_t c_stride);
}  // namespace avxvnni_evex_twin

TEST_CASE("the AVX-VNNI kernels, as their EVEX twins, match the reference bit for bit" *
          doctest::skip(!CpuSupports(Isa::avx512vnni))) {
  CheckAgainstReference("qgemm_s8_6x16c4__avxvnni (EVEX twin)", &avxvnni_evex_twin::qgemm_s8_6x16c4__avxvnni);
  CheckLargestK(&avxvnni_evex_twin::qgemm_s8_6x16c4__avxvnni);
  CheckQ4AgainstReference("q4gemm_s8_4x16c8__avxvnni (EVEX twin)", &avxvnni_evex_twin::q4gemm_s8_4x16c8__avxvnni);
}
#endif

TEST_CASE("dispatch picks the best supported kernel at or below the cap") {
  const KernelTable ref = SelectKernels(Isa::reference);
  CHECK(ref.isa == Isa::reference);
  CHECK((ref.qgemm == kReference));
  CHECK((ref.q4gemm == kQ4Reference));
  for (Isa isa : BuildIsas()) {
    const KernelTable t = SelectKernels(isa);
    CHECK(static_cast<int>(t.isa) <= static_cast<int>(isa));
    CHECK(CpuSupports(t.isa));
    if (CpuSupports(isa)) CHECK(t.isa == isa);
  }
  CHECK(IsaByName("reference").ok());
  const Result<Isa> bad = IsaByName("sse9");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("unknown ISA 'sse9'") != std::string::npos);
}

}  // namespace edgeformer
