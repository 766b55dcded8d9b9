// The softmax kernels (kernels.inc, EF_SOFTMAX_KERNEL): the reference against a softmax in
// double, every other one against the reference bit for bit.
// Attention over an int8 KV cache. First the int8 kernels of the list (kernels.inc,
// EF_ATTN_I8_KERNEL) against exact int64 sums. Then ops::Attention (ops.h, AttentionArgs):
// against the contract written out here in double precision from the integers (int16 query,
// int8 keys and values, int16 weights), the same bits under every kernel this CPU has, and close
// to attention over the dequantized cache in f32. Covers what the models' tests do not reach:
// runs longer than one integer call (256 positions), sources long enough for the weights' sum
// bound, grouped kv heads, beams' block tables, and non-finite or all-zero inputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "ops/ops.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace {

// An int8 attention problem: n rows of d values in [-128, 127] (row stride d + 5; junk past d,
// which the kernels must not read), an int16 query, key scales, and float weights p with a
// multiplier (a power of two, so p * mult is exact: halves test the ties to even, values past
// +-32767 the clamp). Extremes: every value at -128 or 127, the query and weights at +-32767
// (within the callers' bounds for d <= 256 and n <= 500); same-sign extremes: every value -128,
// the query and weights +32767, so the sums reach -128 * 32767 * n, 98% of int32's bound at
// n = 500.
enum class Fill { kRandom, kExtremes, kSameSign };

struct AttnI8Problem {
  size_t n, d, stride;
  std::vector<int8_t> rows;
  std::vector<int16_t> q, w;  // w: the int16 weights the contract makes of p
  std::vector<float> p, k_scales;
  float q_scale = 0.0f, mult = 0.0f;

  AttnI8Problem(size_t n_, size_t d_, Fill fill, uint32_t seed) : n(n_), d(d_), stride(d_ + 5) {
    std::mt19937 rng(seed);
    const bool extremes = fill != Fill::kRandom, same = fill == Fill::kSameSign;
    auto value = [&]() {
      const int v = same ? -128 : extremes ? (rng() % 2 ? 127 : -128) : static_cast<int>(rng() % 256) - 128;
      return static_cast<int8_t>(v);
    };
    auto weight = [&]() {
      const int x = same ? 32767 : extremes ? (rng() % 2 ? 32767 : -32767) : static_cast<int>(rng() % 65535) - 32767;
      return static_cast<int16_t>(x);
    };
    for (size_t i = 0; i < d; ++i) q.push_back(weight());
    q_scale = std::ldexp(static_cast<float>(rng() % 1000 + 1), -20);
    mult = std::ldexp(1.0f, static_cast<int>(rng() % 20) - 5);
    for (size_t s = 0; s < n; ++s) {
      const int kind = static_cast<int>(rng() % 4);
      float x = 0.0f;  // p * mult
      if (extremes || kind == 0) {
        const float sign = same ? 1.0f : rng() % 2 ? 1.0f : -1.0f;
        x = sign * static_cast<float>(32767 + rng() % 3 * 5000);  // at or past the clamp
      } else if (kind == 1) {
        x = static_cast<float>(static_cast<int>(rng() % 65534) - 32767) + 0.5f;  // a tie
      } else {
        x = std::ldexp(static_cast<float>(rng() % (1 << 24)), -9) - 16384.0f;
      }
      p.push_back(x / mult);
      const double clamped = std::min(32767.0, std::max(-32767.0, static_cast<double>(x)));
      w.push_back(static_cast<int16_t>(std::nearbyint(clamped)));
      k_scales.push_back(static_cast<float>(rng() % 4096 + 1) / 65536.0f);
    }
    rows.assign(n * stride, 99);
    for (size_t s = 0; s < n; ++s) {
      for (size_t i = 0; i < d; ++i) rows[s * stride + i] = value();
    }
  }

