// Prompt lookup (speculative decoding without a draft model, model/lookup.h and
// GenerateOptions::lookup_tokens): the proposals, and generation with them giving plain
// generation's tokens exactly (greedy and seeded sampling, every way a call can stop, a real
// model), with the counts of what was proposed and accepted.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "model/lookup.h"
#include "tests/session_fixtures.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

std::vector<int32_t> Propose(const std::vector<int32_t>& seq, uint32_t ngram, size_t max) {
  std::vector<int32_t> out(max, -1);
  out.resize(ProposeLookup(seq.data(), seq.size(), ngram, max, out.data()));
  return out;
}

TEST_CASE("prompt lookup proposes what followed the latest earlier match of the longest n-gram") {
  // 5 6 7 | 8 9 4 ... 5 6 7 | 1 2 3 ... 6 7: the bigram "6 7" last occurs before "1 2 3".
  const std::vector<int32_t> seq = {5, 6, 7, 8, 9, 4, 5, 6, 7, 1, 2, 3, 6, 7};
  CHECK(Propose(seq, 2, 3) == std::vector<int32_t>{1, 2, 3});
  CHECK(Propose(seq, 3, 2) == std::vector<int32_t>{1, 2});  // no earlier "3 6 7": "6 7"
  CHECK(Propose(seq, 2, 0).empty());
  const std::vector<int32_t> tail = {1, 2, 3, 1, 2, 4, 1, 2};
  CHECK(Propose(tail, 2, 8) == std::vector<int32_t>{4, 1, 2});  // up to the end of the text
  // No bigram match: the unigram's latest occurrence; nothing at all: no proposal.
  CHECK(Propose({1, 2, 3, 9, 3}, 2, 2) == std::vector<int32_t>{9, 3});
  CHECK(Propose({1, 2, 3, 4}, 4, 4).empty());
  CHECK(Propose({7}, 2, 4).empty());
  CHECK(Propose({}, 2, 4).empty());
  // A run of one token proposes more of it.
  CHECK(Propose({4, 4, 4, 4}, 2, 3) == std::vector<int32_t>{4});
  CHECK(Propose({4, 4, 4, 4, 4, 4}, 3, 3) == std::vector<int32_t>{4});
}

struct Run {
  std::vector<int32_t> tokens;
  edgeformer_stop_reason reason = EDGEFORMER_STOP_ERROR;
  uint32_t position = 0;
  std::vector<float> logits;
};

// Prefill `prompt` in a fresh session, then generate with `g`; with `stop_after`, the callback
// refuses the token after that many.
Run Generate(edgeformer_model* model, const std::vector<int32_t>& prompt, edgeformer_generate_params g,
             edgeformer_session_params p, size_t stop_after = SIZE_MAX, edgeformer_session_info* info = nullptr) {
  Session s(model, p);
  REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  struct Sink {
    std::vector<int32_t>* out;
    size_t stop_after;
  } sink{nullptr, stop_after};
  Run r;
  sink.out = &r.tokens;
  auto cb = [](void* user, int32_t token, const char*, size_t) -> int {
    Sink& k = *static_cast<Sink*>(user);
    if (k.out->size() == k.stop_after) return 0;
    k.out->push_back(token);
    return 1;
  };
  const edgeformer_status st = edgeformer_generate(s.s, &g, cb, &sink, nullptr, &r.reason);
  INFO(edgeformer_last_error());
  REQUIRE(st == EDGEFORMER_OK);
  r.position = edgeformer_session_position(s.s);
  // One more plain token after the call: the context it left behind is plain generation's.
  edgeformer_generate_params more = test::Greedy(1);
  std::vector<int32_t> next;
  REQUIRE(edgeformer_generate(s.s, &more, Collect, &next, nullptr, nullptr) == EDGEFORMER_OK);
  r.tokens.insert(r.tokens.end(), next.begin(), next.end());
  r.logits = s.Logits();
  if (info != nullptr) REQUIRE(edgeformer_session_get_info(s.s, info) == EDGEFORMER_OK);
  return r;
}

