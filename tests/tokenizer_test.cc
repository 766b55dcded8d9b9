// The scored-BPE tokenizer: merge order on a hand-made vocabulary whose answers are worked out by
// hand, byte fallback, decoding rules, validation of bad tables, and round trips on real
// vocabularies; the ranked BPE (Hugging Face's) on a hand-made table, and its hostile tables.
// (Real tokenizer.json files against Hugging Face's library: hf_tokenizer_test.cc.)
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "model/tokenizer.h"
#include "model_generated.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

struct Vocab {
  std::vector<std::pair<std::string, float>> normal;  // ids from 259 on
  bool dummy_prefix = false;
};

// Builds the table: 0 <unk>, 1 <s>, 2 </s>, 3..258 the bytes, then `v.normal`.
std::vector<uint8_t> BuildTable(const Vocab& v, schema::TokenizerT* t) {
  t->kind = schema::TokenizerKind::ScoredBPE;
  t->bos_id = 1;
  t->eos_id = 2;
  t->unk_id = 0;
  t->add_dummy_prefix = v.dummy_prefix;
  t->strip_space_after_bos = true;
  t->piece_offsets.push_back(0);
  auto add = [&](const std::string& piece, float score, schema::TokenType type, uint8_t byte) {
    t->piece_data.insert(t->piece_data.end(), piece.begin(), piece.end());
    t->piece_offsets.push_back(static_cast<uint32_t>(t->piece_data.size()));
    t->scores.push_back(score);
    t->types.push_back(type);
    t->byte_values.push_back(byte);
  };
  add("<unk>", 0, schema::TokenType::Unknown, 0);
  add("<s>", 0, schema::TokenType::Control, 0);
  add("</s>", 0, schema::TokenType::Control, 0);
  for (int b = 0; b < 256; ++b) add("<byte>", 0, schema::TokenType::Byte, static_cast<uint8_t>(b));
  for (const auto& [piece, score] : v.normal) add(piece, score, schema::TokenType::Normal, 0);
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Tokenizer::Pack(fbb, t));
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

struct Built {
  std::vector<uint8_t> bytes;
  Tokenizer tokenizer;
};

void Build(const Vocab& v, Built* out) {
  schema::TokenizerT t;
  out->bytes = BuildTable(v, &t);
  const Error err = out->tokenizer.Init(flatbuffers::GetRoot<schema::Tokenizer>(out->bytes.data()),
                                        static_cast<uint32_t>(t.scores.size()));
  INFO(err.message());
  REQUIRE(err.ok());
}

std::vector<int32_t> Encode(const Tokenizer& t, const std::string& text, bool bos = false) {
  std::vector<int32_t> ids;
  const Error err = t.Encode(text, bos, /*parse_special=*/true, &ids);
  REQUIRE(err.ok());
  return ids;
}

std::string Decode(const Tokenizer& t, const std::vector<int32_t>& ids) {
  std::string out;
  int32_t prev = -1;
  for (int32_t id : ids) {
    out += t.Piece(prev, id);
    prev = id;
  }
  return out;
}

// Every id of the vocabulary named, used or not, so the table reads as the vocabulary.
[[maybe_unused]] constexpr int32_t kA = 259, kB = 260, kC = 261, kAB = 262, kBC = 263, kABC = 264, kSpace = 265, kSpaceA = 266;

Vocab Letters(float ab, float bc) {
  Vocab v;
  v.normal = {{"a", -10}, {"b", -10}, {"c", -10}, {"ab", ab}, {"bc", bc}, {"abc", -1}, {" ", -10}, {" a", -2}};
  return v;
}

}  // namespace

TEST_CASE("the best-scoring merge goes first") {
  Built b;
  Build(Letters(-5, -3), &b);  // "bc" beats "ab": a + bc, then abc
  CHECK(Encode(b.tokenizer, "abc") == std::vector<int32_t>{kABC});
  CHECK(Encode(b.tokenizer, "abcb") == std::vector<int32_t>{kABC, kB});
  CHECK(Encode(b.tokenizer, "cab") == std::vector<int32_t>{kC, kAB});
  Built d;
  Build(Letters(-3, -5), &d);  // "ab" beats "bc": ab + c, then abc; "bcab" -> ab first, then bc
  CHECK(Encode(d.tokenizer, "abc") == std::vector<int32_t>{kABC});
  CHECK(Encode(d.tokenizer, "bcab") == std::vector<int32_t>{kBC, kAB});
}

TEST_CASE("ties merge the leftmost pair") {
  Built b;
  Build(Letters(-4, -4), &b);
  // "abab": pairs ab(0), ba (no), ab(2): the left one first, then the right one.
  CHECK(Encode(b.tokenizer, "abab") == std::vector<int32_t>{kAB, kAB});
  // "bcbc": bc, cb (no), bc -> bc bc
  CHECK(Encode(b.tokenizer, "bcbc") == std::vector<int32_t>{kBC, kBC});
}