  // Exact sums in int64, the contract written out; the scores' two float products as stated.
  std::vector<float> WantScores() const {
    std::vector<float> out(n + 2, -7.0f);
    for (size_t s = 0; s < n; ++s) {
      int64_t acc = 0;
      for (size_t i = 0; i < d; ++i) acc += int64_t{q[i]} * rows[s * stride + i];
      const float dot = static_cast<float>(static_cast<int32_t>(acc));
      volatile float scaled = dot * q_scale;  // rounded to float before the next product
      out[s] = scaled * k_scales[s];
    }
    return out;
  }
  std::vector<int32_t> WantValues(int32_t start) const {
    std::vector<int32_t> out(d + 2, -7);
    for (size_t i = 0; i < d; ++i) {
      int64_t acc = start;
      for (size_t s = 0; s < n; ++s) acc += int64_t{w[s]} * rows[s * stride + i];
      out[i] = static_cast<int32_t>(acc);
    }
    return out;
  }
  std::vector<float> Scores(AttnScoresI8Fn fn) const {
    std::vector<float> out(n + 2, -7.0f);
    fn(n, d, q.data(), rows.data(), stride, q_scale, k_scales.data(), out.data());
    return out;
  }
  // Positions [0, split) then [split, n) accumulating, onto `start` when accumulate.
  std::vector<int32_t> Values(AttnValuesI8Fn fn, size_t split, bool accumulate, int32_t start) const {
    std::vector<int32_t> out(d + 2, -7);
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(d), start);
    fn(split, d, p.data(), mult, rows.data(), stride, accumulate, out.data());
    if (split < n) fn(n - split, d, p.data() + split, mult, rows.data() + split * stride, stride, true, out.data());
    return out;
  }
};

void CheckAttnI8(const char* name, AttnI8Fns fns) {
  uint32_t seed = 1;
  for (size_t n : {1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 33, 100, 257, 500}) {
    for (size_t d : {1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 80, 96, 100, 128, 130, 256}) {
      for (Fill fill : {Fill::kRandom, Fill::kExtremes, Fill::kSameSign}) {
        const AttnI8Problem p(n, d, fill, ++seed);
        INFO(name << " n=" << n << " d=" << d << " fill=" << static_cast<int>(fill));
        REQUIRE(p.Scores(fns.scores) == p.WantScores());
        REQUIRE(p.Values(fns.values, n, false, 0) == p.WantValues(0));
        REQUIRE(p.Values(fns.values, n, true, -12345) == p.WantValues(-12345));
        for (size_t split : {size_t{1}, n / 2, n - 1}) {
          if (split == 0 || split >= n) continue;
          CAPTURE(split);
          REQUIRE(p.Values(fns.values, split, false, 0) == p.WantValues(0));
        }
      }
    }
  }
}

struct Problem {
  size_t n_heads, n_kv_heads, hd, n;  // one query attending to keys [0, n) (n_keys)
  std::vector<float> q;               // [n_heads * hd]
  std::vector<int8_t> k, v;           // [n_kv_heads][n][hd], written by ops::StoreKv
  std::vector<float> k_scales, v_scales;
  std::vector<float> k_rows, v_rows;  // the f32 rows StoreKv quantized, [n][n_kv_heads * hd]

