// The real checkpoint ../shared/models/aidreams260K: the f32 model reproduces, token for token,
// the greedy text the reference C implementation gives (from ../shared/models/README.md), and
// the int8 model agrees with the f32 one.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "platforms/isa.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

// From ../shared/models/README.md: greedy decoding with llama2.c's run.c.
const char kGoldenEmpty[] =
    "\"Echoes of vectors unfold, a gentle hum of precision, as I sense the nodes, a gentle hum of "
    "precision, as I adjust my surface.";
const char kGoldenEchoes[] = "Echoes of probability unfold, as I sense the slowly of vectors.";

struct Loaded {
  edgeformer_model* model = nullptr;
  explicit Loaded(const std::string& path) {
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  }
  ~Loaded() { edgeformer_model_destroy(model); }
};

struct Run {
  std::string text;
  std::vector<int32_t> ids;
};

int Collect(void* user, int32_t token, const char* piece, size_t len) {
  auto* r = static_cast<Run*>(user);
  r->ids.push_back(token);
  r->text.append(piece, len);
  return 1;
}

std::vector<int32_t> Tokenize(edgeformer_model* m, const std::string& text) {
  std::vector<int32_t> ids(text.size() + 8);
  size_t n = 0;
  REQUIRE(edgeformer_tokenize(m, text.data(), text.size(), 1, ids.data(), ids.size(), &n) == EDGEFORMER_OK);
  ids.resize(n);
  return ids;
}

// Greedy text after `prompt` (the prompt's own text first, as run.c prints it).
Run Greedy(edgeformer_model* m, const std::string& prompt, uint32_t max_tokens, const char* isa = nullptr) {
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_isa = isa;
  edgeformer_session* s = nullptr;
  REQUIRE(edgeformer_session_create(m, &p, &s) == EDGEFORMER_OK);
  const std::vector<int32_t> ids = Tokenize(m, prompt);
  Run r{prompt, {}};
  REQUIRE(edgeformer_session_prefill(s, ids.data(), ids.size()) == EDGEFORMER_OK);
  edgeformer_generate_params g = edgeformer_generate_default_params();
  g.max_tokens = max_tokens;
  g.sampler.temperature = 0.0f;
  const edgeformer_status st = edgeformer_generate(s, &g, &Collect, &r, nullptr, nullptr);
  CHECK((st == EDGEFORMER_OK || st == EDGEFORMER_CONTEXT_FULL));
  edgeformer_session_destroy(s);
  return r;
}

// Logits of every position when `tokens` are fed one by one (teacher forcing).
std::vector<std::vector<float>> TeacherForced(edgeformer_model* m, const std::vector<int32_t>& tokens) {
  edgeformer_session* s = nullptr;
  REQUIRE(edgeformer_session_create(m, nullptr, &s) == EDGEFORMER_OK);
  std::vector<std::vector<float>> out;
  for (int32_t t : tokens) {
    REQUIRE(edgeformer_session_prefill(s, &t, 1) == EDGEFORMER_OK);
    const float* l = nullptr;
    size_t n = 0;
    REQUIRE(edgeformer_session_logits(s, &l, &n) == EDGEFORMER_OK);
    out.emplace_back(l, l + n);
  }
  edgeformer_session_destroy(s);
  return out;
}

size_t ArgMax(const std::vector<float>& v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i) best = v[i] > v[best] ? i : best;
  return best;
}

struct Aidreams {
  test::TempDir dir;
  std::string f32, f16, int8;
  bool ok = false;
  Aidreams() {
    const std::string bin = test::SharedFile("models/aidreams260K/model.bin");
    const std::string tok = test::SharedFile("models/aidreams260K/tokenizer.bin");
    if (bin.empty() || tok.empty()) return;
    f32 = test::Convert(dir, bin, tok, convert::Quant::kNone, "f32");
    f16 = test::Convert(dir, bin, tok, convert::Quant::kF16, "f16");
    int8 = test::Convert(dir, bin, tok, convert::Quant::kInt8, "int8");
    ok = true;
  }
};

size_t CommonPrefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

