// Speculative decoding with a draft model (GenerateOptions::draft, edgeformer_generate_params.draft):
// the acceptance rule of speculative sampling gives the model's distribution whatever the draft's
// (and its mutants do not); greedy speculation gives plain greedy's tokens exactly, with a good
// draft, a random one and on a real model; sampled speculation gives plain sampling's
// distribution; drafts the model cannot use are refused.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <pthreadpool.h>

#include "converter/convert.h"
#include "converter/llama2c.h"
#include "edgeformer.h"
#include "model/speculative.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

// The chi-square value above which a statistic of `df` degrees of freedom has probability
// `alpha` (Wilson-Hilferty's approximation; z the standard normal's upper alpha point).
double ChiSquareCritical(double df, double z) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}
constexpr double kZ1e4 = 3.719;  // alpha = 1e-4: a correct rule fails one seed choice in 10,000

// Draws `trials` tokens by speculative sampling with the given rule (accept, and the distribution
// drawn from on rejection) and returns the chi-square statistic of their counts against p.
using Accept = std::function<bool(const float* p, const float* q, int32_t d, float u)>;
using Reject = std::function<void(const float* p, const float* q, size_t n, float* out)>;
double RuleChiSquare(const std::vector<float>& p, const std::vector<float>& q, const Accept& accept,
                     const Reject& reject, int trials, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  const size_t n = p.size();
  auto draw = [&](const std::vector<float>& w) {
    float total = 0.0f;
    for (float v : w) total += v;
    const float r = uniform(rng) * total;
    float acc = 0.0f;
    for (size_t i = 0; i < n; ++i) {
      acc += w[i];
      if (r < acc) return static_cast<int32_t>(i);
    }
    return static_cast<int32_t>(n - 1);
  };
  std::vector<double> counts(n, 0.0);
  std::vector<float> residual(n);
  for (int t = 0; t < trials; ++t) {
    const int32_t d = draw(q);
    if (accept(p.data(), q.data(), d, uniform(rng))) {
      ++counts[d];
      continue;
    }
    reject(p.data(), q.data(), n, residual.data());
    ++counts[draw(residual)];
  }
  double chi = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double expected = p[i] * trials;
    if (expected > 0) chi += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return chi;
}

TEST_CASE("the acceptance rule of speculative sampling gives the model's distribution; its mutants do not") {
  const Accept rule_accept = [](const float* p, const float* q, int32_t d, float u) { return AcceptDraft(p, q, d, u); };
  const Reject rule_reject = [](const float* p, const float* q, size_t n, float* out) { (void)Residual(p, q, n, out); };
  // Drafts close to, far from and disjoint from the model's distribution, and the same one.
  const std::vector<float> p = {0.40f, 0.25f, 0.15f, 0.10f, 0.06f, 0.04f};
  const std::vector<std::vector<float>> drafts = {{0.35f, 0.30f, 0.15f, 0.10f, 0.05f, 0.05f},
                                                  {0.05f, 0.05f, 0.10f, 0.15f, 0.25f, 0.40f},
                                                  {0.0f, 0.0f, 0.0f, 0.0f, 0.5f, 0.5f},
                                                  p};
  const int trials = 40000;
  const double critical = ChiSquareCritical(p.size() - 1, kZ1e4);
  for (size_t i = 0; i < drafts.size(); ++i) {
    CAPTURE(i);
    CHECK(RuleChiSquare(p, drafts[i], rule_accept, rule_reject, trials, 11 + i) < critical);
  }
  // Mutants: accepting every proposal (the draft's distribution), drawing from p on rejection
  // (too much mass on p's likely tokens), accepting with p/q without the rejection's residual
  // being p - q (q - p instead), or comparing u with q/p.
  const Accept always = [](const float*, const float*, int32_t, float) { return true; };
  const Reject from_p = [](const float* p_, const float*, size_t n, float* out) { std::memcpy(out, p_, n * 4); };
  const Reject q_minus_p = [&](const float* p_, const float* q_, size_t n, float* out) { (void)Residual(q_, p_, n, out); };
  const Accept inverted = [](const float* p_, const float* q_, int32_t d, float u) { return u * p_[d] < q_[d]; };
  const std::vector<float>& far = drafts[1];
  CHECK(RuleChiSquare(p, far, always, rule_reject, trials, 21) > critical);
  CHECK(RuleChiSquare(p, far, rule_accept, from_p, trials, 22) > critical);
  CHECK(RuleChiSquare(p, far, rule_accept, q_minus_p, trials, 23) > critical);
  CHECK(RuleChiSquare(p, far, inverted, rule_reject, trials, 24) > critical);
}

