// Session state files (edgeformer_session_save / _load, model/session_state.cc): a restored
// session continues exactly as the saved one (the same logits bit for bit, the same tokens) for
// decoders with every KV type, a pending token, sliding-window rings and encoder-decoders; files
// from another model, KV type or context, truncated anywhere, or with any header field or table
// value out of place are refused with a message, the session unchanged.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "converter/convert.h"
#include "core/checksum.h"
#include "edgeformer.h"
#include "tests/reference_models.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

struct Handles {
  edgeformer_model* model = nullptr;
  edgeformer_session* session = nullptr;
  Handles(edgeformer_model* m, const edgeformer_session_params& p) {
    const edgeformer_status st = edgeformer_session_create(m, &p, &session);
    INFO(std::string(edgeformer_last_error()));
    REQUIRE(st == EDGEFORMER_OK);
  }
  ~Handles() { edgeformer_session_destroy(session); }
};

edgeformer_model* Load(const std::string& path) {
  edgeformer_model* m = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &m) == EDGEFORMER_OK);
  return m;
}

std::vector<float> Logits(edgeformer_session* s) {
  const float* l = nullptr;
  size_t n = 0;
  if (edgeformer_session_logits(s, &l, &n) != EDGEFORMER_OK) return {};
  return std::vector<float>(l, l + n);
}

std::vector<int32_t> Tokens(edgeformer_session* s) {
  std::vector<int32_t> t(edgeformer_session_position(s));
  size_t n = 0;
  REQUIRE(edgeformer_session_tokens(s, t.data(), t.size(), &n) == EDGEFORMER_OK);
  return t;
}

int Collect(void* user, int32_t token, const char*, size_t) {
  static_cast<std::vector<int32_t>*>(user)->push_back(token);
  return 1;
}

// Greedy tokens (n of them), then the logits after them.
std::pair<std::vector<int32_t>, std::vector<float>> Continue(edgeformer_session* s, uint32_t n) {
  edgeformer_generate_params g = test::Greedy(n);
  std::vector<int32_t> ids;
  edgeformer_stop_reason reason;
  REQUIRE(edgeformer_generate(s, &g, Collect, &ids, nullptr, &reason) == EDGEFORMER_OK);
  return {ids, Logits(s)};
}

std::vector<int32_t> Prompt(size_t n, int32_t vocab) {
  std::vector<int32_t> p;
  for (size_t i = 0; i < n; ++i) p.push_back(static_cast<int32_t>(1 + (i * 37) % (vocab - 1)));
  return p;
}

// Saves `from` to `path`, loads it into a fresh session `p` of `model` (holding another context
// first), checks the restored logits and tokens, and that both continue alike for `more` tokens.
void CheckRoundTrip(edgeformer_model* model, const edgeformer_session_params& p, edgeformer_session* from,
                    const std::string& path, uint32_t more, bool encoder_decoder = false) {
  REQUIRE(edgeformer_session_save(from, path.c_str()) == EDGEFORMER_OK);
  Handles to(model, p);
  const std::vector<int32_t> other = {3, 1, 4};
  if (encoder_decoder) {
    REQUIRE(edgeformer_encode_source(to.session, other.data(), 3, nullptr, 0) == EDGEFORMER_OK);
  } else {
    REQUIRE(edgeformer_session_prefill(to.session, other.data(), 3) == EDGEFORMER_OK);
  }
  const edgeformer_status st = edgeformer_session_load(to.session, path.c_str());
  INFO(std::string(edgeformer_last_error()));
  REQUIRE(st == EDGEFORMER_OK);
  CHECK(edgeformer_session_position(to.session) == edgeformer_session_position(from));
  CHECK(Tokens(to.session) == Tokens(from));
  CHECK(test::SameBits(Logits(to.session), Logits(from)));
  const auto want = Continue(from, more);
  const auto got = Continue(to.session, more);
  CHECK(got.first == want.first);
  CHECK(test::SameBits(got.second, want.second));
}

