// The sampler: greedy picks, the filters (top-k, top-p, min-p), logit biases and the penalties
// (worked by hand), seeded repeatability and the shape of the distribution it draws from.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "model/sampler.h"

namespace edgeformer {
namespace {

std::vector<int> Histogram(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<int> h(logits.size());
  for (int i = 0; i < draws; ++i) ++h[s.Sample(logits.data())];
  return h;
}

std::vector<float> LogitsOf(const std::vector<float>& probs) {
  std::vector<float> l;
  for (float p : probs) l.push_back(std::log(p));
  return l;
}

}  // namespace

TEST_CASE("greedy returns the first highest logit") {
  Sampler s;
  REQUIRE(s.Init(5, SamplerParams{}).ok());
  const std::vector<float> logits = {0.1f, 3.0f, -1.0f, 3.0f, 2.9f};
  CHECK(s.Sample(logits.data()) == 1);
}

TEST_CASE("temperature sampling follows the softmax distribution") {
  Sampler s;
  SamplerParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  REQUIRE(s.Init(3, p).ok());
  const int draws = 40000;
  const std::vector<int> h = Histogram(s, LogitsOf({0.5f, 0.3f, 0.2f}), draws);
  CHECK(h[0] / double(draws) == doctest::Approx(0.5).epsilon(0.04));
  CHECK(h[1] / double(draws) == doctest::Approx(0.3).epsilon(0.06));
  CHECK(h[2] / double(draws) == doctest::Approx(0.2).epsilon(0.08));
}

TEST_CASE("a high temperature flattens, a low one sharpens") {
  Sampler hot, cold;
  SamplerParams p;
  p.temperature = 100.0f;
  REQUIRE(hot.Init(2, p).ok());
  p.temperature = 0.05f;
  REQUIRE(cold.Init(2, p).ok());
  const std::vector<float> logits = {1.0f, 0.0f};
  const std::vector<int> h_hot = Histogram(hot, logits, 10000), h_cold = Histogram(cold, logits, 10000);
  CHECK(h_hot[1] > 4500);
  CHECK(h_cold[1] < 10);
}

TEST_CASE("top-k never draws outside the k most likely tokens") {
  Sampler s;
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 2;
  REQUIRE(s.Init(6, p).ok());
  const std::vector<int> h = Histogram(s, LogitsOf({0.1f, 0.3f, 0.05f, 0.25f, 0.2f, 0.1f}), 20000);
  CHECK(h[0] + h[2] + h[4] + h[5] == 0);
  CHECK(h[1] / 20000.0 == doctest::Approx(0.3 / 0.55).epsilon(0.05));
}

TEST_CASE("top-p keeps the smallest set whose mass exceeds p") {
  Sampler s;
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_p = 0.6f;
  REQUIRE(s.Init(4, p).ok());
  // Sorted: 0.4 (id 2), 0.3 (id 0), 0.2 (id 3), 0.1 (id 1): 0.4 + 0.3 > 0.6 keeps ids 2 and 0.
  const std::vector<int> h = Histogram(s, LogitsOf({0.3f, 0.1f, 0.4f, 0.2f}), 20000);
  CHECK(h[1] + h[3] == 0);
  CHECK(h[2] / 20000.0 == doctest::Approx(0.4 / 0.7).epsilon(0.05));
}

TEST_CASE("a tiny top-p on a flat distribution still returns a token") {
  Sampler s;
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_p = 1e-6f;
  REQUIRE(s.Init(1000, p).ok());
  const std::vector<float> flat(1000, 0.0f);
  const int32_t t = s.Sample(flat.data());
  CHECK(t >= 0);
  CHECK(t < 1000);
}

TEST_CASE("the same seed gives the same tokens; another seed does not") {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(float(i));
  auto run = [&](uint64_t seed) {
    Sampler s;
    SamplerParams p;
    p.temperature = 1.0f;
    p.seed = seed;
    REQUIRE(s.Init(50, p).ok());
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.Sample(logits.data()));
    return out;
  };
  CHECK(run(7) == run(7));
  CHECK(run(7) != run(8));
}

TEST_CASE("bad parameters are refused") {
  Sampler s;
  SamplerParams p;
  p.top_p = 0.0f;
  CHECK(s.Init(4, p).status() == Status::kInvalidArgument);
  p.top_p = 1.0f;
  p.temperature = NAN;
  CHECK(s.Init(4, p).status() == Status::kInvalidArgument);
}

TEST_CASE("NaN and infinite logits (a broken model) never pick a NaN token nor leave the vocabulary") {
  const float nan = std::nanf(""), inf = INFINITY;
  std::vector<float> logits(300, 0.5f);
  for (size_t i = 0; i < logits.size(); i += 3) logits[i] = nan;
  logits[7] = 2.0f;
  for (float top_p : {1.0f, 0.9f, 0.01f}) {
    for (uint32_t top_k : {0u, 5u}) {
      SamplerParams p;
      p.temperature = 0.8f;
      p.top_p = top_p;
      p.top_k = top_k;
      Sampler s;
      REQUIRE(s.Init(300, p).ok());
      for (int i = 0; i < 200; ++i) {
        const int32_t t = s.Sample(logits.data());
        REQUIRE(t >= 0);
        REQUIRE(t < 300);
        CHECK(t % 3 != 0);  // a NaN logit has probability 0
      }
      std::vector<float> all_nan(300, nan), with_inf(300, 0.0f);
      with_inf[11] = inf;
      const int32_t a = s.Sample(all_nan.data()), b = s.Sample(with_inf.data());
      CHECK((a >= 0 && a < 300));
      CHECK((b >= 0 && b < 300));
    }
  }
}

}  // namespace edgeformer

