// A corpus of seeded mutants of real model files (aidreams260K int8, fortunes2M f16 with its
// SentencePiece vocabulary, GPT-2's byte-level vocabulary from the reference fixture): bit flips,
// truncations, overwritten runs, and 32-bit words set to extremes or moved by small deltas, aimed
// at the architecture table, the tokenizer's vectors, the tensor table and the scales. Each goes
// through load, tokenize, a session, a prefill and a 4-token generate: no crash (the sanitizer
// builds check memory), no hang, and every refusal has a message. The corpus must reach the
// loader's value checks, not only the FlatBuffers verifier.
#include <doctest/doctest.h>

#include <flatbuffers/flatbuffers.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "model_generated.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 7) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }

 private:
  uint64_t state_;
};

struct Span {
  size_t begin, end;  // bytes of the file
  const char* what;
};

// Where the parts of a valid model file lie: tables and vectors of the header, and the scales.
std::vector<Span> Regions(const std::vector<uint8_t>& file) {
  const uint8_t* base = file.data();
  const schema::Model* m = schema::GetSizePrefixedModel(base);
  std::vector<Span> spans;
  auto table = [&](const void* p, const char* what) {
    if (p == nullptr) return;
    const size_t at = static_cast<const uint8_t*>(p) - base;
    spans.push_back({at >= 16 ? at - 16 : 0, std::min(at + 48, file.size()), what});
  };
  auto vec = [&](const auto* v, size_t elem, const char* what) {
    if (v == nullptr || v->size() == 0) return;
    const size_t at = reinterpret_cast<const uint8_t*>(v->Data()) - base;
    spans.push_back({at - 4, at + v->size() * elem, what});  // with its length
  };
  uint32_t header = 0;
  std::memcpy(&header, base, 4);
  spans.push_back({0, header + 4u, "header"});
  table(m->architecture(), "architecture");
  if (m->architecture() != nullptr && m->architecture()->stack() != nullptr) {
    const schema::StackSpec* stack = m->architecture()->stack();
    table(stack, "stack spec");
    if (stack->layers() != nullptr) {
      for (const schema::LayerSpec* l : *stack->layers()) table(l, "layer spec");
    }
  }
  if (const schema::Tokenizer* t = m->tokenizer()) {
    table(t, "tokenizer table");
    vec(t->piece_offsets(), 4, "piece offsets");
    vec(t->piece_data(), 1, "piece data");
    vec(t->scores(), 4, "scores");
    vec(t->types(), 1, "token types");
    vec(t->byte_values(), 1, "byte values");
    vec(t->merges(), 4, "merges");
  }
  if (m->tensors() != nullptr) {
    vec(m->tensors(), 4, "tensor table");
    for (const schema::Tensor* t : *m->tensors()) {
      table(t, "tensor");
      vec(t->shape(), 8, "shape");
      if (t->scales() != nullptr && t->scales()->size() > 0) {
        spans.push_back({static_cast<size_t>(t->scales()->offset()),
                         static_cast<size_t>(t->scales()->offset() + std::min<uint64_t>(t->scales()->size(), 256)),
                         "scales"});
      }
    }
  }
  return spans;
}

void Put32(std::vector<uint8_t>& f, size_t at, uint32_t v) {
  if (at + 4 <= f.size()) std::memcpy(f.data() + at, &v, 4);
}

uint32_t Get32(const std::vector<uint8_t>& f, size_t at) {
  uint32_t v = 0;
  if (at + 4 <= f.size()) std::memcpy(&v, f.data() + at, 4);
  return v;
}

// One mutant of `file`, of class `kind` (0..5) inside `span`.
std::vector<uint8_t> Mutate(const std::vector<uint8_t>& file, const Span& span, int kind, Rng& rng) {
  std::vector<uint8_t> f = file;
  const size_t lo = span.begin, n = span.end > span.begin ? span.end - span.begin : 1;
  auto pick = [&] { return std::min(lo + rng.Below(n), f.size() - 1); };
  switch (kind) {
    case 0:  // bit flips
      for (uint64_t i = 0, k = 1 + rng.Below(4); i < k; ++i) f[pick()] ^= static_cast<uint8_t>(1u << rng.Below(8));
      break;
    case 1:  // truncation, inside the span or anywhere
      f.resize(rng.Below(2) ? pick() : rng.Below(file.size()));
      break;
    case 2: {  // an overwritten run
      const size_t at = pick();
      for (size_t i = at, end = std::min(f.size(), at + 1 + rng.Below(16)); i < end; ++i) f[i] = static_cast<uint8_t>(rng.Next());
      break;
    }
    case 3: {  // a 32-bit word set to an extreme
      static const uint32_t kExtremes[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xffff, 0x10000, 0x7f800000, 0x7fc00000};
      Put32(f, pick() & ~size_t{3}, kExtremes[rng.Below(sizeof(kExtremes) / sizeof(kExtremes[0]))]);
      break;
    }
    case 4: {  // a 32-bit word moved by a small delta
      const size_t at = pick() & ~size_t{3};
      Put32(f, at, Get32(f, at) + static_cast<uint32_t>(static_cast<int32_t>(rng.Below(17)) - 8));
      break;
    }
    default: {  // a word moved by a power of two (an offset that jumps past its data)
      const size_t at = pick() & ~size_t{3};
      Put32(f, at, Get32(f, at) + (1u << rng.Below(24)));
      break;
    }
  }
  return f;
}

