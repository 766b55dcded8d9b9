// Sessions through the C API generating past the context (slide_context) and stopping at stop
// strings, on the small synthetic model of session_test.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "tests/session_fixtures.h"
#include "tests/test_support.h"

namespace edgeformer {

TEST_CASE("slide_context: generation goes past the context, as if the kept tokens were prefilled afresh") {
  Model m(convert::Quant::kInt8);  // context 48
  const std::vector<int32_t> prompt = Prompt(10);
  Session s(m.model);
  REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  edgeformer_generate_params g = Greedy(60);
  g.slide_context = 1;
  g.keep_tokens = 4;
  std::vector<int32_t> generated;
  size_t n = 0;
  edgeformer_stop_reason why = EDGEFORMER_STOP_END_OF_TEXT;
  REQUIRE(edgeformer_generate(s.s, &g, &Collect, &generated, &n, &why) == EDGEFORMER_OK);
  CHECK(n == 60);
  CHECK(why == EDGEFORMER_STOP_MAX_TOKENS);
  // Tokens 0..47 filled the cache; token 48 (generated[38]) found it full: the first 4 stayed,
  // the next (48 - 4) / 2 = 22 went, 26 were recomputed. So a fresh session given those 26
  // tokens and token 48 continues exactly as the sliding one did.
  std::vector<int32_t> full = prompt;
  full.insert(full.end(), generated.begin(), generated.end());
  std::vector<int32_t> kept(full.begin(), full.begin() + 4);
  kept.insert(kept.end(), full.begin() + 26, full.begin() + 49);
  Session fresh(m.model);
  REQUIRE(edgeformer_session_prefill(fresh.s, kept.data(), kept.size()) == EDGEFORMER_OK);
  std::vector<int32_t> after;
  edgeformer_generate_params plain = Greedy(static_cast<uint32_t>(full.size() - 49));
  REQUIRE(edgeformer_generate(fresh.s, &plain, &Collect, &after, nullptr, nullptr) == EDGEFORMER_OK);
  CHECK(after == std::vector<int32_t>(full.begin() + 49, full.end()));
  // Without sliding, the same generation stops at the full context.
  Session stop(m.model);
  REQUIRE(edgeformer_session_prefill(stop.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  g.slide_context = 0;
  CHECK(edgeformer_generate(stop.s, &g, nullptr, nullptr, &n, nullptr) == EDGEFORMER_CONTEXT_FULL);
  CHECK(edgeformer_generate(stop.s, &g, nullptr, nullptr, &n, &why) == EDGEFORMER_CONTEXT_FULL);
  CHECK(why == EDGEFORMER_STOP_CONTEXT_FULL);
  // Nothing left to drop (keep_tokens past context - 2): refused before generating anything, as
  // the header promises that sliding never fills the context.
  Session keep(m.model);
  REQUIRE(edgeformer_session_prefill(keep.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  g.slide_context = 1;
  for (uint32_t k : {47u, 48u, 1000u}) {
    g.keep_tokens = k;
    n = 7;
    CHECK(edgeformer_generate(keep.s, &g, nullptr, nullptr, &n, &why) == EDGEFORMER_INVALID_ARGUMENT);
    CHECK(std::string(edgeformer_last_error()).find("keep_tokens") != std::string::npos);
    CHECK(n == 0);
    CHECK(why == EDGEFORMER_STOP_ERROR);
  }
  CHECK(edgeformer_session_position(keep.s) == prompt.size());
  g.keep_tokens = 46;  // the most that can be kept: slides, never fills
  g.max_tokens = 100;
  CHECK(edgeformer_generate(keep.s, &g, nullptr, nullptr, &n, &why) == EDGEFORMER_OK);
  CHECK(n == 100);
  CHECK(why == EDGEFORMER_STOP_MAX_TOKENS);
}

}  // namespace edgeformer

namespace edgeformer {
namespace {

struct Text {
  std::string text;
  std::vector<int32_t> tokens;
};

int CollectText(void* user, int32_t token, const char* piece, size_t len) {
  auto* t = static_cast<Text*>(user);
  t->text.append(piece, len);
  t->tokens.push_back(token);
  return 1;
}

}  // namespace

TEST_CASE("continue_sampling: sampled generation in calls of one token draws what one call draws") {
  Model m(convert::Quant::kInt8);  // context 48
  const std::vector<int32_t> prompt = Prompt(6);
  edgeformer_generate_params g = edgeformer_generate_default_params();
  g.sampler.temperature = 1.5f;  // flat enough that the draws decide the tokens
  g.sampler.top_p = 1.0f;
  g.sampler.seed = 77;
  g.stop_at_end_of_text = 0;
  g.max_tokens = 30;
  Session one(m.model);
  REQUIRE(edgeformer_session_prefill(one.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  std::vector<int32_t> whole;
  REQUIRE(edgeformer_generate(one.s, &g, &Collect, &whole, nullptr, nullptr) == EDGEFORMER_OK);
  REQUIRE(whole.size() == 30);
  // One token per call: continuing (after the first call, which seeds) or reseeding each time.
  for (const int cont : {1, 0}) {
    Session steps(m.model);
    REQUIRE(edgeformer_session_prefill(steps.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
    std::vector<int32_t> stepped;
    edgeformer_generate_params step = g;
    step.max_tokens = 1;
    for (int i = 0; i < 30; ++i) {
      step.continue_sampling = cont && i > 0;
      REQUIRE(edgeformer_generate(steps.s, &step, &Collect, &stepped, nullptr, nullptr) == EDGEFORMER_OK);
    }
    if (cont) {
      CHECK(stepped == whole);
    } else {
      CHECK(stepped != whole);  // each call draws the seed's first number again
    }
  }
  // The first call of a session seeds from its sampler.seed even with continue_sampling.
  Session first(m.model);
  REQUIRE(edgeformer_session_prefill(first.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  std::vector<int32_t> continued;
  edgeformer_generate_params c = g;
  c.continue_sampling = 1;
  REQUIRE(edgeformer_generate(first.s, &c, &Collect, &continued, nullptr, nullptr) == EDGEFORMER_OK);
  CHECK(continued == whole);
}

TEST_CASE("stop strings end generation where the text reaches one, matched across tokens, not delivered") {
  Model m(convert::Quant::kInt8);
  Session s(m.model);
  const std::vector<int32_t> prompt = Prompt(4);
  edgeformer_generate_params g = Greedy(40);
  g.stop_at_end_of_text = 0;
  Text full;
  REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_generate(s.s, &g, CollectText, &full, nullptr, nullptr) == EDGEFORMER_OK);
  REQUIRE(full.text.size() > 20);
  // A stop string that straddles token boundaries: 5 bytes from the middle of the text.
  const std::string stop = full.text.substr(full.text.size() / 2 - 2, 5);
  const size_t at = full.text.find(stop);
  const char* stops[] = {"\x01never", stop.c_str()};
  g.stop_strings = stops;
  g.n_stop_strings = 2;
  Text cut;
  size_t n = 0;
  edgeformer_stop_reason reason = EDGEFORMER_STOP_MAX_TOKENS;
  REQUIRE(edgeformer_session_reset(s.s) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_generate(s.s, &g, CollectText, &cut, &n, &reason) == EDGEFORMER_OK);
  CHECK(reason == EDGEFORMER_STOP_STRING);
  CHECK(cut.text == full.text.substr(0, at));
  CHECK(n >= cut.tokens.size());
  // Without a match everything is delivered, with the ordinary stop reason.
  const char* absent[] = {"\x02\x03"};
  g.stop_strings = absent;
  g.n_stop_strings = 1;
  Text all;
  REQUIRE(edgeformer_session_reset(s.s) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_generate(s.s, &g, CollectText, &all, &n, &reason) == EDGEFORMER_OK);
  CHECK(reason == EDGEFORMER_STOP_MAX_TOKENS);
  CHECK(all.text == full.text);
  CHECK(all.tokens == full.tokens);
  // A bad stop string is refused before anything is generated.
  const char* empty[] = {""};
  g.stop_strings = empty;
  CHECK(edgeformer_generate(s.s, &g, CollectText, &all, &n, &reason) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(n == 0);
}

}  // namespace edgeformer