TEST_CASE("unknown characters fall back to their UTF-8 bytes") {
  Built b;
  Build(Letters(-5, -3), &b);
  // é is C3 A9; byte tokens are 3 + byte.
  CHECK(Encode(b.tokenizer, "a\xC3\xA9" "b") == std::vector<int32_t>{kA, 3 + 0xC3, 3 + 0xA9, kB});
  CHECK(Encode(b.tokenizer, "\n") == std::vector<int32_t>{3 + '\n'});
  // Byte tokens never merge with their neighbours.
  CHECK(Decode(b.tokenizer, Encode(b.tokenizer, "a\xF0\x9F\x98\x80" "bc")) == "a\xF0\x9F\x98\x80" "bc");
}

TEST_CASE("BOS, the dummy prefix and the space after BOS") {
  Vocab v = Letters(-5, -3);
  v.dummy_prefix = true;
  Built b;
  Build(v, &b);
  const std::vector<int32_t> ids = Encode(b.tokenizer, "abc", /*bos=*/true);
  CHECK(ids == std::vector<int32_t>{1, kSpaceA, kBC});  // " a" (-2) beats "bc" (-3); " abc" is no token
  CHECK(Encode(b.tokenizer, "a") == std::vector<int32_t>{kSpaceA});
  CHECK(Encode(b.tokenizer, "") .empty());
  // Decoding drops the leading space of the token right after BOS, and control tokens are empty.
  CHECK(Decode(b.tokenizer, {1, kSpaceA, kB}) == "ab");
  CHECK(Decode(b.tokenizer, {kSpaceA, kB}) == " ab");
  CHECK(Decode(b.tokenizer, {2, 0}).empty());
  CHECK(b.tokenizer.Piece(-1, 100000).empty());
}

TEST_CASE("bad tokenizer tables are refused with a reason") {
  schema::TokenizerT t;
  std::vector<uint8_t> bytes = BuildTable(Letters(-1, -1), &t);
  const auto* table = flatbuffers::GetRoot<schema::Tokenizer>(bytes.data());
  Tokenizer tok;
  Error err = tok.Init(table, static_cast<uint32_t>(t.scores.size()) + 1);
  CHECK(err.status() == Status::kInvalidModel);
  CHECK(err.message().find("disagree with the vocabulary size") != std::string::npos);

  t.bos_id = 5000;
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Tokenizer::Pack(fbb, &t));
  err = tok.Init(flatbuffers::GetRoot<schema::Tokenizer>(fbb.GetBufferPointer()), static_cast<uint32_t>(t.scores.size()));
  CHECK(err.status() == Status::kInvalidModel);
  CHECK(err.message().find("BOS id 5000 is out of range") != std::string::npos);

  t.bos_id = 1;
  t.piece_offsets[5] = t.piece_offsets[4] - 1;
  fbb.Clear();
  fbb.Finish(schema::Tokenizer::Pack(fbb, &t));
  err = tok.Init(flatbuffers::GetRoot<schema::Tokenizer>(fbb.GetBufferPointer()), static_cast<uint32_t>(t.scores.size()));
  CHECK(err.status() == Status::kInvalidModel);
  CHECK(err.message().find("offsets decrease") != std::string::npos);
}

TEST_CASE("round trips through real vocabularies") {
  const char* texts[] = {
      "Echoes of probability unfold, as I sense the nodes.",
      "  two spaces, a\ttab and a newline\n",
      "accents: caf\xC3\xA9 na\xC3\xAFve, CJK: \xE4\xB8\xAD\xE6\x96\x87, emoji: \xF0\x9F\x99\x82, digits 0123456789",
      "\xFF\xFE invalid UTF-8 \xC3",
  };
  for (const char* model : {"models/aidreams260K", "models/fortunes2M"}) {
    const std::string bin = test::SharedFile(std::string(model) + "/model.bin");
    const std::string tok = test::SharedFile(std::string(model) + "/tokenizer.bin");
    if (bin.empty() || tok.empty()) continue;
    test::TempDir dir;
    const std::string path = test::Convert(dir, bin, tok, convert::Quant::kInt8, "m");
    const std::vector<uint8_t> file = test::ReadFile(path);
    const auto* m = schema::GetSizePrefixedModel(file.data());
    Tokenizer t;
    REQUIRE(t.Init(m->tokenizer(), m->architecture()->vocab_size()).ok());
    for (const char* text : texts) {
      INFO(model << ": " << text);
      const std::vector<int32_t> ids = Encode(t, text, /*bos=*/true);
      CHECK(ids.size() < std::string(text).size() + 2);
      CHECK(Decode(t, ids) == text);
    }
  }
}

}  // namespace edgeformer