struct Outcome {
  int loaded = 0, refused = 0, verifier = 0, generated = 0;
  std::map<std::string, int> by_region;
};

int Ignore(void*, int32_t, const char* piece, size_t) {
  REQUIRE(piece != nullptr);
  return 1;
}

// Loads one mutant (from memory, or through a file every fourth) and uses what loads.
void Exercise(const std::vector<uint8_t>& bytes, const test::TempDir& dir, int index, Outcome* out) {
  edgeformer_model* m = nullptr;
  edgeformer_status st;
  std::vector<uint8_t> aligned;  // 64-byte aligned copy, as a mapping would be
  void* buffer = nullptr;
  if (index % 4 == 0) {
    const std::string path = dir.path("mutant.edgf");
    test::WriteFile(path, bytes);
    st = edgeformer_model_load(path.c_str(), nullptr, &m);
  } else {
    buffer = std::aligned_alloc(64, (bytes.size() + 64) / 64 * 64);
    REQUIRE(buffer != nullptr);
    if (!bytes.empty()) std::memcpy(buffer, bytes.data(), bytes.size());
    st = edgeformer_model_load_from_memory(buffer, bytes.size(), nullptr, &m);
  }
  if (st != EDGEFORMER_OK) {
    const std::string message = edgeformer_last_error();
    CHECK(m == nullptr);
    CHECK_MESSAGE(message.size() > 10, "a refusal without a useful message: '" << message << "'");
    ++out->refused;
    if (message.find("FlatBuffer verification") != std::string::npos) ++out->verifier;
    std::free(buffer);
    return;
  }
  ++out->loaded;
  edgeformer_model_info info;
  REQUIRE(edgeformer_model_get_info(m, &info) == EDGEFORMER_OK);
  std::vector<int32_t> ids(64);
  size_t n = 0;
  const char text[] = "Once upon a time, caf\xc3\xa9 \xf0\x9f\x98\x80 \xff <|endoftext|> the end";
  if (edgeformer_tokenize(m, text, sizeof(text) - 1, 1, ids.data(), ids.size(), &n) != EDGEFORMER_OK || n == 0 ||
      n > ids.size()) {
    ids.assign({0});
    n = 1;
  }
  ids.resize(n);
  for (size_t i = 0; i < ids.size(); ++i) {
    const char* piece = nullptr;
    size_t len = 0;
    if (edgeformer_token_piece(m, i ? ids[i - 1] : -1, ids[i], &piece, &len) == EDGEFORMER_OK) CHECK(piece != nullptr);
  }
  edgeformer_session_params p = edgeformer_session_default_params();
  p.context_length = info.max_seq_len < 24 ? info.max_seq_len : 24;
  p.memory_budget = 256u << 20;
  p.backend = EDGEFORMER_BACKEND_NATIVE;
  edgeformer_session* s = nullptr;
  if (edgeformer_session_create(m, &p, &s) == EDGEFORMER_OK) {
    if (ids.size() > p.context_length / 2) ids.resize(p.context_length / 2);
    if (info.family == EDGEFORMER_FAMILY_ENCODER) {
      // An encoder: the texts' embeddings (twice the ids: two texts in one pass) and states.
      std::vector<int32_t> two = ids;
      two.insert(two.end(), ids.begin(), ids.end());
      const size_t lengths[2] = {ids.size(), ids.size()};
      std::vector<float> vectors(2 * info.dim), hidden(ids.size() * info.dim);
      if (edgeformer_embed(s, two.data(), nullptr, lengths, 2, nullptr, vectors.data(), vectors.size()) ==
          EDGEFORMER_OK) {
        ++out->generated;
      }
      (void)edgeformer_encode(s, ids.data(), nullptr, ids.size(), hidden.data(), hidden.size(), nullptr, 0);
    } else if (edgeformer_session_prefill(s, ids.data(), ids.size()) == EDGEFORMER_OK) {
      edgeformer_generate_params g = edgeformer_generate_default_params();
      g.max_tokens = 4;
      g.sampler.temperature = 0.0f;
      size_t made = 0;
      const edgeformer_status gs = edgeformer_generate(s, &g, &Ignore, nullptr, &made, nullptr);
      if (gs == EDGEFORMER_OK) ++out->generated;
    }
    edgeformer_session_destroy(s);
  } else {
    CHECK(std::string(edgeformer_last_error()).size() > 10);
  }
  edgeformer_model_destroy(m);
  std::free(buffer);
}