  Problem(size_t heads, size_t kv_heads, size_t head_dim, size_t positions, float spread, uint32_t seed)
      : n_heads(heads), n_kv_heads(kv_heads), hd(head_dim), n(positions) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (size_t i = 0; i < n_heads * hd; ++i) q.push_back(spread * normal(rng));
    const size_t row = n_kv_heads * hd;
    for (size_t i = 0; i < n * row; ++i) {
      k_rows.push_back(normal(rng));
      v_rows.push_back(normal(rng));
    }
    k.resize(n * row);
    v.resize(n * row);
    k_scales.resize(n_kv_heads * n);
    v_scales.resize(n_kv_heads * n);
    Store();
  }

  void Store() {
    ops::StoreKv(k_rows.data(), n, n_kv_heads * hd, n_kv_heads, hd, 0, KvType::kI8, k.data(), n * hd, 0,
                 k_scales.data());
    ops::StoreKv(v_rows.data(), n, n_kv_heads * hd, n_kv_heads, hd, 0, KvType::kI8, v.data(), n * hd, 0,
                 v_scales.data());
  }

  // ops::Attention with the kernels chosen under `cap`; block tables of `block` positions in
  // reverse order when block > 0 (a beam's cache), else the contiguous cross-attention layout.
  std::vector<float> Run(Isa cap, size_t block = 0) const {
    const KernelTable kernels = SelectKernels(cap);
    Result<std::unique_ptr<ThreadPool>> pool = ThreadPool::Create(1);
    REQUIRE(pool.ok());
    ops::Context ctx{&kernels, pool.value().get()};
    std::vector<float> out(n_heads * hd, -7.0f), scores(n_heads * n);
    // With tables, slot of position s = table[s / block] * block + s % block: blocks reversed.
    const size_t blocks = block == 0 ? 0 : (n + block - 1) / block;
    std::vector<uint32_t> table(blocks);
    for (size_t b = 0; b < blocks; ++b) table[b] = static_cast<uint32_t>(blocks - 1 - b);
    const size_t slots = block == 0 ? n : blocks * block;
    std::vector<int8_t> k_slots(n_kv_heads * slots * hd), v_slots(k_slots.size());
    std::vector<float> ks(n_kv_heads * slots), vs(ks.size());
    for (size_t h = 0; h < n_kv_heads; ++h) {
      for (size_t s = 0; s < n; ++s) {
        const size_t slot = block == 0 ? s : size_t{table[s / block]} * block + s % block;
        std::memcpy(&k_slots[(h * slots + slot) * hd], &k[(h * n + s) * hd], hd);
        std::memcpy(&v_slots[(h * slots + slot) * hd], &v[(h * n + s) * hd], hd);
        ks[h * slots + slot] = k_scales[h * n + s];
        vs[h * slots + slot] = v_scales[h * n + s];
      }
    }
    ops::AttentionArgs a{q.data(), n_heads * hd, k_slots.data(), v_slots.data(), KvType::kI8, slots * hd, hd,
                         0,        1,            n_heads,        n_kv_heads,     hd,           scores.data(), n,
                         out.data(), n_heads * hd};
    a.k_scales = ks.data();
    a.v_scales = vs.data();
    a.scale_head_stride = slots;
    const uint32_t* tables[1] = {table.data()};
    if (block == 0) {
      a.n_keys = n;
    } else {
      a.first_pos = n - 1;  // the query at the last position, causal: keys [0, n)
      a.tables = tables;
      a.block = block;
    }
    ops::Attention(ctx, a);
    return out;
  }

  // The contract in double from the integers: q16 and its scale as ops.h says, scores, softmax,
  // p = weight * value scale, w16 = round(p / w_scale), out = sum w16 V8 * w_scale.
  std::vector<double> Contract() const {
    std::vector<double> out(n_heads * hd);
    const double limit = static_cast<double>(std::min<size_t>(32767, 2147483647u / (128 * hd)));
    for (size_t h = 0; h < n_heads; ++h) {
      const size_t kv = h / (n_heads / n_kv_heads);
      const float* qh = &q[h * hd];
      float amax = 0.0f;
      for (size_t i = 0; i < hd; ++i) amax = std::max(amax, std::fabs(qh[i]));
      const float q_scale = amax / static_cast<float>(limit);
      std::vector<double> score(n), p(n);
      double max = -INFINITY;
      for (size_t s = 0; s < n; ++s) {
        int64_t dot = 0;
        for (size_t i = 0; i < hd; ++i) {
          const double q16 = std::nearbyint(static_cast<double>(qh[i] / q_scale));
          dot += static_cast<int64_t>(q16) * k[(kv * n + s) * hd + i];
        }
        score[s] = static_cast<double>(dot) * q_scale * k_scales[kv * n + s] / std::sqrt(static_cast<double>(hd));
        max = std::max(max, score[s]);
      }
      double sum = 0.0, p_max = 0.0, p_sum = 0.0;
      for (size_t s = 0; s < n; ++s) sum += std::exp(score[s] - max);
      for (size_t s = 0; s < n; ++s) {
        p[s] = std::exp(score[s] - max) / sum * v_scales[kv * n + s];
        p_max = std::max(p_max, p[s]);
        p_sum += p[s];
      }
      const double w_scale = std::max(p_max / 32767.0, p_sum / 8388608.0);
      for (size_t i = 0; i < hd; ++i) {
        int64_t acc = 0;
        for (size_t s = 0; s < n; ++s) acc += static_cast<int64_t>(std::nearbyint(p[s] / w_scale)) * v[(kv * n + s) * hd + i];
        out[h * hd + i] = static_cast<double>(acc) * w_scale;
      }
    }
    return out;
  }

  // Attention over the dequantized cache in double (what the int8 cache approximates).
  std::vector<double> Dequantized() const {
    std::vector<double> out(n_heads * hd);
    for (size_t h = 0; h < n_heads; ++h) {
      const size_t kv = h / (n_heads / n_kv_heads);
      std::vector<double> score(n);
      double max = -INFINITY, sum = 0.0;
      for (size_t s = 0; s < n; ++s) {
        double dot = 0.0;
        for (size_t i = 0; i < hd; ++i) dot += double{q[h * hd + i]} * k[(kv * n + s) * hd + i] * k_scales[kv * n + s];
        score[s] = dot / std::sqrt(static_cast<double>(hd));
        max = std::max(max, score[s]);
      }
      for (size_t s = 0; s < n; ++s) sum += std::exp(score[s] - max);
      for (size_t i = 0; i < hd; ++i) {
        double acc = 0.0;
        for (size_t s = 0; s < n; ++s) acc += std::exp(score[s] - max) / sum * v[(kv * n + s) * hd + i] * v_scales[kv * n + s];
        out[h * hd + i] = acc;
      }
    }
    return out;
  }
};