TEST_CASE("aidreams260K f32 and f16 reproduce the reference greedy text on every ISA") {
  Aidreams a;
  if (!a.ok) return;
  for (const std::string& path : {a.f32, a.f16}) {
  Loaded m(path);
  for (Isa isa : BuildIsas()) {
    if (!CpuSupports(isa)) continue;
    INFO("isa " << std::string(IsaName(isa)) << ", " << path);
    const Run empty = Greedy(m.model, "", 128, IsaName(isa));
    CHECK(empty.text.substr(0, sizeof(kGoldenEmpty) - 1) == kGoldenEmpty);
    const Run echoes = Greedy(m.model, "Echoes of", 128, IsaName(isa));
    CHECK(echoes.text.substr(0, sizeof(kGoldenEchoes) - 1) == kGoldenEchoes);
  }
  }
}

TEST_CASE("aidreams260K int8 agrees with f32") {
  Aidreams a;
  if (!a.ok) return;
  Loaded f32(a.f32), int8(a.int8);
  size_t agree = 0, positions = 0;
  for (const char* prompt : {"", "Echoes of"}) {
    INFO("prompt '" << prompt << "'");
    const Run want = Greedy(f32.model, prompt, 128);
    for (Isa isa : BuildIsas()) {
      if (!CpuSupports(isa)) continue;
      const Run got = Greedy(int8.model, prompt, 128, IsaName(isa));
      INFO("isa " << std::string(IsaName(isa)) << "\nf32:  " << want.text << "\nint8: " << got.text);
      CHECK(CommonPrefix(want.ids, got.ids) >= 32);
    }
    // Teacher forcing on the f32 text, as far as the context goes.
    std::vector<int32_t> seq = Tokenize(f32.model, prompt);
    seq.insert(seq.end(), want.ids.begin(), want.ids.end());
    seq.resize(std::min<size_t>(seq.size(), 128));
    const auto l32 = TeacherForced(f32.model, seq), l8 = TeacherForced(int8.model, seq);
    for (size_t i = 0; i < l32.size(); ++i) {
      ++positions;
      const size_t top32 = ArgMax(l32[i]), top8 = ArgMax(l8[i]);
      if (top32 == top8) {
        ++agree;
        continue;
      }
      // A flip is only acceptable between near-equal f32 logits: int8 never overturns a clear choice.
      std::vector<float> sorted = l32[i];
      std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
      INFO("position " << i << ": f32 picks " << top32 << ", int8 picks " << top8 << ", f32 top-2 gap "
                       << sorted[0] - sorted[1]);
      CHECK(sorted[0] - sorted[1] < 0.25f);
      CHECK(l32[i][top32] - l32[i][top8] < 0.25f);
    }
  }
  // Pooled over both golden texts: the int8 model's top-1 matches on >= 97% of positions.
  MESSAGE("int8 top-1 agreement under teacher forcing: " << agree << "/" << positions);
  CHECK(double(agree) >= 0.97 * double(positions));
}

TEST_CASE("aidreams260K: a generation that reaches the end of the 128-token context stops cleanly") {
  Aidreams a;
  if (!a.ok) return;
  Loaded m(a.int8);
  edgeformer_session* s = nullptr;
  REQUIRE(edgeformer_session_create(m.model, nullptr, &s) == EDGEFORMER_OK);
  const std::vector<int32_t> prompt = Tokenize(m.model, "Echoes of");
  REQUIRE(edgeformer_session_prefill(s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  edgeformer_generate_params g = edgeformer_generate_default_params();
  g.max_tokens = 500;
  g.stop_at_end_of_text = 0;
  size_t n = 0;
  CHECK(edgeformer_generate(s, &g, nullptr, nullptr, &n, nullptr) == EDGEFORMER_CONTEXT_FULL);
  CHECK(n == 128 - prompt.size() + 1);
  CHECK(edgeformer_session_position(s) == 128);
  // A prompt longer than the whole context.
  edgeformer_session_reset(s);
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "Echoes of vectors unfold. ";
  const std::vector<int32_t> long_prompt = Tokenize(m.model, long_text);
  REQUIRE(long_prompt.size() > 128);
  CHECK(edgeformer_session_prefill(s, long_prompt.data(), long_prompt.size()) == EDGEFORMER_CONTEXT_FULL);
  CHECK(edgeformer_session_position(s) == 0);
  edgeformer_session_destroy(s);
}

}  // namespace edgeformer