struct Loaded {
  edgeformer_model* model = nullptr;
  edgeformer_session* session = nullptr;
  // pool: an app's pthreadpool_t the session borrows (null: its own threads).
  Loaded(const std::string& path, uint32_t max_draft, void* pool = nullptr) {
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
    edgeformer_session_params p = edgeformer_session_default_params();
    p.max_draft_tokens = max_draft;
    p.threadpool = pool;
    const edgeformer_status st = edgeformer_session_create(model, &p, &session);
    INFO(std::string(edgeformer_last_error()));
    REQUIRE(st == EDGEFORMER_OK);
  }
  ~Loaded() {
    edgeformer_session_destroy(session);
    edgeformer_model_destroy(model);
  }
};

int Collect(void* user, int32_t token, const char*, size_t) {
  static_cast<std::vector<int32_t>*>(user)->push_back(token);
  return 1;
}

// The tokens generated after `prompt` (a fresh context), with `draft` (may be null).
std::vector<int32_t> Run(edgeformer_session* s, const std::vector<int32_t>& prompt, edgeformer_generate_params g,
                         edgeformer_session* draft, uint32_t draft_tokens) {
  REQUIRE(edgeformer_session_reset(s) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  g.draft = draft;
  g.draft_tokens = draft_tokens;
  std::vector<int32_t> ids;
  const edgeformer_status st = edgeformer_generate(s, &g, Collect, &ids, nullptr, nullptr);
  INFO(std::string(edgeformer_last_error()));
  REQUIRE(st == EDGEFORMER_OK);
  return ids;
}

// A draft for the synthetic model of test::MakeSyntheticModel: its tokenizer, other weights
// (seed 8) and a smaller shape.
std::string MakeDraft(const test::TempDir& dir) {
  const convert::Llama2cConfig c = convert::Llama2cShape(32, 48, 1, 2, 1, 300, 48);
  const std::string bin = dir.path("draft.bin"), tok = dir.path("draft.tok");
  REQUIRE(convert::WriteSyntheticLlama2c(c, 8, bin, tok).ok());
  return test::Convert(dir, bin, tok, convert::Quant::kNone, "draft");
}

TEST_CASE("greedy speculation with a draft model gives plain greedy's tokens: a close draft, a random one") {
  test::TempDir tmp;
  Loaded target(test::MakeSyntheticModel(tmp, convert::Quant::kNone, "target"), 8);
  Loaded close(test::MakeSyntheticModel(tmp, convert::Quant::kInt8, "close"), 0);
  Loaded random(MakeDraft(tmp), 0);
  const std::vector<int32_t> prompt = {1, 72, 101, 108, 108, 111, 44, 32, 119};
  const edgeformer_generate_params g = test::Greedy(30);
  const std::vector<int32_t> plain = Run(target.session, prompt, g, nullptr, 0);
  REQUIRE(plain.size() == 30);
  for (uint32_t k : {0u, 1u, 3u, 8u}) {
    CAPTURE(k);
    edgeformer_session_info before, after;
    REQUIRE(edgeformer_session_get_info(target.session, &before) == EDGEFORMER_OK);
    CHECK(Run(target.session, prompt, g, close.session, k) == plain);
    REQUIRE(edgeformer_session_get_info(target.session, &after) == EDGEFORMER_OK);
    CHECK(after.draft_accepted - before.draft_accepted > 10);  // the int8 copy agrees mostly
    CHECK(Run(target.session, prompt, g, random.session, k) == plain);
  }
  // The draft session is left holding the text (and its rejected proposals at most).
  CHECK(edgeformer_session_position(random.session) >= prompt.size() + 20);
}

// Both models on one thread pool: the app passes its pthreadpool to both sessions; the draft and
// the model take turns on it within a call (each pass's parallel sections run on its threads).
TEST_CASE("a draft and its model on one shared thread pool give plain greedy's tokens") {
  test::TempDir tmp;
  pthreadpool_t pool = pthreadpool_create(2);
  REQUIRE(pool != nullptr);
  {
    Loaded target(test::MakeSyntheticModel(tmp, convert::Quant::kInt8, "target"), 8, pool);
    Loaded close(test::MakeSyntheticModel(tmp, convert::Quant::kNone, "close"), 0, pool);
    Loaded own(test::MakeSyntheticModel(tmp, convert::Quant::kInt8, "own"), 0);  // its own threads
    edgeformer_session_info info;
    REQUIRE(edgeformer_session_get_info(target.session, &info) == EDGEFORMER_OK);
    CHECK(info.n_threads == 2);  // the pool's
    const std::vector<int32_t> prompt = {1, 72, 101, 108, 108, 111, 44, 32, 119};
    const edgeformer_generate_params g = test::Greedy(40);
    const std::vector<int32_t> plain = Run(own.session, prompt, g, nullptr, 0);
    REQUIRE(plain.size() == 40);
    for (uint32_t k : {0u, 4u}) {
      CAPTURE(k);
      edgeformer_session_info before, after;
      REQUIRE(edgeformer_session_get_info(target.session, &before) == EDGEFORMER_OK);
      CHECK(Run(target.session, prompt, g, close.session, k) == plain);
      REQUIRE(edgeformer_session_get_info(target.session, &after) == EDGEFORMER_OK);
      CHECK(after.draft_accepted - before.draft_accepted > 10);
    }
  }
  pthreadpool_destroy(pool);  // after the sessions, which borrowed it
}

TEST_CASE("drafts a model cannot use are refused before anything runs") {
  test::TempDir tmp;
  Loaded target(test::MakeSyntheticModel(tmp, convert::Quant::kNone, "target"), 4);
  Loaded no_room(test::MakeSyntheticModel(tmp, convert::Quant::kNone, "no_room"), 0);
  const convert::Llama2cConfig other = convert::Llama2cShape(32, 48, 1, 2, 1, 280, 48);
  REQUIRE(convert::WriteSyntheticLlama2c(other, 3, tmp.path("o.bin"), tmp.path("o.tok")).ok());
  Loaded other_vocab(test::Convert(tmp, tmp.path("o.bin"), tmp.path("o.tok"), convert::Quant::kNone, "o"), 0);
  const std::vector<int32_t> prompt = {1, 72, 101};
  REQUIRE(edgeformer_session_prefill(target.session, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(no_room.session, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  auto refused = [&](edgeformer_session* s, edgeformer_session* draft, uint32_t k, edgeformer_status want) {
    edgeformer_generate_params g = test::Greedy(4);
    g.draft = draft;
    g.draft_tokens = k;
    size_t n = 99;
    CHECK(edgeformer_generate(s, &g, nullptr, nullptr, &n, nullptr) == want);
    CHECK(n == 0);
    return std::string(edgeformer_last_error());
  };
  CHECK(refused(target.session, other_vocab.session, 2, EDGEFORMER_INVALID_ARGUMENT).find("same tokenizer") !=
        std::string::npos);
  CHECK(refused(target.session, target.session, 2, EDGEFORMER_INVALID_ARGUMENT).find("its own draft") !=
        std::string::npos);
  CHECK(refused(target.session, no_room.session, 5, EDGEFORMER_INVALID_ARGUMENT).find("max_draft_tokens") !=
        std::string::npos);
  CHECK(refused(no_room.session, target.session, 1, EDGEFORMER_INVALID_ARGUMENT).find("max_draft_tokens") !=
        std::string::npos);
  edgeformer_generate_params g = test::Greedy(4);
  g.draft = no_room.session;
  g.lookup_tokens = 2;
  CHECK(edgeformer_generate(target.session, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(edgeformer_session_position(target.session) == prompt.size());
}

// A homogeneity test: whether two samples of token sequences come from one distribution. Cells
// with fewer than 10 sequences in both samples together are pooled into one.
double HomogeneityChiSquare(const std::map<std::vector<int32_t>, int>& a, const std::map<std::vector<int32_t>, int>& b,
                            int n, int* df) {
  std::map<std::vector<int32_t>, std::pair<int, int>> cells;
  for (const auto& [k, v] : a) cells[k].first += v;
  for (const auto& [k, v] : b) cells[k].second += v;
  std::vector<std::pair<int, int>> pooled(1, {0, 0});
  for (const auto& [k, v] : cells) {
    if (v.first + v.second >= 10) {
      pooled.push_back(v);
    } else {
      pooled[0].first += v.first;
      pooled[0].second += v.second;
    }
  }
  double chi = 0.0;
  int used = 0;
  for (const auto& [x, y] : pooled) {
    if (x + y == 0) continue;
    ++used;
    const double e = (x + y) / 2.0;  // equal sample sizes
    chi += (x - e) * (x - e) / e + (y - e) * (y - e) / e;
  }
  (void)n;
  *df = used - 1;
  return chi;
}

TEST_CASE("sampled speculation gives plain sampling's distribution of the next tokens") {
  test::TempDir tmp;
  Loaded target(test::MakeSyntheticModel(tmp, convert::Quant::kNone, "target"), 4);
  Loaded draft(MakeDraft(tmp), 0);
  const std::vector<int32_t> prompt = {1, 72, 101, 108, 108, 111};
  edgeformer_generate_params g = test::Greedy(4);
  g.sampler.temperature = 1.0f;
  g.sampler.top_k = 3;  // three choices a token: 81 sequences of the last four... pooled as rare
  const int n = 3000;
  std::map<std::vector<int32_t>, int> plain, speculative;
  for (int i = 0; i < n; ++i) {
    g.sampler.seed = 1000 + i;
    std::vector<int32_t> a = Run(target.session, prompt, g, nullptr, 0);
    g.sampler.seed = 500000 + i;
    std::vector<int32_t> b = Run(target.session, prompt, g, draft.session, 3);
    // The first token is a plain step's in both; the next three go through verification.
    ++plain[std::vector<int32_t>(a.begin() + 1, a.end())];
    ++speculative[std::vector<int32_t>(b.begin() + 1, b.end())];
  }
  edgeformer_session_info info;
  REQUIRE(edgeformer_session_get_info(target.session, &info) == EDGEFORMER_OK);
  CHECK(info.draft_proposed > 0);
  CHECK(info.draft_accepted > 0);
  CHECK(info.draft_accepted < info.draft_proposed);  // a random draft: rejections, resampled
  int df = 0;
  const double chi = HomogeneityChiSquare(plain, speculative, n, &df);
  REQUIRE(df >= 5);
  INFO("chi-square " << chi << " with " << df << " degrees of freedom");
  CHECK(chi < ChiSquareCritical(df, kZ1e4));
}

// fortunes2M with the trained draft of tests/data/fortunes-draft (scripts/train_draft_fortunes.py:
// dim 64, 2 layers, fortunes2M's tokenizer), with prompt lookup, and with a random draft of the
// same vocabulary: plain greedy's tokens every time; the trained draft guesses well, the random
// one almost never.
TEST_CASE("fortunes2M's greedy tokens with its trained draft, prompt lookup and a random draft") {
  const char* checkpoint = std::getenv("EDGEFORMER_DRAFT_CHECKPOINT");
  REQUIRE(checkpoint != nullptr);
  const std::string tokenizer = test::SharedFile("models/fortunes2M/tokenizer.bin");
  test::TempDir tmp;
  const std::string target_path = test::ConvertFortunes(tmp, convert::Quant::kInt8);
  if (target_path.empty() || tokenizer.empty()) return;
  const std::string trained_path = test::Convert(tmp, checkpoint, tokenizer, convert::Quant::kInt8, "draft");
  const convert::Llama2cConfig shape = convert::Llama2cShape(64, 176, 2, 4, 2, 1024, 256);
  REQUIRE(convert::WriteSyntheticLlama2c(shape, 5, tmp.path("random.bin"), "").ok());
  const std::string random_path = test::Convert(tmp, tmp.path("random.bin"), tokenizer, convert::Quant::kInt8, "random");
  Loaded target(target_path, 8);
  Loaded trained(trained_path, 0);
  Loaded random(random_path, 0);
  edgeformer_generate_params g = test::Greedy(100);
  auto accepted = [&](auto&& run) {
    edgeformer_session_info a, b;
    REQUIRE(edgeformer_session_get_info(target.session, &a) == EDGEFORMER_OK);
    const std::vector<int32_t> ids = run();
    REQUIRE(edgeformer_session_get_info(target.session, &b) == EDGEFORMER_OK);
    return std::make_pair(ids, static_cast<double>(b.draft_accepted - a.draft_accepted) /
                                   static_cast<double>(std::max<uint64_t>(1, b.draft_proposed - a.draft_proposed)));
  };
  for (const char* text : {"The best way to predict the future is", "A fool and his money", "Q: What do you call"}) {
    CAPTURE(text);
    std::vector<int32_t> prompt(64);
    size_t n = 0;
    REQUIRE(edgeformer_tokenize(target.model, text, std::strlen(text), EDGEFORMER_TOKENIZE_ADD_SPECIAL, prompt.data(),
                                prompt.size(), &n) == EDGEFORMER_OK);
    prompt.resize(n);
    const std::vector<int32_t> plain = Run(target.session, prompt, g, nullptr, 0);
    const auto with_trained = accepted([&] { return Run(target.session, prompt, g, trained.session, 0); });
    const auto with_random = accepted([&] { return Run(target.session, prompt, g, random.session, 4); });
    edgeformer_generate_params lookup = g;
    lookup.lookup_tokens = 4;
    CHECK(with_trained.first == plain);
    CHECK(with_random.first == plain);
    CHECK(Run(target.session, prompt, lookup, nullptr, 0) == plain);
    CHECK(with_trained.second > 0.2);
    CHECK(with_random.second < 0.1);
  }
}

TEST_CASE("greedy speculation on fortunes2M with its f32 conversion as the int8 model's draft") {
  test::TempDir tmp;
  const std::string int8 = test::ConvertFortunes(tmp, convert::Quant::kInt8);
  if (int8.empty()) return;
  test::TempDir tmp2;
  const std::string f32 = test::ConvertFortunes(tmp2, convert::Quant::kNone);
  Loaded target(int8, 8);
  Loaded draft(f32, 0);
  edgeformer_model* m = target.model;
  std::vector<int32_t> prompt(64);
  size_t n = 0;
  const char* text = "The best way to predict the future is to";
  REQUIRE(edgeformer_tokenize(m, text, std::strlen(text), EDGEFORMER_TOKENIZE_ADD_SPECIAL, prompt.data(), 64, &n) ==
          EDGEFORMER_OK);
  prompt.resize(n);
  edgeformer_generate_params g = test::Greedy(120);
  const std::vector<int32_t> plain = Run(target.session, prompt, g, nullptr, 0);
  CHECK(Run(target.session, prompt, g, draft.session, 0) == plain);
  edgeformer_session_info info;
  REQUIRE(edgeformer_session_get_info(target.session, &info) == EDGEFORMER_OK);
  CHECK(info.draft_accepted * 2 > info.draft_proposed);
}

}  // namespace
}  // namespace edgeformer