namespace edgeformer {

TEST_CASE("logit biases move and ban tokens, in greedy and sampled choices") {
  const std::vector<float> logits = {2.0f, 1.0f, 0.5f};
  const LogitBias lift[] = {{2, 1.6f}};
  SamplerParams p;
  p.logit_bias = lift;
  p.n_logit_bias = 1;
  Sampler s;
  REQUIRE(s.Init(3, p).ok());
  CHECK(s.Sample(logits.data()) == 2);  // 0.5 + 1.6 beats 2.0
  const LogitBias ban[] = {{0, -INFINITY}, {1, -INFINITY}};
  p.logit_bias = ban;
  p.n_logit_bias = 2;
  p.temperature = 1.0f;
  REQUIRE(s.Configure(p).ok());
  const std::vector<int> h = Histogram(s, logits, 2000);
  CHECK(h[0] == 0);
  CHECK(h[1] == 0);
  CHECK(h[2] == 2000);
}

TEST_CASE("penalties: repetition divides or multiplies, presence once, frequency per occurrence, within the window") {
  // Worked by hand: history 1 1 0 (oldest first).
  const std::vector<float> logits = {2.0f, 1.9f, -1.0f, 1.1f};
  const int32_t history[] = {2, 1, 1, 0};
  Sampler s;
  SamplerParams p;
  p.repetition_penalty = 2.0f;  // 0: 2.0 -> 1.0; 1: 1.9 -> 0.95; 2 (-1.0) is outside a window of 3
  p.penalty_last_n = 3;
  REQUIRE(s.Init(4, p).ok());
  CHECK(s.Sample(logits.data(), history, 4) == 3);  // 1.1 now leads
  p.penalty_last_n = 4;  // 2 joins the window: -1.0 * 2 = -2.0, still last; 3 still leads
  REQUIRE(s.Configure(p).ok());
  CHECK(s.Sample(logits.data(), history, 4) == 3);
  p.repetition_penalty = 1.0f;
  p.penalty_last_n = 3;
  p.frequency_penalty = 0.5f;  // 1: 1.9 - 2 * 0.5 = 0.9; 0: 2.0 - 0.5 = 1.5: 0 leads
  REQUIRE(s.Configure(p).ok());
  CHECK(s.Sample(logits.data(), history, 4) == 0);
  p.presence_penalty = 0.5f;  // 0: 1.5 - 0.5 = 1.0 < 1.1: 3 leads
  REQUIRE(s.Configure(p).ok());
  CHECK(s.Sample(logits.data(), history, 4) == 3);
  // Counts do not leak into the next call: without history nothing is penalized.
  CHECK(s.Sample(logits.data()) == 0);
  p.penalty_last_n = 0;
  REQUIRE(s.Configure(p).ok());
  CHECK(s.Sample(logits.data(), history, 4) == 0);
}

TEST_CASE("min-p keeps the tokens at least min_p times as probable as the top one") {
  const std::vector<float> logits = LogitsOf({0.6f, 0.3f, 0.1f});
  Sampler s;
  SamplerParams p;
  p.temperature = 1.0f;
  p.min_p = 0.4f;  // keeps p >= 0.24: tokens 0 and 1, in proportion 2:1
  p.seed = 7;
  REQUIRE(s.Init(3, p).ok());
  const std::vector<int> h = Histogram(s, logits, 30000);
  CHECK(h[2] == 0);
  CHECK(std::abs(h[0] / 30000.0 - 2.0 / 3.0) < 0.02);
  p.min_p = 1.0f;  // only the top token
  REQUIRE(s.Configure(p).ok());
  CHECK(Histogram(s, logits, 1000)[0] == 1000);
}

TEST_CASE("bad penalty, min-p and bias parameters are refused") {
  Sampler s;
  REQUIRE(s.Init(3, SamplerParams{}).ok());
  SamplerParams p;
  p.min_p = 1.5f;
  CHECK(s.Configure(p).status() == Status::kInvalidArgument);
  p = SamplerParams{};
  p.repetition_penalty = 0.0f;
  CHECK(s.Configure(p).status() == Status::kInvalidArgument);
  p = SamplerParams{};
  p.frequency_penalty = NAN;
  CHECK(s.Configure(p).status() == Status::kInvalidArgument);
  p = SamplerParams{};
  const LogitBias outside[] = {{3, 1.0f}};
  p.logit_bias = outside;
  p.n_logit_bias = 1;
  CHECK(s.Configure(p).status() == Status::kInvalidArgument);
  const LogitBias plus_inf[] = {{0, INFINITY}};
  p.logit_bias = plus_inf;
  CHECK(s.Configure(p).status() == Status::kInvalidArgument);
  p.logit_bias = nullptr;
  CHECK(s.Configure(p).status() == Status::kInvalidArgument);
}

}  // namespace edgeformer