// A prompt that repeats itself, as text to summarize or edit does.
std::vector<int32_t> RepeatingPrompt() {
  std::vector<int32_t> p = Prompt(12);
  const std::vector<int32_t> again(p.begin() + 2, p.begin() + 9);
  p.insert(p.end(), again.begin(), again.end());
  p.insert(p.end(), p.begin(), p.begin() + 3);
  return p;
}

TEST_CASE("generation with prompt lookup is plain generation, token for token: greedy, seeded sampling, every stop") {
  for (convert::Quant quant : {convert::Quant::kInt8, convert::Quant::kNone}) {
    CAPTURE(static_cast<int>(quant));
    Model m(quant);
    edgeformer_session_params plain_p = edgeformer_session_default_params();
    edgeformer_session_params look_p = plain_p;
    look_p.max_draft_tokens = 6;
    const std::vector<int32_t> prompt = RepeatingPrompt();
    uint64_t proposed = 0, accepted = 0;
    for (int sampled = 0; sampled < 2; ++sampled) {
      for (size_t stop_after : {SIZE_MAX, size_t{0}, size_t{3}, size_t{7}}) {
        for (uint32_t ngram : {1u, 2u, 3u}) {
          CAPTURE(sampled);
          CAPTURE(stop_after);
          CAPTURE(ngram);
          edgeformer_generate_params g = test::Greedy(24);
          if (sampled) {
            g.sampler.temperature = 0.9f;
            g.sampler.top_k = 20;
            g.sampler.seed = 1234;
          }
          const Run want = Generate(m.model, prompt, g, plain_p, stop_after);
          g.lookup_tokens = 6;
          g.lookup_ngram = ngram;
          edgeformer_session_info info{};
          const Run got = Generate(m.model, prompt, g, look_p, stop_after, &info);
          CHECK(got.tokens == want.tokens);
          CHECK(got.reason == want.reason);
          CHECK(got.position == want.position);
          CHECK(SameBits(got.logits, want.logits));
          CHECK(info.draft_accepted <= info.draft_proposed);
          CHECK(info.draft_passes <= info.draft_proposed);
          proposed += info.draft_proposed;
          accepted += info.draft_accepted;
        }
      }
    }
    // Random weights repeat themselves, so proposals from the text are sometimes right.
    MESSAGE("proposed " << proposed << ", accepted " << accepted);
    CHECK(proposed > 0);
    CHECK(accepted > 0);
  }
}