// Worst |a - b| over the largest |b|.
double WorstRelative(const std::vector<float>& a, const std::vector<double>& b) {
  double worst = 0.0, scale = 0.0;
  for (size_t i = 0; i < b.size(); ++i) {
    worst = std::max(worst, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return worst / scale;
}

std::vector<Isa> CpuIsas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::reference, Isa::avx2, Isa::avx512vnni, Isa::neon}) {
    if (CpuSupports(isa)) isas.push_back(isa);
  }
  return isas;
}

TEST_CASE("int8 attention: the integer contract, the same bits on every ISA, close to the dequantized cache") {
  struct Case {
    size_t heads, kv_heads, hd, n;
    float spread;  // the query's scale: larger gives peaked attention
  };
  // 1 and 7 positions; 300 (two integer calls); 5000 with a flat query (sum p / 2^23 sets
  // w_scale); grouped kv heads; head dims off the vector widths.
  // Head dims past 512 lower the query's limit (640: 26214) so its sums stay in int32.
  const Case cases[] = {{2, 2, 64, 1, 1.0f},   {4, 2, 64, 7, 1.0f},   {8, 8, 64, 300, 1.0f},  {2, 1, 128, 5000, 0.001f},
                        {3, 3, 17, 40, 4.0f},  {2, 2, 96, 257, 0.5f}, {2, 2, 33, 513, 2.0f}, {2, 1, 640, 60, 0.3f},
                        {1, 1, 1024, 3, 1.0f}};
  uint32_t seed = 5;
  for (const Case& c : cases) {
    const Problem p(c.heads, c.kv_heads, c.hd, c.n, c.spread, ++seed);
    CAPTURE(c.heads);
    CAPTURE(c.kv_heads);
    CAPTURE(c.hd);
    CAPTURE(c.n);
    const std::vector<float> reference = p.Run(Isa::reference);
    const double to_contract = WorstRelative(reference, p.Contract());
    const double to_dequantized = WorstRelative(reference, p.Dequantized());
    MESSAGE("n=" << c.n << " hd=" << c.hd << ": " << to_contract << " to the contract, " << to_dequantized
                 << " to the dequantized cache");
    // (Measured: at most 7e-6 and 3e-4; float32 scores and weights against double.)
    CHECK(to_contract < 1e-4);
    CHECK(to_dequantized < 2e-3);
    for (Isa isa : CpuIsas()) {
      CAPTURE(static_cast<int>(isa));
      const std::vector<float> got = p.Run(isa);
      REQUIRE(std::memcmp(got.data(), reference.data(), got.size() * sizeof(float)) == 0);
      if (c.n > 16) {  // a beam's cache: blocks of 16 in reverse order, the same bits
        const std::vector<float> beams = p.Run(isa, 16);
        REQUIRE(std::memcmp(beams.data(), reference.data(), beams.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("int8 attention: one value over 5000 positions comes back; a NaN key or value poisons only its kv head") {
  // Every value the same positive number and a flat query: the 5000 weights are equal, their
  // int16 sum sits at the 2^23 bound, and each output is that number to the weights' rounding.
  Problem flat(2, 1, 64, 5000, 1e-4f, 8);
  std::fill(flat.v_rows.begin(), flat.v_rows.end(), 0.75f);
  flat.Store();
  for (Isa isa : CpuIsas()) {
    for (float x : flat.Run(isa)) CHECK(std::fabs(x - 0.75f) <= 0.75f * 5e-4f);
  }
  // Values so small (1e-36) that 1 / w_scale would overflow: finite outputs near them, the same
  // bits on every ISA.
  Problem tiny(2, 1, 64, 300, 1.0f, 10);
  for (float& x : tiny.v_rows) x *= 1e-36f;
  tiny.Store();
  const std::vector<float> tiny_ref = tiny.Run(Isa::reference);
  for (Isa isa : CpuIsas()) {
    const std::vector<float> out = tiny.Run(isa);
    CHECK(std::memcmp(out.data(), tiny_ref.data(), out.size() * sizeof(float)) == 0);
    for (float x : out) CHECK((std::isfinite(x) && std::fabs(x) < 1e-35f));
  }
  // A NaN in one position's key (its scale is NaN) or value, in kv head 1 of 2: query heads 2
  // and 3 read it and give NaN; heads 0 and 1 do not and stay as they were.
  for (bool key : {true, false}) {
    CAPTURE(key);
    Problem p(4, 2, 32, 50, 1.0f, 9);
    const std::vector<float> before = p.Run(Isa::reference);
    (key ? p.k_rows : p.v_rows)[17 * 64 + 32 + 5] = NAN;  // position 17, kv head 1, value 5
    p.Store();
    for (Isa isa : CpuIsas()) {
      const std::vector<float> out = p.Run(isa);
      for (size_t i = 0; i < 64; ++i) CHECK(std::memcmp(&out[i], &before[i], sizeof(float)) == 0);
      for (size_t i = 64; i < 128; ++i) CHECK(std::isnan(out[i]));
    }
  }
}

TEST_CASE("int8 attention: a query that is not finite gives NaN, all-zero values give zeros") {
  Problem p(2, 2, 64, 9, 1.0f, 3);
  p.q[5] = NAN;      // head 0
  p.q[64 + 7] = INFINITY;  // head 1
  for (Isa isa : CpuIsas()) {
    const std::vector<float> out = p.Run(isa);
    for (float x : out) CHECK(std::isnan(x));
  }
  Problem zero(2, 1, 32, 20, 1.0f, 4);
  std::fill(zero.v_rows.begin(), zero.v_rows.end(), 0.0f);
  zero.Store();
  for (Isa isa : CpuIsas()) {
    const std::vector<float> out = zero.Run(isa);
    for (float x : out) CHECK(x == 0.0f);
  }
}

// Rows of scores a softmax meets, n values each: moderate and huge spreads (past Exp's clamps
// at -87 and 88.5), all equal, -infinity among them (masked positions), denormals, a NaN (every
// output NaN), all -infinity (NaN: -inf - -inf), a +infinity (NaN), signed zeros as the maximum.
std::vector<std::vector<float>> SoftmaxRows(size_t n, std::mt19937& rng) {
  std::vector<std::vector<float>> rows;
  for (float spread : {1.0f, 12.0f, 300.0f}) {
    std::uniform_real_distribution<float> u(-spread, spread);
    std::vector<float> x(n);
    for (float& v : x) v = u(rng) + 5.0f;
    rows.push_back(x);
    for (size_t i = 0; i < n; i += 3) x[i] = -INFINITY;
    rows.push_back(x);
  }
  rows.push_back(std::vector<float>(n, 2.5f));
  std::vector<float> tiny(n);
  for (size_t i = 0; i < n; ++i) tiny[i] = static_cast<float>(i % 7) * 1e-40f;
  rows.push_back(tiny);
  std::vector<float> nan = rows[0];
  nan[rng() % n] = NAN;
  rows.push_back(nan);
  rows.push_back(std::vector<float>(n, -INFINITY));
  std::vector<float> inf = rows[0];
  inf[rng() % n] = INFINITY;  // the maximum: inf - inf is NaN there, every output NaN
  rows.push_back(inf);
  std::vector<float> zeros(n);
  for (size_t i = 0; i < n; ++i) zeros[i] = i % 3 == 0 ? -0.0f : i % 3 == 1 ? 0.0f : -1.0f;  // +-0 the maximum
  rows.push_back(zeros);
  return rows;
}

void CheckSoftmax(SoftmaxFn fn) {
  std::mt19937 rng(17);
  for (size_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 100, 255, 256, 257, 1000}) {
    for (const std::vector<float>& row : SoftmaxRows(n, rng)) {
      CAPTURE(n);
      // One float past the row on each side must stay as it is.
      std::vector<float> want(row), got(n + 2, 7.0f);
      std::copy(row.begin(), row.end(), got.begin() + 1);
      reference::softmax_1x__reference(want.data(), n);
      fn(got.data() + 1, n);
      CHECK(got[0] == 7.0f);
      CHECK(got[n + 1] == 7.0f);
      bool same = true;
      for (size_t i = 0; i < n; ++i) {
        const bool both_nan = std::isnan(want[i]) && std::isnan(got[i + 1]);
        same = same && (both_nan || std::memcmp(&want[i], &got[i + 1], sizeof(float)) == 0);
      }
      CHECK(same);
    }
  }
}

TEST_CASE("the reference softmax is softmax: within 4e-7 of double precision, NaN rows all NaN") {
  std::mt19937 rng(5);
  for (size_t n : {1, 5, 16, 17, 300}) {
    const std::vector<std::vector<float>> rows = SoftmaxRows(n, rng);
    for (size_t r = 0; r < rows.size(); ++r) {
      CAPTURE(n);
      CAPTURE(r);
      std::vector<float> x = rows[r];
      reference::softmax_1x__reference(x.data(), n);
      const bool any_nan = std::any_of(rows[r].begin(), rows[r].end(), [](float v) { return std::isnan(v); });
      const bool all_inf = std::all_of(rows[r].begin(), rows[r].end(), [](float v) { return std::isinf(v); });
      const bool pos_inf = std::any_of(rows[r].begin(), rows[r].end(), [](float v) { return v == INFINITY; });
      if (any_nan || all_inf || pos_inf) {
        for (float v : x) CHECK(std::isnan(v));
        continue;
      }
      double max = -INFINITY, sum = 0.0;
      for (float v : rows[r]) max = std::max(max, static_cast<double>(v));
      for (float v : rows[r]) sum += std::exp(static_cast<double>(v) - max);
      double worst = 0.0, total = 0.0;
      for (size_t i = 0; i < n; ++i) {
        const double want = std::exp(static_cast<double>(rows[r][i]) - max) / sum;
        // Exp clamps what is below e^-87 (about 1.6e-38) relative to the maximum to e^-87.
        worst = std::max(worst, std::fabs(x[i] - want) - (want < 1e-37 ? want : 0.0));
        total += x[i];
      }
      CHECK(worst <= 4e-7);
      CHECK(std::fabs(total - 1.0) <= 1e-5);
    }
  }
}

}  // namespace

#define EF_QGEMM_KERNEL(isa, fn)
#define EF_Q4GEMM_KERNEL(isa, fn)
#define EF_SGEMM_KERNEL(isa, fn)
#define EF_ATTN_KERNEL(isa, scores, values)
#define EF_SOFTMAX_KERNEL(isa, fn)                                                                          \
  TEST_CASE(#fn " matches the reference bit for bit" * doctest::skip(!CpuSupports(Isa::isa))) { CheckSoftmax(&isa::fn); }
#define EF_ATTN_I8_KERNEL(isa, scores, values)                                                                     \
  TEST_CASE(#scores " and " #values " give the exact integer sums" * doctest::skip(!CpuSupports(Isa::isa))) {      \
    CheckAttnI8(#scores, AttnI8Fns{&isa::scores, &isa::values});                                                 \
  }
#define EF_QUANTIZE_KERNEL(isa, fn)
#define EF_SWIGLU_KERNEL(isa, fn)
#include "platforms/kernels.inc"
#undef EF_QGEMM_KERNEL
#undef EF_Q4GEMM_KERNEL
#undef EF_SGEMM_KERNEL
#undef EF_ATTN_KERNEL
#undef EF_ATTN_I8_KERNEL
#undef EF_SOFTMAX_KERNEL
#undef EF_QUANTIZE_KERNEL
#undef EF_SWIGLU_KERNEL

}  // namespace edgeformer