// Runs `per_class` mutants of each class over the regions of `path`'s file.
void RunCorpus(const std::string& path, int per_class, uint64_t seed) {
  const std::vector<uint8_t> file = test::ReadFile(path);
  const std::vector<Span> regions = Regions(file);
  test::TempDir dir;
  Rng rng(seed);
  Outcome out;
  int index = 0;
  for (int kind = 0; kind < 6; ++kind) {
    for (int i = 0; i < per_class; ++i, ++index) {
      const Span& span = regions[rng.Below(regions.size())];
      const std::vector<uint8_t> mutant = Mutate(file, span, kind, rng);
      CAPTURE(path);
      CAPTURE(kind);
      CAPTURE(span.what);
      CAPTURE(index);
      const auto t0 = std::chrono::steady_clock::now();
      Exercise(mutant, dir, index, &out);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      CHECK_MESSAGE(seconds < 20.0, "a mutant took " << seconds << " s (a hang?)");
      ++out.by_region[span.what];
    }
  }
  MESSAGE(path << ": " << index << " mutants, " << out.loaded << " loaded (" << out.generated << " generated), "
               << out.refused << " refused (" << out.verifier << " by the FlatBuffers verifier)");
  CHECK(out.loaded + out.refused == index);
  // The corpus reaches the loader's own checks: most refusals are not the verifier's.
  CHECK(out.refused - out.verifier > out.refused / 3);
  CHECK(out.loaded > 0);
}

}  // namespace

TEST_CASE("mutants of real model files: no crash, no hang, every refusal explained") {
  const std::string aidreams = test::SharedFile("models/aidreams260K/model.bin");
  const std::string fortunes = test::SharedFile("models/fortunes2M/model.bin");
  if (aidreams.empty() || fortunes.empty()) return;
  test::TempDir dir;
  const std::string a = test::Convert(dir, aidreams, test::SharedFile("models/aidreams260K/tokenizer.bin"),
                                      convert::Quant::kInt8, "aidreams");
  RunCorpus(a, 70, 1);
  const std::string f = test::Convert(dir, fortunes, test::SharedFile("models/fortunes2M/tokenizer.bin"),
                                      convert::Quant::kF16, "fortunes");
  RunCorpus(f, 40, 2);
  // int4 in groups (BlockedInt4: nibbles, f16 scales per group, group_size).
  const std::string a4 = test::Convert(dir, aidreams, test::SharedFile("models/aidreams260K/tokenizer.bin"),
                                       convert::Quant::kInt4, "aidreams-int4");
  RunCorpus(a4, 40, 5);
}

TEST_CASE("mutants of a byte-level (GPT-2 vocabulary) model file: merges and pre-tokenizer included") {
  const char* ref = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(ref != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  const std::string checkpoint = std::string(ref) + "/bpe_gpt2";
  test::TempDir dir;
  convert::ConvertOptions o;
  o.checkpoint = checkpoint;
  o.output = dir.path("gpt2.edgf");
  o.quant = convert::Quant::kInt8;
  const Error err = convert::ConvertHf(o);
  INFO(err.message());
  REQUIRE(err.ok());
  RunCorpus(o.output, 40, 3);
}

TEST_CASE("mutants of an encoder's file (BERT: WordPiece vocabulary, stack spec, token types, MLM head)") {
  const char* ref = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(ref != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  test::TempDir dir;
  convert::ConvertOptions o;
  o.checkpoint = std::string(ref) + "/stacks/bert_mlm";
  o.output = dir.path("bert.edgf");
  o.quant = convert::Quant::kInt8;
  const Error err = convert::ConvertHf(o);
  INFO(err.message());
  REQUIRE(err.ok());
  RunCorpus(o.output, 40, 4);
}

}  // namespace edgeformer
