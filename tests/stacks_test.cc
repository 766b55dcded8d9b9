// The Transformer family beyond Llama and GPT-2 against PyTorch (tests/reference/make_stacks.py):
// BERT (hidden states, masked-LM logits, pooled and mean-pooled embeddings, token types, packed
// texts), BLOOM (ALiBi with 6 heads: logits, greedy ids), the original Transformer's post-norm
// layer with sinusoidal positions, a prefix-LM decoder with half-split partial rotary and GeGLU,
// T5 relative buckets in a decoder and an encoder; WordPiece ids against the Python reference.
// f32 within 1e-4 (of each row's largest value), int8 close (cosine >= 0.999 for embeddings),
// and the same bits on every ISA this CPU has.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "platforms/isa.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

std::string StacksDir() {
  const char* dir = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  return std::string(dir) + "/stacks";
}

nlohmann::json LoadReference(const std::string& name) {
  std::ifstream in(StacksDir() + "/" + name + "/reference.json");
  INFO(name << "/reference.json is missing: did the reference_stacks fixture run?");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::string Convert(const test::TempDir& tmp, const std::string& name, convert::Quant quant) {
  convert::ConvertOptions o;
  o.checkpoint = StacksDir() + "/" + name;
  o.output = tmp.path(name + (quant == convert::Quant::kInt8 ? "-int8" : "-f32") + ".edgf");
  o.quant = quant;
  o.tokenizer_from_checkpoint = std::ifstream(o.checkpoint + "/tokenizer.json").good();
  const Error err = convert::ConvertHf(o);
  INFO(err.message());
  REQUIRE(err.ok());
  return o.output;
}

using Loaded = test::LoadedModel;

std::vector<float> Floats(const nlohmann::json& j) { return j.get<std::vector<float>>(); }
std::vector<int32_t> Ids(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

// Every position's logits of a decoder.
std::vector<float> DecoderLogits(Loaded& m, const std::vector<int32_t>& tokens) {
  std::vector<float> logits(tokens.size() * m.info.vocab_size);
  const edgeformer_status st =
      edgeformer_session_prefill_logits(m.session, tokens.data(), tokens.size(), logits.data(), logits.size());
  INFO(edgeformer_last_error());
  REQUIRE(st == EDGEFORMER_OK);
  return logits;
}

// Hidden states and (when the model has them) logits of one text.
void EncodeText(Loaded& m, const std::vector<int32_t>& ids, const std::vector<int32_t>* types, std::vector<float>* hidden,
                std::vector<float>* logits) {
  hidden->assign(ids.size() * m.info.dim, 0.0f);
  if (logits != nullptr) logits->assign(ids.size() * m.info.vocab_size, 0.0f);
  const edgeformer_status st =
      edgeformer_encode(m.session, ids.data(), types ? types->data() : nullptr, ids.size(), hidden->data(),
                        hidden->size(), logits ? logits->data() : nullptr, logits ? logits->size() : 0);
  INFO(edgeformer_last_error());
  REQUIRE(st == EDGEFORMER_OK);
}

// Runs `fn(isa)` on every ISA this CPU has and checks they give the same bits.
template <typename Fn>
void SameOnEveryIsa(Fn fn) {
  const std::vector<float> first = fn("reference");
  for (const std::string& isa : test::CpuIsaNames()) {
    CAPTURE(isa);
    CHECK(test::SameBits(first, fn(isa.c_str())));
  }
}

using test::Cosine;
using test::SameBits;
using test::WorstRowDifference;

}  // namespace

TEST_CASE("BERT: WordPiece ids, hidden states and masked-LM logits as PyTorch's, token types included") {
  const nlohmann::json ref = LoadReference("bert_mlm");
  test::TempDir tmp;
  const std::string f32 = Convert(tmp, "bert_mlm", convert::Quant::kNone);
  const std::string int8 = Convert(tmp, "bert_mlm", convert::Quant::kInt8);
  Loaded m(f32), q(int8);
  CHECK(m.info.family == EDGEFORMER_FAMILY_ENCODER);
  CHECK(m.info.has_logits);
  CHECK(m.info.token_types == 2);
  for (const auto& text : ref["texts"]) {
    const std::string s = text["text"];
    CAPTURE(s);
    const std::vector<int32_t> ids = Ids(text["ids"]), types = Ids(text["types"]);
    std::vector<int32_t> got(ids.size() + 8);
    size_t n = 0;
    REQUIRE(edgeformer_tokenize(m.model, s.data(), s.size(), test::kAddAndParse, got.data(), got.size(), &n) == EDGEFORMER_OK);
    got.resize(n);
    CHECK(got == ids);
    std::vector<float> hidden, logits;
    EncodeText(m, ids, &types, &hidden, &logits);
    CHECK(WorstRowDifference(Floats(text["hidden"]), hidden, m.info.dim) <= 1e-4);
    CHECK(WorstRowDifference(Floats(text["logits"]), logits, m.info.vocab_size) <= 1e-4);
    // int8: every token's state points the same way.
    std::vector<float> qh, ql;
    EncodeText(q, ids, &types, &qh, &ql);
    for (size_t t = 0; t < ids.size(); ++t) CHECK(Cosine(&hidden[t * m.info.dim], &qh[t * m.info.dim], m.info.dim) >= 0.999);
  }
  // Token types matter: the same ids as all type 0 give other states.
  const std::vector<int32_t> ids = Ids(ref["texts"][0]["ids"]);
  std::vector<float> typed, plain;
  std::vector<int32_t> types = Ids(ref["texts"][0]["types"]);
  EncodeText(m, ids, &types, &typed, nullptr);
  EncodeText(m, ids, nullptr, &plain, nullptr);
  CHECK_FALSE(SameBits(typed, plain));
  types[0] = 2;  // past type_vocab_size
  std::vector<float> hidden(ids.size() * m.info.dim);
  CHECK(edgeformer_encode(m.session, ids.data(), types.data(), ids.size(), hidden.data(), hidden.size(), nullptr, 0) ==
        EDGEFORMER_INVALID_ARGUMENT);
  // An encoder is not prefilled.
  CHECK(edgeformer_session_prefill(m.session, ids.data(), ids.size()) == EDGEFORMER_UNSUPPORTED);
  SameOnEveryIsa([&](const char* isa) {
    Loaded x(int8, isa);
    std::vector<float> h, l;
    EncodeText(x, ids, nullptr, &h, &l);
    h.insert(h.end(), l.begin(), l.end());
    return h;
  });
}

TEST_CASE("BERT sentence embeddings: the checkpoint's mean pooling and normalization, the pooler, packed texts") {
  const nlohmann::json ref = LoadReference("bert_sentence");
  test::TempDir tmp;
  const std::string f32 = Convert(tmp, "bert_sentence", convert::Quant::kNone);
  Loaded m(f32), q(Convert(tmp, "bert_sentence", convert::Quant::kInt8));
  CHECK(m.info.pooling == EDGEFORMER_POOLING_MEAN);
  CHECK(m.info.normalize == 1);
  CHECK_FALSE(m.info.has_logits);
  const size_t dim = m.info.dim;
  std::vector<int32_t> all;
  std::vector<size_t> lengths;
  for (const auto& text : ref["texts"]) {
    const std::vector<int32_t> ids = Ids(text["ids"]);
    all.insert(all.end(), ids.begin(), ids.end());
    lengths.push_back(ids.size());
  }
  // All texts in one call (one pass: they are packed), with the model's pooling.
  std::vector<float> packed(lengths.size() * dim), quantized(lengths.size() * dim);
  REQUIRE(edgeformer_embed(m.session, all.data(), nullptr, lengths.data(), lengths.size(), nullptr, packed.data(),
                           packed.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_embed(q.session, all.data(), nullptr, lengths.data(), lengths.size(), nullptr, quantized.data(),
                           quantized.size()) == EDGEFORMER_OK);
  size_t at = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    const nlohmann::json& text = ref["texts"][i];
    CAPTURE(i);
    const std::vector<float> want = Floats(text["mean_normalized"]);
    CHECK(WorstRowDifference(want, std::vector<float>(&packed[i * dim], &packed[(i + 1) * dim]), dim) <= 1e-4);
    CHECK(Cosine(&packed[i * dim], &quantized[i * dim], dim) >= 0.999);
    // One text alone gives the same bits as in the pack; the pooler, its own vector.
    std::vector<float> alone(dim), pooled(dim);
    REQUIRE(edgeformer_embed(m.session, &all[at], nullptr, &lengths[i], 1, nullptr, alone.data(), dim) == EDGEFORMER_OK);
    CHECK(SameBits(alone, std::vector<float>(&packed[i * dim], &packed[(i + 1) * dim])));
    edgeformer_embed_params p = edgeformer_embed_default_params();
    p.pooling = EDGEFORMER_POOLING_POOLER;
    p.normalize = 0;
    REQUIRE(edgeformer_embed(m.session, &all[at], nullptr, &lengths[i], 1, &p, pooled.data(), dim) == EDGEFORMER_OK);
    CHECK(WorstRowDifference(Floats(text["pooled"]), pooled, dim) <= 1e-4);
    at += lengths[i];
  }
  // Texts through the model's own tokenizer give the same vectors.
  std::vector<const char*> texts;
  std::vector<size_t> text_lens;
  std::vector<std::string> storage;
  for (const auto& text : ref["texts"]) storage.push_back(text["text"]);
  for (const std::string& s : storage) {
    texts.push_back(s.data());
    text_lens.push_back(s.size());
  }
  std::vector<float> from_text(lengths.size() * dim);
  REQUIRE(edgeformer_embed_texts(m.session, texts.data(), text_lens.data(), texts.size(), nullptr, from_text.data(),
                                 from_text.size()) == EDGEFORMER_OK);
  CHECK(SameBits(from_text, packed));
  // Refusals: too small a buffer, a text past the context, no logits here.
  CHECK(edgeformer_embed(m.session, all.data(), nullptr, lengths.data(), lengths.size(), nullptr, packed.data(), dim) ==
        EDGEFORMER_INVALID_ARGUMENT);
  std::vector<int32_t> long_text(65, 5);
  size_t long_len = long_text.size();
  CHECK(edgeformer_embed(m.session, long_text.data(), nullptr, &long_len, 1, nullptr, packed.data(), dim) ==
        EDGEFORMER_CONTEXT_FULL);
  std::vector<float> h(lengths[0] * dim), l(lengths[0] * m.info.vocab_size);
  CHECK(edgeformer_encode(m.session, all.data(), nullptr, lengths[0], h.data(), h.size(), l.data(), l.size()) ==
        EDGEFORMER_UNSUPPORTED);
}

TEST_CASE("BLOOM: ALiBi with 6 heads, embedding LayerNorm, fused qkv: logits and greedy ids as PyTorch's") {
  const nlohmann::json ref = LoadReference("bloom");
  test::TempDir tmp;
  const std::string f32 = Convert(tmp, "bloom", convert::Quant::kNone);
  Loaded m(f32);
  const std::vector<int32_t> tokens = Ids(ref["tokens"]);
  CHECK(WorstRowDifference(Floats(ref["logits"]), DecoderLogits(m, tokens), m.info.vocab_size) <= 1e-4);
  REQUIRE(edgeformer_session_reset(m.session) == EDGEFORMER_OK);
  const std::vector<int32_t> prompt = Ids(ref["prompt"]);
  REQUIRE(edgeformer_session_prefill(m.session, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  std::vector<int32_t> greedy;
  edgeformer_generate_params g = test::Greedy(12);
  REQUIRE(edgeformer_generate(m.session, &g,
                              [](void* u, int32_t t, const char*, size_t) {
                                static_cast<std::vector<int32_t>*>(u)->push_back(t);
                                return 1;
                              },
                              &greedy, nullptr, nullptr) == EDGEFORMER_OK);
  CHECK(greedy == Ids(ref["greedy"]));
  const std::string int8 = Convert(tmp, "bloom", convert::Quant::kInt8);
  SameOnEveryIsa([&](const char* isa) {
    Loaded x(int8, isa);
    return DecoderLogits(x, tokens);
  });
}

TEST_CASE("the original Transformer's layer: post-norm, sinusoidal positions, ReLU, scaled embeddings") {
  const nlohmann::json ref = LoadReference("post_ln_sinusoidal");
  test::TempDir tmp;
  Loaded m(Convert(tmp, "post_ln_sinusoidal", convert::Quant::kNone));
  const std::vector<int32_t> tokens = Ids(ref["tokens"]);
  CHECK(WorstRowDifference(Floats(ref["logits"]), DecoderLogits(m, tokens), m.info.vocab_size) <= 1e-4);
  // Decoding one token at a time (KV cache) gives the prefill's logits for the last position.
  REQUIRE(edgeformer_session_reset(m.session) == EDGEFORMER_OK);
  for (int32_t t : tokens) REQUIRE(edgeformer_session_prefill(m.session, &t, 1) == EDGEFORMER_OK);
  const float* l = nullptr;
  size_t n = 0;
  REQUIRE(edgeformer_session_logits(m.session, &l, &n) == EDGEFORMER_OK);
  const std::vector<float> all = Floats(ref["logits"]);
  CHECK(WorstRowDifference(std::vector<float>(all.end() - static_cast<long>(n), all.end()), std::vector<float>(l, l + n),
                           n) <= 1e-4);
}

TEST_CASE("prefix-LM: the prefix attends both ways (half-split partial rotary, GQA, GeGLU)") {
  const nlohmann::json ref = LoadReference("prefix_lm");
  test::TempDir tmp;
  const std::string f32 = Convert(tmp, "prefix_lm", convert::Quant::kNone);
  Loaded m(f32);
  const std::vector<int32_t> tokens = Ids(ref["tokens"]);
  const std::vector<float> logits = DecoderLogits(m, tokens);
  CHECK(WorstRowDifference(Floats(ref["logits"]), logits, m.info.vocab_size) <= 1e-4);
  // Position 0's logits change with token 4 (in the prefix): as the reference's.
  std::vector<int32_t> changed = tokens;
  changed[4] = (changed[4] + 1) % static_cast<int32_t>(m.info.vocab_size);
  REQUIRE(edgeformer_session_reset(m.session) == EDGEFORMER_OK);
  const std::vector<float> first = DecoderLogits(m, changed);
  CHECK(WorstRowDifference(Floats(ref["logits_prefix_changed"]),
                           std::vector<float>(first.begin(), first.begin() + m.info.vocab_size), m.info.vocab_size) <= 1e-4);
  // The prefix comes whole in the first prefill.
  REQUIRE(edgeformer_session_reset(m.session) == EDGEFORMER_OK);
  CHECK(edgeformer_session_prefill(m.session, tokens.data(), 3) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(std::string(edgeformer_last_error()).find("prefix") != std::string::npos);
  SameOnEveryIsa([&](const char* isa) {
    Loaded x(Convert(tmp, "prefix_lm", convert::Quant::kInt8), isa);
    return DecoderLogits(x, tokens);
  });
}

TEST_CASE("T5 relative buckets: a decoder (one-way buckets) and an encoder (two-way, mean pooling)") {
  test::TempDir tmp;
  {
    const nlohmann::json ref = LoadReference("t5_decoder");
    Loaded m(Convert(tmp, "t5_decoder", convert::Quant::kNone));
    const std::vector<int32_t> tokens = Ids(ref["tokens"]);
    CHECK(WorstRowDifference(Floats(ref["logits"]), DecoderLogits(m, tokens), m.info.vocab_size) <= 1e-4);
  }
  const nlohmann::json ref = LoadReference("t5_encoder");
  const std::string f32 = Convert(tmp, "t5_encoder", convert::Quant::kNone);
  Loaded m(f32);
  const std::vector<int32_t> tokens = Ids(ref["tokens"]);
  std::vector<float> hidden, none;
  EncodeText(m, tokens, nullptr, &hidden, nullptr);
  CHECK(WorstRowDifference(Floats(ref["hidden"]), hidden, m.info.dim) <= 1e-4);
  std::vector<float> mean(m.info.dim);
  const size_t n = tokens.size();
  REQUIRE(edgeformer_embed(m.session, tokens.data(), nullptr, &n, 1, nullptr, mean.data(), mean.size()) == EDGEFORMER_OK);
  CHECK(WorstRowDifference(Floats(ref["mean"]), mean, m.info.dim) <= 1e-4);
  SameOnEveryIsa([&](const char* isa) {
    Loaded x(Convert(tmp, "t5_encoder", convert::Quant::kInt8), isa);
    std::vector<float> h;
    EncodeText(x, tokens, nullptr, &h, nullptr);
    return h;
  });
}

TEST_CASE("WordPiece: ids as the Python reference's on hard text (accents, CJK, control, long words, specials)") {
  for (const char* name : {"wordpiece_uncased", "wordpiece_cased"}) {
    CAPTURE(name);
    const nlohmann::json ref = LoadReference(name);
    test::TempDir tmp;
    Loaded m(Convert(tmp, name, convert::Quant::kNone));
    for (const auto& c : ref["cases"]) {
      const std::string text = c["text"];
      CAPTURE(text);
      std::vector<int32_t> got(text.size() * 4 + 8);
      size_t n = 0;
      REQUIRE(edgeformer_tokenize(m.model, text.data(), text.size(), test::kAddAndParse, got.data(), got.size(), &n) == EDGEFORMER_OK);
      got.resize(n);
      CHECK(got == Ids(c["ids"]));
    }
  }
}

}  // namespace edgeformer