TEST_CASE("a restored session continues as the saved one: every KV type, with and without a pending token") {
  test::TempDir tmp;
  for (convert::Quant quant : {convert::Quant::kNone, convert::Quant::kInt8}) {
    const std::string path = test::MakeSyntheticModel(tmp, quant, quant == convert::Quant::kNone ? "f32" : "int8");
    edgeformer_model* model = Load(path);
    for (edgeformer_kv_type kv : {EDGEFORMER_KV_F32, EDGEFORMER_KV_F16, EDGEFORMER_KV_I8}) {
      CAPTURE(kv);
      edgeformer_session_params p = edgeformer_session_default_params();
      p.kv_type = kv;
      p.max_batch = 7;
      Handles a(model, p);
      const std::vector<int32_t> prompt = Prompt(23, 300);
      REQUIRE(edgeformer_session_prefill(a.session, prompt.data(), prompt.size()) == EDGEFORMER_OK);
      CheckRoundTrip(model, p, a.session, tmp.path("after-prefill.state"), 9);  // then 9 generated
      // Generate leaves its last token pending: saved and fed by the restored session.
      CheckRoundTrip(model, p, a.session, tmp.path("pending.state"), 5);
      // An empty context (nothing prefilled, no logits).
      Handles empty(model, p);
      REQUIRE(edgeformer_session_save(empty.session, tmp.path("empty.state").c_str()) == EDGEFORMER_OK);
      Handles b(model, p);
      REQUIRE(edgeformer_session_prefill(b.session, prompt.data(), 4) == EDGEFORMER_OK);
      REQUIRE(edgeformer_session_load(b.session, tmp.path("empty.state").c_str()) == EDGEFORMER_OK);
      CHECK(edgeformer_session_position(b.session) == 0);
      CHECK(Logits(b.session).empty());
    }
    edgeformer_model_destroy(model);
  }
}

TEST_CASE("a restored sliding-window session (rings) continues as the saved one, and truncates past the ring") {
  for (const char* name : {"mistral_sw_f32", "gemma2_f32"}) {
    INFO(name);
    const std::string dir = ReferenceDir() + "/" + name;
    const Reference ref = LoadReference(dir);
    test::TempDir tmp;
    const std::string path = ConvertHf(tmp, dir, convert::Quant::kInt8, "m.edgf", &convert::ConvertHf);
    edgeformer_model* model = Load(path);
    edgeformer_session_params p = edgeformer_session_default_params();
    p.max_batch = 4;  // rings of window + 3 positions, wrapped many times
    p.kv_type = EDGEFORMER_KV_I8;
    Handles a(model, p);
    const size_t n = ref.tokens.size(), vocab = ref.vocab, saved = n - 6;
    for (size_t i = 0; i < saved; ++i) REQUIRE(edgeformer_session_prefill(a.session, &ref.tokens[i], 1) == EDGEFORMER_OK);
    const std::string state = tmp.path("ring.state");
    REQUIRE(edgeformer_session_save(a.session, state.c_str()) == EDGEFORMER_OK);
    Handles b(model, p);
    REQUIRE(edgeformer_session_load(b.session, state.c_str()) == EDGEFORMER_OK);
    std::vector<float> want(6 * vocab), got(6 * vocab);
    REQUIRE(edgeformer_session_prefill_logits(a.session, &ref.tokens[saved], 6, want.data(), want.size()) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_prefill_logits(b.session, &ref.tokens[saved], 6, got.data(), got.size()) == EDGEFORMER_OK);
    CHECK(test::SameBits(got, want));
    // Back by one token (within what a ring of the saving session still holds, but before the
    // window the restored ring got): the same logits as the saved session's.
    for (edgeformer_session* s : {a.session, b.session}) {
      REQUIRE(edgeformer_session_truncate(s, static_cast<uint32_t>(n - 1)) == EDGEFORMER_OK);
    }
    std::vector<float> last_want(vocab), last_got(vocab);
    REQUIRE(edgeformer_session_prefill_logits(a.session, &ref.tokens[n - 1], 1, last_want.data(), vocab) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_prefill_logits(b.session, &ref.tokens[n - 1], 1, last_got.data(), vocab) == EDGEFORMER_OK);
    CHECK(test::SameBits(last_got, last_want));
    // Right after a restore, back by one (edgeformer-run --prompt-cache's truncation).
    {
      Handles c(model, p);
      REQUIRE(edgeformer_session_load(c.session, state.c_str()) == EDGEFORMER_OK);
      Handles d(model, p);
      for (size_t i = 0; i < saved; ++i) REQUIRE(edgeformer_session_prefill(d.session, &ref.tokens[i], 1) == EDGEFORMER_OK);
      for (edgeformer_session* s : {c.session, d.session}) {
        REQUIRE(edgeformer_session_truncate(s, static_cast<uint32_t>(saved - 1)) == EDGEFORMER_OK);
        REQUIRE(edgeformer_session_prefill_logits(s, &ref.tokens[saved - 1], 1, s == c.session ? last_got.data()
                                                                                                : last_want.data(),
                                                  vocab) == EDGEFORMER_OK);
      }
      CHECK(test::SameBits(last_got, last_want));
    }
    // Back to 10 tokens: the restored rings hold only the window, so the session recomputes from
    // the restored history, as the saved one does.
    for (edgeformer_session* s : {a.session, b.session}) REQUIRE(edgeformer_session_truncate(s, 10) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_prefill_logits(a.session, &ref.tokens[10], 6, want.data(), want.size()) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_prefill_logits(b.session, &ref.tokens[10], 6, got.data(), got.size()) == EDGEFORMER_OK);
    CHECK(test::SameBits(got, want));
    // A session without rings (a max_batch too large for them) cannot take the window alone.
    edgeformer_model_info info{};
    REQUIRE(edgeformer_model_get_info(model, &info) == EDGEFORMER_OK);
    edgeformer_session_params full = p;
    full.max_batch = info.max_seq_len;
    Handles c(model, full);
    CHECK(edgeformer_session_load(c.session, state.c_str()) == EDGEFORMER_INVALID_ARGUMENT);
    CHECK(std::string(edgeformer_last_error()).find("max_batch") != std::string::npos);
    edgeformer_model_destroy(model);
  }
}