TEST_CASE("prompt lookup: max_tokens exactly, the end of text, a full context, refused settings") {
  Model m(convert::Quant::kInt8);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_draft_tokens = 8;
  const std::vector<int32_t> prompt = RepeatingPrompt();
  for (uint32_t max_tokens : {0u, 1u, 2u, 5u, 13u}) {
    CAPTURE(max_tokens);
    edgeformer_generate_params g = test::Greedy(max_tokens);
    const Run want = Generate(m.model, prompt, g, edgeformer_session_default_params());
    g.lookup_tokens = 8;
    const Run got = Generate(m.model, prompt, g, p);
    CHECK(got.tokens == want.tokens);
    CHECK(got.position == want.position);
  }
  // max_tokens 0 with a token pending from a call before: nothing delivered, as plain.
  {
    Session a(m.model, p), b(m.model, edgeformer_session_default_params());
    for (const Session* s : {&a, &b}) {
      REQUIRE(edgeformer_session_prefill(s->s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
      edgeformer_generate_params g = test::Greedy(3);
      g.lookup_tokens = s == &a ? 8 : 0;
      REQUIRE(edgeformer_generate(s->s, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_OK);
      g.max_tokens = 0;
      size_t n = 99;
      REQUIRE(edgeformer_generate(s->s, &g, nullptr, nullptr, &n, nullptr) == EDGEFORMER_OK);
      CHECK(n == 0);
    }
    CHECK(edgeformer_session_position(a.s) == edgeformer_session_position(b.s));
    CHECK(SameBits(a.Logits(), b.Logits()));
  }
  // Up to the end of the context: the proposals shrink to the room left; then context full.
  Session a(m.model, p), b(m.model, edgeformer_session_default_params());
  edgeformer_session_info info{};
  REQUIRE(edgeformer_session_get_info(a.s, &info) == EDGEFORMER_OK);
  const uint32_t context = info.context_length;
  edgeformer_generate_params g = test::Greedy(context);
  std::vector<int32_t> ta, tb;
  REQUIRE(edgeformer_session_prefill(a.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(b.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  CHECK(edgeformer_generate(b.s, &g, Collect, &tb, nullptr, nullptr) == EDGEFORMER_CONTEXT_FULL);
  g.lookup_tokens = 8;
  CHECK(edgeformer_generate(a.s, &g, Collect, &ta, nullptr, nullptr) == EDGEFORMER_CONTEXT_FULL);
  CHECK(ta == tb);
  CHECK(edgeformer_session_position(a.s) == edgeformer_session_position(b.s));
  // More proposals than the session keeps room for, a bad n-gram: refused before anything runs.
  REQUIRE(edgeformer_session_reset(a.s) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(a.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  g = test::Greedy(4);
  g.lookup_tokens = 9;
  CHECK(edgeformer_generate(a.s, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(std::string(edgeformer_last_error()).find("max_draft_tokens") != std::string::npos);
  g.lookup_tokens = 2;
  g.lookup_ngram = 0;
  CHECK(edgeformer_generate(a.s, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  g.lookup_ngram = 17;
  CHECK(edgeformer_generate(a.s, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(edgeformer_session_position(a.s) == prompt.size());
  edgeformer_session_params bad = edgeformer_session_default_params();
  bad.max_draft_tokens = 65;
  edgeformer_session* s = nullptr;
  CHECK(edgeformer_session_create(m.model, &bad, &s) == EDGEFORMER_INVALID_ARGUMENT);
  bad.max_draft_tokens = 4;
  bad.max_beams = 2;
  CHECK(edgeformer_session_create(m.model, &bad, &s) == EDGEFORMER_INVALID_ARGUMENT);
}

TEST_CASE("prompt lookup on a real model (fortunes2M): plain greedy's tokens, with proposals accepted") {
  test::TempDir dir;
  const std::string path = test::ConvertFortunes(dir, convert::Quant::kInt8);
  if (path.empty()) return;
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  // A fortune quoted, then asked for again: the second telling repeats the first.
  const char* text =
      "Q: What is the difference between a duck? A: One of its legs is both the same.\n"
      "Q: What is the difference between a duck? A:";
  std::vector<int32_t> prompt(512);
  size_t n = 0;
  REQUIRE(edgeformer_tokenize(model, text, std::strlen(text), EDGEFORMER_TOKENIZE_ADD_SPECIAL, prompt.data(), prompt.size(), &n) ==
          EDGEFORMER_OK);
  prompt.resize(n);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_draft_tokens = 8;
  edgeformer_generate_params g = test::Greedy(48);
  const Run want = Generate(model, prompt, g, edgeformer_session_default_params());
  g.lookup_tokens = 8;
  g.lookup_ngram = 3;
  edgeformer_session_info info{};
  const Run got = Generate(model, prompt, g, p, SIZE_MAX, &info);
  CHECK(got.tokens == want.tokens);
  CHECK(SameBits(got.logits, want.logits));
  MESSAGE("fortunes2M: " << info.draft_passes << " passes, " << info.draft_proposed << " proposed, "
                         << info.draft_accepted << " accepted");
  CHECK(info.draft_accepted > 0);
  edgeformer_model_destroy(model);
}

}  // namespace
}  // namespace edgeformer
