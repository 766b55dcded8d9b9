// The row kernels of platforms/kernels.inc (EF_QUANTIZE_KERNEL, EF_SWIGLU_KERNEL) against their
// reference kernels, bit for bit, on awkward lengths (every length to 70, then around the vector
// widths and the 128-byte row padding) and hostile values (NaN, infinities, denormals, huge and
// tiny magnitudes, all-zero rows, halfway rounding cases); and the reference quantization against
// its contract computed independently in double precision.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "platforms/isa.h"
#include "platforms/kernels.h"

namespace edgeformer {
namespace {

std::vector<size_t> Lengths() {
  std::vector<size_t> n;
  for (size_t i = 0; i <= 70; ++i) n.push_back(i);
  for (size_t i : {127, 128, 129, 255, 256, 257, 1000, 2048, 2051, 5632}) n.push_back(i);
  return n;
}

// Row values of one of several kinds, the hostile ones sprinkled in.
std::vector<float> Values(size_t n, int kind, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::uniform_int_distribution<size_t> pick(0, n == 0 ? 0 : n - 1);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), 1e-40f, -1e-42f, 3e38f, -3e38f, 0.0f, -0.0f};
  switch (kind) {
    case 1:  // a few special values
      for (size_t i = 0; i < 3 && n > 0; ++i) v[pick(rng)] = specials[rng() % 9];
      break;
    case 2:  // all zero
      for (float& x : v) x = 0.0f;
      break;
    case 3:  // halfway cases: x * 127 / max lands on k + 0.5 (max = 127, values at halves)
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(static_cast<int>(i % 254) - 127) + (i % 2 ? 0.5f : 0.0f);
      if (n > 0) v[0] = 127.0f;
      break;
    case 4:  // denormals and tiny values only
      for (float& x : v) x *= 1e-39f;
      break;
    case 5:  // large magnitudes (exp overflows and underflows in SwiGLU)
      for (float& x : v) x *= 40.0f;
      break;
    default:
      break;
  }
  return v;
}