TEST_CASE("a restored encoder-decoder session keeps its source") {
  test::TempDir tmp;
  const std::string path = test::MakeSyntheticEncoderDecoder(tmp, convert::Quant::kInt8);
  edgeformer_model* model = Load(path);
  for (edgeformer_kv_type kv : {EDGEFORMER_KV_F32, EDGEFORMER_KV_I8}) {
    edgeformer_session_params p = edgeformer_session_default_params();
    p.kv_type = kv;
    Handles a(model, p);
    const std::vector<int32_t> source = Prompt(19, 200);
    REQUIRE(edgeformer_encode_source(a.session, source.data(), source.size(), nullptr, 0) == EDGEFORMER_OK);
    Continue(a.session, 3);
    CheckRoundTrip(model, p, a.session, tmp.path("seq2seq.state"), 6, /*encoder_decoder=*/true);
  }
  edgeformer_model_destroy(model);
}

// The header's fields in order (model/session_state.cc's StateHeader).
enum Field : size_t {
  kVersion = 8, kHeaderBytes = 12, kFileBytes = 16, kModelId = 24, kChecksum = 32, kKvType = 40, kContext = 44,
  kLayers = 48, kKvHeads = 52, kHeadDim = 56, kVocab = 60, kTokens = 64, kPending = 68, kHasLogits = 72,
  kSourceLength = 76, kSourceLayers = 80, kReserved = 84, kHeaderSize = 128
};

// The checksum a writer would give `bytes` (so that a changed value, not the hash, is what the
// reader meets): FNV-1a over the header with its checksum 0, the layer table, history and logits.
void Rehash(std::vector<uint8_t>* bytes) {
  auto u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, bytes->data() + at, 4);
    return uint64_t{v};
  };
  auto align = [](uint64_t n) { return (n + 63) / 64 * 64; };
  const uint64_t small = align(std::min<uint64_t>(u32(kLayers), 1 << 20) * 4) +
                         align(std::min<uint64_t>(u32(kTokens), 1 << 20) * 4) + (u32(kHasLogits) == 1 ? align(u32(kVocab) * 4) : 0);
  if (kHeaderSize + small > bytes->size()) return;
  std::memset(bytes->data() + kChecksum, 0, 8);
  const uint64_t h = Fnv1a64(bytes->data() + kHeaderSize, small, Fnv1a64(bytes->data(), kHeaderSize, kFnv1aInit));
  std::memcpy(bytes->data() + kChecksum, &h, 8);
}