namespace edgeformer {
namespace {

// A SentencePiece-style RankedBPE table as the converter writes one from a Llama 2 tokenizer.json:
// 0 <unk>, 1 <s>, 2 </s>, 3..258 the byte-fallback tokens, then " ", "a", "b", "c", " a", "ab",
// " ab", "<x>" (added, not special); merges " a" < "a b" < " a b" by rank; normalizers Prepend
// and Replace write U+2581 for spaces.
[[maybe_unused]] constexpr int32_t kRSpace = 259, kRA = 260, kRB = 261, kRC = 262, kRSpaceA = 263, kRAB = 264, kRSpaceAB = 265, kRX = 266;

std::vector<uint8_t> RankedTable(schema::TokenizerT* t) {
  t->kind = schema::TokenizerKind::RankedBPE;
  t->unk_id = 0;
  t->bos_id = 1;
  t->byte_fallback = true;
  t->fuse_unk = true;
  t->marker_spaces = true;
  t->strip_space_after_bos = true;
  t->template_prefix = {1};
  t->piece_offsets.push_back(0);
  auto add = [&](const std::string& piece, schema::TokenType type, uint8_t byte) {
    t->piece_data.insert(t->piece_data.end(), piece.begin(), piece.end());
    t->piece_offsets.push_back(static_cast<uint32_t>(t->piece_data.size()));
    t->scores.push_back(0);
    t->types.push_back(type);
    t->byte_values.push_back(byte);
  };
  add("<unk>", schema::TokenType::Unknown, 0);
  add("<s>", schema::TokenType::Control, 0);
  add("</s>", schema::TokenType::Control, 0);
  for (int b = 0; b < 256; ++b) add("<byte>", schema::TokenType::Byte, static_cast<uint8_t>(b));
  for (const char* p : {" ", "a", "b", "c", " a", "ab", " ab", "<x>"}) add(p, schema::TokenType::Normal, 0);
  t->merges = {kRSpace, kRA, kRA, kRB, kRSpaceA, kRB};
  auto norm = [&](schema::NormalizerKind kind, const std::string& pattern, const std::string& content) {
    auto n = std::make_unique<schema::NormalizerStepT>();
    n->kind = kind;
    n->pattern = pattern;
    n->content = content;
    t->normalizers.push_back(std::move(n));
  };
  norm(schema::NormalizerKind::Prepend, "", "\xE2\x96\x81");
  norm(schema::NormalizerKind::Replace, " ", "\xE2\x96\x81");
  auto added = [&](int32_t id, const std::string& content, bool special) {
    auto a = std::make_unique<schema::AddedTokenT>();
    a->id = id;
    a->content = content;
    a->special = special;
    a->in_vocabulary = id < kRX;
    t->added_tokens.push_back(std::move(a));
  };
  added(1, "<s>", true);
  added(kRX, "<x>", false);
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Tokenizer::Pack(fbb, t));
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

std::vector<int32_t> EncodeRanked(const Tokenizer& t, const std::string& text, bool add, bool parse) {
  std::vector<int32_t> ids;
  REQUIRE(t.Encode(text, add, parse, &ids).ok());
  return ids;
}

TEST_CASE("ranked BPE: the pipeline, merges by rank, added tokens, byte fallback") {
  schema::TokenizerT t;
  const std::vector<uint8_t> bytes = RankedTable(&t);
  Tokenizer tok;
  REQUIRE(tok.Init(flatbuffers::GetRoot<schema::Tokenizer>(bytes.data()), static_cast<uint32_t>(t.scores.size())).ok());
  // "ab ab" -> "▁ab▁ab": " a" merges first (rank 0) in both words, then " a"+"b" (rank 2).
  CHECK(EncodeRanked(tok, "ab ab", false, true) == std::vector<int32_t>{kRSpaceAB, kRSpaceAB});
  // The template's BOS; "c" alone is "▁c": no " c" token and no merge, so " " then "c".
  CHECK(EncodeRanked(tok, "c", true, true) == std::vector<int32_t>{1, kRSpace, kRC});
  // "é" is no token: its two UTF-8 bytes' fallback tokens.
  CHECK(EncodeRanked(tok, "\xC3\xA9", false, true) == std::vector<int32_t>{kRSpace, 3 + 0xC3, 3 + 0xA9});
  // A literal U+2581 in the text is a space too; a special token in the text is one only when
  // parsed, and the text after it gets its own prefix.
  CHECK(EncodeRanked(tok, "\xE2\x96\x81" "a", false, true) == std::vector<int32_t>{kRSpace, kRSpaceA});
  CHECK(EncodeRanked(tok, "<s>a", false, true) == std::vector<int32_t>{1, kRSpaceA});
  CHECK(EncodeRanked(tok, "<s>a", false, false) ==
        std::vector<int32_t>{kRSpace, 3 + '<', 3 + 's', 3 + '>', kRA});
  // The added token that is not special is matched either way.
  CHECK(EncodeRanked(tok, "b<x>", false, false) == std::vector<int32_t>{kRSpace, kRB, kRX});
  CHECK(EncodeRanked(tok, "", true, true) == std::vector<int32_t>{1});
  // Decoding: after BOS (or at the start) the first space goes; pieces spell spaces.
  CHECK(Decode(tok, {1, kRSpaceAB, kRSpaceAB}) == "ab ab");
}

TEST_CASE("bad ranked BPE tables are refused with a reason, before any of it is used") {
  auto refused = [](const std::function<void(schema::TokenizerT*)>& spoil, const char* why) {
    schema::TokenizerT t;
    RankedTable(&t);
    spoil(&t);
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(schema::Tokenizer::Pack(fbb, &t));
    Tokenizer tok;
    const Error err = tok.Init(flatbuffers::GetRoot<schema::Tokenizer>(fbb.GetBufferPointer()),
                               static_cast<uint32_t>(t.scores.size()));
    CAPTURE(why);
    CAPTURE(err.message());
    CHECK(!err.ok());
    CHECK(err.message().find(why) != std::string::npos);
  };
  refused([](schema::TokenizerT* t) { t->added_tokens[1]->id = 5000; }, "added token's id is outside");
  refused([](schema::TokenizerT* t) { t->added_tokens[1]->id = 1; }, "is added twice");
  refused([](schema::TokenizerT* t) { t->added_tokens[1]->content.clear(); }, "has no content");
  refused([](schema::TokenizerT* t) { t->template_prefix = {-3}; }, "template id is outside");
  refused([](schema::TokenizerT* t) { t->template_suffix.assign(17, 1); }, "more than 16 ids");
  refused([](schema::TokenizerT* t) { t->normalizers[0]->kind = static_cast<schema::NormalizerKind>(99); },
          "normalizer of unknown kind");
  refused([](schema::TokenizerT* t) { t->normalizers[0]->content.assign(300, 'x'); }, "longer than 256 bytes");
  refused(
      [](schema::TokenizerT* t) {
        for (int i = 0; i < 17; ++i) t->normalizers.push_back(std::make_unique<schema::NormalizerStepT>());
      },
      "more than 16 normalizers");
  refused(
      [](schema::TokenizerT* t) {
        auto p = std::make_unique<schema::PreTokenizerStepT>();
        p->kind = schema::PreTokenizerKind::Metaspace;
        p->pattern = "ab";
        t->pre_tokenizers.push_back(std::move(p));
      },
      "replacement is not one character");
  refused(
      [](schema::TokenizerT* t) {
        auto p = std::make_unique<schema::PreTokenizerStepT>();
        p->kind = schema::PreTokenizerKind::Split;
        p->behavior = static_cast<schema::SplitBehavior>(7);
        t->pre_tokenizers.push_back(std::move(p));
      },
      "pre-tokenizer of unknown kind or option");
  refused(
      [](schema::TokenizerT* t) {
        auto p = std::make_unique<schema::PreTokenizerStepT>();
        p->kind = schema::PreTokenizerKind::ByteLevel;
        t->pre_tokenizers.push_back(std::move(p));
      },
      "no token for byte");
  refused([](schema::TokenizerT* t) { t->merges = {kRA, kRC}; }, "makes a piece that is not a token");
}

}  // namespace
}  // namespace edgeformer

namespace edgeformer {

TEST_CASE("normalizers that would multiply a text's size are stopped with an error, not run out of memory") {
  schema::TokenizerT t;
  RankedTable(&t);
  // Each step replaces every byte "a" by 256 of them: four steps would make 4 GB of one "a".
  for (int i = 0; i < 4; ++i) {
    auto n = std::make_unique<schema::NormalizerStepT>();
    n->kind = schema::NormalizerKind::Replace;
    n->pattern = "a";
    n->content.assign(256, 'a');
    t.normalizers.push_back(std::move(n));
  }
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Tokenizer::Pack(fbb, &t));
  Tokenizer tok;
  REQUIRE(tok.Init(flatbuffers::GetRoot<schema::Tokenizer>(fbb.GetBufferPointer()), static_cast<uint32_t>(t.scores.size())).ok());
  std::vector<int32_t> ids;
  const Error err = tok.Encode("aa", false, true, &ids);
  CHECK(err.status() == Status::kInvalidModel);
  CHECK(err.message().find("normalizers grow a text of 2 bytes") != std::string::npos);
}

}  // namespace edgeformer