bool SameFloat(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

void CheckQuantize(const char* name, QuantizeRowsFn fn) {
  std::mt19937 rng(11);
  const size_t m = 3;
  for (const size_t k : Lengths()) {
    for (int kind = 0; kind < 6; ++kind) {
      const size_t x_stride = k + 3;  // rows not packed; the gaps and the end hold values that
      const size_t q_stride = ActivationRowBytes(k) + 32;  // would change the results if read
      std::vector<float> x(m * x_stride + 1, 1e30f);
      for (size_t i = 0; i < x.size(); i += 2) x[i] = std::numeric_limits<float>::quiet_NaN();
      for (size_t i = 0; i < m; ++i) {
        const std::vector<float> row = Values(k, (kind + static_cast<int>(i)) % 6, rng);
        std::copy(row.begin(), row.end(), x.begin() + i * x_stride);
      }
      std::vector<int8_t> want_q(m * q_stride, 55), got_q(m * q_stride, 55);
      std::vector<float> want_s(m + 1, -1.0f), got_s(m + 1, -1.0f);
      std::vector<int32_t> want_sums(m * q_stride / 32 + 1, -9), got_sums(want_sums);
      reference::quantize_rows_1x__reference(x.data(), m, k, x_stride, want_q.data(), q_stride, want_s.data(),
                                             want_sums.data());
      fn(x.data(), m, k, x_stride, got_q.data(), q_stride, got_s.data(), got_sums.data());
      CAPTURE(name);
      CAPTURE(k);
      CAPTURE(kind);
      CHECK(got_q == want_q);  // the bytes past each row's padding are untouched in both
      for (size_t i = 0; i <= m; ++i) CHECK(SameFloat(got_s[i], want_s[i]));
      CHECK(got_sums == want_sums);
    }
  }
}

void CheckSwiGlu(const char* name, SwiGluFn fn) {
  std::mt19937 rng(12);
  for (const size_t n : Lengths()) {
    for (int kind : {0, 1, 4, 5}) {
      std::vector<float> gate = Values(n, kind, rng), up = Values(n, (kind + 1) % 6, rng);
      gate.push_back(7.0f);  // past n: untouched
      std::vector<float> want = gate;
      reference::swiglu_1x__reference(want.data(), up.data(), n);
      fn(gate.data(), up.data(), n);
      CAPTURE(name);
      CAPTURE(n);
      CAPTURE(kind);
      size_t differ = 0;
      for (size_t i = 0; i <= n; ++i) differ += !SameFloat(gate[i], want[i]);
      CHECK(differ == 0);
    }
  }
}

TEST_CASE("the reference quantization meets its contract, computed in double precision") {
  std::mt19937 rng(13);
  for (const size_t k : {size_t{1}, size_t{37}, size_t{300}}) {
    for (int kind = 0; kind < 6; ++kind) {
      const std::vector<float> x = Values(k, kind, rng);
      const size_t stride = ActivationRowBytes(k);
      std::vector<int8_t> q(stride, 99);
      std::vector<int32_t> sums(stride / 32, -1);
      float scale = -1.0f;
      reference::quantize_rows_1x__reference(x.data(), 1, k, k, q.data(), stride, &scale, sums.data());
      double amax = 0.0;
      for (float v : x) {
        if (!std::isnan(v)) amax = std::fmax(amax, std::fabs(static_cast<double>(v)));
      }
      CAPTURE(k);
      CAPTURE(kind);
      CHECK(scale == static_cast<float>(amax) / 127.0f);
      const float inv = scale > 0.0f ? 127.0f / static_cast<float>(amax) : 0.0f;
      for (size_t j = 0; j < stride; ++j) {
        double want = 0.0;
        if (j < k) {
          const float v = x[j] * inv;  // the contract's product, in float
          want = std::isnan(v) ? 0.0 : std::nearbyint(std::fmin(127.0, std::fmax(-127.0, static_cast<double>(v))));
        }
        CHECK(q[j] == static_cast<int8_t>(want));
      }
      for (size_t g = 0; g < stride / 32; ++g) {
        int32_t sum = 0;
        for (size_t j = 0; j < 32; ++j) sum += q[g * 32 + j];
        CHECK(sums[g] == sum);
      }
    }
  }
}

#define EF_QGEMM_KERNEL(isa, fn)
#define EF_Q4GEMM_KERNEL(isa, fn)
#define EF_SGEMM_KERNEL(isa, fn)
#define EF_ATTN_KERNEL(isa, scores, values)
#define EF_ATTN_I8_KERNEL(isa, scores, values)
#define EF_SOFTMAX_KERNEL(isa, fn)
#define EF_QUANTIZE_KERNEL(isa, fn)                                                                      \
  TEST_CASE(#fn " matches the reference bit for bit" * doctest::skip(!CpuSupports(Isa::isa))) { \
    CheckQuantize(#fn, &isa::fn);                                                                        \
  }
#define EF_SWIGLU_KERNEL(isa, fn)                                                                        \
  TEST_CASE(#fn " matches the reference bit for bit" * doctest::skip(!CpuSupports(Isa::isa))) { \
    CheckSwiGlu(#fn, &isa::fn);                                                                          \
  }
#include "platforms/kernels.inc"
#undef EF_QGEMM_KERNEL
#undef EF_Q4GEMM_KERNEL
#undef EF_SGEMM_KERNEL
#undef EF_ATTN_KERNEL
#undef EF_ATTN_I8_KERNEL
#undef EF_SOFTMAX_KERNEL
#undef EF_QUANTIZE_KERNEL
#undef EF_SWIGLU_KERNEL

TEST_CASE("dispatch picks a quantize and a SwiGLU kernel the CPU runs") {
  const KernelTable t = SelectKernels(Isa::reference);
  CHECK((t.quantize == &reference::quantize_rows_1x__reference));
  CHECK((t.swiglu == &reference::swiglu_1x__reference));
  const KernelTable best = SelectKernels(BuildIsas().back());
  CHECK(CpuSupports(best.quantize_isa));
  CHECK(CpuSupports(best.swiglu_isa));
#if defined(EDGEFORMER_ARCH_X86_64)
  if (CpuSupports(Isa::avx512vnni)) {
    CHECK(best.quantize_isa == Isa::avx512vnni);
    CHECK(best.swiglu_isa == Isa::avx512vnni);
  } else if (CpuSupports(Isa::avx2)) {
    CHECK(best.quantize_isa == Isa::avx2);
    CHECK(best.swiglu_isa == Isa::avx2);
  }
#endif
}

}  // namespace
}  // namespace edgeformer