TEST_CASE("hostile state files are refused with a message, the session unchanged") {
  test::TempDir tmp;
  const std::string path = test::MakeSyntheticModel(tmp, convert::Quant::kInt8, "int8");
  edgeformer_model* model = Load(path);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.kv_type = EDGEFORMER_KV_I8;
  p.context_length = 40;
  Handles a(model, p);
  const std::vector<int32_t> prompt = Prompt(21, 300);
  REQUIRE(edgeformer_session_prefill(a.session, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  Continue(a.session, 2);
  const std::string state = tmp.path("good.state");
  REQUIRE(edgeformer_session_save(a.session, state.c_str()) == EDGEFORMER_OK);
  const std::vector<uint8_t> good = test::ReadFile(state);

  Handles b(model, p);
  REQUIRE(edgeformer_session_prefill(b.session, prompt.data(), 5) == EDGEFORMER_OK);
  const std::vector<float> before = Logits(b.session);
  auto refused = [&](const std::vector<uint8_t>& bytes, edgeformer_status want = EDGEFORMER_INVALID_ARGUMENT) {
    const edgeformer_status st = edgeformer_session_load_memory(b.session, bytes.data(), bytes.size());
    CHECK(st == want);
    CHECK(std::string(edgeformer_last_error()).find("session state") != std::string::npos);
    CHECK(edgeformer_session_position(b.session) == 5);
    CHECK(test::SameBits(Logits(b.session), before));
    return std::string(edgeformer_last_error());
  };
  {
    Handles c(model, p);
    REQUIRE(edgeformer_session_load_memory(c.session, good.data(), good.size()) == EDGEFORMER_OK);
  }

  // Truncated anywhere: every length in the header and tables, then a stride through the caches.
  for (size_t n = 0; n < good.size(); n += n < 1024 ? 1 : 97) {
    CAPTURE(n);
    refused(std::vector<uint8_t>(good.begin(), good.begin() + n));
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  CHECK(refused(longer).find("bytes but its header says") != std::string::npos);

  // Every header field with boundary values, the checksum made to match: refused by the check of
  // the field, not by the hash (except the file size, which is checked first).
  struct Case {
    size_t at;
    uint32_t value;
    const char* says;
  };
  const uint32_t tokens_saved = [&] {
    uint32_t v;
    std::memcpy(&v, good.data() + kTokens, 4);
    return v;
  }();
  const Case cases[] = {
      {0, 0x58585858, "not an edgeformer session state"},
      {kHeaderBytes, 64, "a header of 64 bytes"},
      {kModelId, 1, "another model"},
      {kKvType, 0, "KV cache type"},
      {kKvType, 7, "KV cache type"},
      {kContext, 41, "context length"},
      {kContext, 0, "context length"},
      {kLayers, 3, "layers, heads"},
      {kLayers, 0xffffffff, "layers, heads"},
      {kKvHeads, 4, "layers, heads"},
      {kHeadDim, 0, "layers, heads"},
      {kVocab, 301, "layers, heads"},
      {kSourceLayers, 1, "layers, heads"},
      {kTokens, 41, "do not fit the context"},
      {kTokens, 0xffffffff, "do not fit the context"},
      {kTokens, tokens_saved + 16, "the header implies|outside the vocabulary|truncated inside"},
      {kTokens, tokens_saved - 8, "the header implies"},
      {kPending, 300, "outside the vocabulary"},
      {kPending, 0xfffffffe, "outside the vocabulary"},
      {kHasLogits, 2, "has_logits"},
      {kHasLogits, 0, "the header implies"},
      {kSourceLength, 1, "a source of 1 tokens"},
      {kReserved + 40, 1, "reserved header bytes"},
      {kHeaderSize, 1, "holds positions from 1"},        // layer 0's first position
      {kHeaderSize + 64, 300, "outside the vocabulary"},  // the first token of the history
      {kHeaderSize + 64 + 4 * 20, 0xffffffff, "outside the vocabulary"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.at);
    CAPTURE(c.value);
    std::vector<uint8_t> bad = good;
    std::memcpy(bad.data() + c.at, &c.value, 4);
    Rehash(&bad);
    const std::string message = refused(bad);
    bool found = false;
    for (size_t from = 0, bar; from <= std::strlen(c.says); from = bar + 1) {  // alternatives, '|' between
      bar = std::string(c.says).find('|', from);
      if (bar == std::string::npos) bar = std::strlen(c.says);
      found = found || message.find(std::string(c.says).substr(from, bar - from)) != std::string::npos;
    }
    CHECK_MESSAGE(found, message);
  }
  std::vector<uint8_t> version = good;
  version[kVersion] = 2;
  CHECK(refused(version, EDGEFORMER_UNSUPPORTED).find("format version 2") != std::string::npos);
  // A changed token or logit without the matching checksum.
  for (size_t at : {size_t{kChecksum}, size_t{kHeaderSize + 64 + 8}}) {
    std::vector<uint8_t> bad = good;
    bad[at] ^= 0x10;
    CHECK(refused(bad).find("checksum mismatch") != std::string::npos);
  }

  // Another model file (the same checkpoint in f32), KV type, context length.
  const std::string other_path = test::MakeSyntheticModel(tmp, convert::Quant::kNone, "f32");
  edgeformer_model* other = Load(other_path);
  Handles o(other, p);
  CHECK(edgeformer_session_load(o.session, state.c_str()) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(std::string(edgeformer_last_error()).find("another model") != std::string::npos);
  CHECK(std::string(edgeformer_last_error()).find(state) != std::string::npos);
  edgeformer_model_destroy(other);
  for (int change = 0; change < 2; ++change) {
    edgeformer_session_params q = p;
    if (change == 0) q.kv_type = EDGEFORMER_KV_F16;
    if (change == 1) q.context_length = 32;
    Handles s(model, q);
    CHECK(edgeformer_session_load(s.session, state.c_str()) == EDGEFORMER_INVALID_ARGUMENT);
  }

  // Misuse and files that are not there.
  CHECK(edgeformer_session_load(b.session, tmp.path("missing.state").c_str()) == EDGEFORMER_IO_ERROR);
  CHECK(edgeformer_session_save(b.session, tmp.path("no/such/dir/x.state").c_str()) == EDGEFORMER_IO_ERROR);
  CHECK(edgeformer_session_save(nullptr, state.c_str()) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(edgeformer_session_save(b.session, nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(edgeformer_session_load(b.session, nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(edgeformer_session_load_memory(b.session, nullptr, 4) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(edgeformer_session_position(b.session) == 5);
  edgeformer_model_destroy(model);
}

TEST_CASE("a full context with the last generated token pending round-trips") {
  test::TempDir tmp;
  edgeformer_model* model = Load(test::MakeSyntheticModel(tmp, convert::Quant::kInt8, "int8"));
  edgeformer_session_params p = edgeformer_session_default_params();
  p.context_length = 40;
  Handles a(model, p);
  const std::vector<int32_t> prompt = Prompt(30, 300);
  REQUIRE(edgeformer_session_prefill(a.session, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  edgeformer_generate_params g = test::Greedy(11);  // the 11th token sampled at position 40
  REQUIRE(edgeformer_generate(a.session, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_position(a.session) == 40);
  const std::string state = tmp.path("full.state");
  REQUIRE(edgeformer_session_save(a.session, state.c_str()) == EDGEFORMER_OK);
  Handles b(model, p);
  REQUIRE(edgeformer_session_load(b.session, state.c_str()) == EDGEFORMER_OK);
  CHECK(Tokens(b.session) == Tokens(a.session));
  CHECK(test::SameBits(Logits(b.session), Logits(a.session)));
  for (edgeformer_session* s : {a.session, b.session}) {
    edgeformer_stop_reason reason;
    CHECK(edgeformer_generate(s, &g, nullptr, nullptr, nullptr, &reason) == EDGEFORMER_CONTEXT_FULL);
    CHECK(reason == EDGEFORMER_STOP_CONTEXT_FULL);
  }
  edgeformer_model_destroy(model);
}

TEST_CASE("encoders keep no context: their state is not saved") {
  test::TempDir tmp;
  edgeformer_model* model = Load(test::MakeSyntheticEncoder(tmp, convert::Quant::kNone));
  Handles s(model, edgeformer_session_default_params());
  CHECK(edgeformer_session_save(s.session, tmp.path("e.state").c_str()) == EDGEFORMER_UNSUPPORTED);
  edgeformer_model_destroy(model);
}

}  // namespace
}  // namespace edgeformer
