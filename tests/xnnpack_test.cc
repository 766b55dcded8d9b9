// The XNNPACK backend against the native kernels: random f32 matmuls of awkward shapes, and whole
// sessions (synthetic and aidreams260K), on every architecture the tests run on. XNNPACK fuses
// multiply-adds and orders its sums its own way, so agreement is within rounding, not bitwise.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "edgeformer.h"
#include "ops/xnn_linear.h"
#include "platforms/common/fixed_order.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

// Sessions on `path` through each backend; returns the logits after `prompt`.
std::vector<float> Logits(const std::string& path, edgeformer_backend backend, uint32_t threads,
                          const std::vector<int32_t>& prompt) {
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.backend = backend;
  p.n_threads = threads;
  edgeformer_session* s = nullptr;
  REQUIRE(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  const float* l = nullptr;
  size_t n = 0;
  REQUIRE(edgeformer_session_logits(s, &l, &n) == EDGEFORMER_OK);
  std::vector<float> out(l, l + n);
  edgeformer_session_destroy(s);
  edgeformer_model_destroy(model);
  return out;
}

// max |a - b| relative to max |a|.
double RelativeDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double scale = 0.0, diff = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::fabs(static_cast<double>(a[i])));
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("XNNPACK fully-connected agrees with Dot16 within rounding on awkward shapes") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  Result<std::unique_ptr<ThreadPool>> pool = ThreadPool::Create(2, ThreadPoolOptions{/*adaptive=*/false, /*with_pthreadpool=*/true});
  REQUIRE(pool.ok());
  for (size_t rows : {1, 7, 16, 33, 130}) {
    for (size_t cols : {1, 5, 64, 67, 300}) {
      std::vector<float> w(rows * cols);
      for (float& v : w) v = unit(rng);
      Weight weight;
      weight.type = WeightType::kF32;
      weight.rows = rows;
      weight.cols = cols;
      weight.data = w.data();
      Result<std::unique_ptr<ops::XnnLinear>> op = ops::XnnLinear::Create(weight);
      REQUIRE(op.ok());
      for (size_t m : {1, 3, 17, 64}) {
        std::vector<float> x(m * cols), y(m * rows, -7.0f);
        for (float& v : x) v = unit(rng);
        for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), pool.value().get()}) {
          REQUIRE(op.value()->Run(m, x.data(), y.data(), p != nullptr ? p->handle() : nullptr).ok());
          for (size_t i = 0; i < m; ++i) {
            for (size_t j = 0; j < rows; ++j) {
              const float want = Dot16(&x[i * cols], &w[j * cols], cols);
              double magnitude = 0.0;
              for (size_t k = 0; k < cols; ++k) magnitude += std::fabs(x[i * cols + k] * w[j * cols + k]);
              INFO("rows " << rows << " cols " << cols << " m " << m);
              REQUIRE(std::fabs(y[i * rows + j] - want) <= 1e-6 * magnitude + 1e-30);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("sessions through XNNPACK give the native logits within rounding, f32, f16 and int8 models") {
  test::TempDir dir;
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 23; ++i) prompt.push_back(1 + (i * 37) % 299);
  for (convert::Quant quant : {convert::Quant::kNone, convert::Quant::kF16, convert::Quant::kInt8}) {
    const std::string path = test::MakeSyntheticModel(dir, quant, "q" + std::to_string(static_cast<int>(quant)));
    const std::vector<float> native = Logits(path, EDGEFORMER_BACKEND_NATIVE, 1, prompt);
    for (uint32_t threads : {1u, 2u}) {
      const double d = RelativeDiff(native, Logits(path, EDGEFORMER_BACKEND_XNNPACK, threads, prompt));
      INFO("quant " << static_cast<int>(quant) << " threads " << threads << " relative difference " << d);
      CHECK(d < 1e-4);
    }
  }
}

TEST_CASE("AUTO: f32 prefill through XNNPACK, int8 and f16 models untouched (bit-identical to native)") {
  test::TempDir dir;
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 23; ++i) prompt.push_back(1 + (i * 37) % 299);
  const std::string f32 = test::MakeSyntheticModel(dir, convert::Quant::kNone, "f32");
  const std::string int8 = test::MakeSyntheticModel(dir, convert::Quant::kInt8, "int8");
  const std::vector<float> native = Logits(f32, EDGEFORMER_BACKEND_NATIVE, 1, prompt);
  const std::vector<float> automatic = Logits(f32, EDGEFORMER_BACKEND_AUTO, 1, prompt);
  CHECK(RelativeDiff(native, automatic) < 1e-4);
  CHECK(native != automatic);  // the prefill really went through XNNPACK
  // The int8 model's only f32 matmul is its classifier, which AUTO leaves native.
  CHECK(Logits(int8, EDGEFORMER_BACKEND_NATIVE, 1, prompt) == Logits(int8, EDGEFORMER_BACKEND_AUTO, 2, prompt));
  // f16 models stay native under AUTO (XNNPACK would keep an f32 copy of every weight).
  const std::string f16 = test::MakeSyntheticModel(dir, convert::Quant::kF16, "f16");
  CHECK(Logits(f16, EDGEFORMER_BACKEND_NATIVE, 1, prompt) == Logits(f16, EDGEFORMER_BACKEND_AUTO, 2, prompt));
  CHECK(Logits(f16, EDGEFORMER_BACKEND_NATIVE, 1, prompt) != Logits(f16, EDGEFORMER_BACKEND_XNNPACK, 1, prompt));
}

TEST_CASE("aidreams260K f32 and f16 through XNNPACK: the same greedy text as native, logits within rounding") {
  const std::string bin = test::SharedFile("models/aidreams260K/model.bin");
  if (bin.empty()) return;
  for (convert::Quant quant : {convert::Quant::kNone, convert::Quant::kF16}) {
  INFO("quant " << static_cast<int>(quant));
  test::TempDir dir;
  const std::string path = test::Convert(dir, bin, "", quant, "aidreams");
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 40; ++i) prompt.push_back(1 + (i * 13) % 511);
  const std::vector<float> native = Logits(path, EDGEFORMER_BACKEND_NATIVE, 1, prompt);
  const std::vector<float> xnn = Logits(path, EDGEFORMER_BACKEND_XNNPACK, 2, prompt);
  CHECK(RelativeDiff(native, xnn) < 1e-4);
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  std::vector<int32_t> ids[2];
  for (int b = 0; b < 2; ++b) {
    edgeformer_session_params p = edgeformer_session_default_params();
    p.backend = b ? EDGEFORMER_BACKEND_XNNPACK : EDGEFORMER_BACKEND_NATIVE;
    edgeformer_session* s = nullptr;
    REQUIRE(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OK);
    const int32_t bos = 1;
    REQUIRE(edgeformer_session_prefill(s, &bos, 1) == EDGEFORMER_OK);
    edgeformer_generate_params g = edgeformer_generate_default_params();
    g.max_tokens = 100;
    g.sampler.temperature = 0.0f;
    g.stop_at_end_of_text = 0;
    size_t n = 0;
    edgeformer_stop_reason why;
    REQUIRE(edgeformer_generate(s, &g, [](void* u, int32_t t, const char*, size_t) {
      static_cast<std::vector<int32_t>*>(u)->push_back(t);
      return 1;
    }, &ids[b], &n, &why) == EDGEFORMER_OK);
    edgeformer_session_destroy(s);
  }
  CHECK(ids[0] == ids[1]);
  edgeformer_model_destroy(model);
  }
}

}  // namespace edgeformer
