// SentencePiece unigram tokenizers exactly as their references: models trained by Google's
// sentencepiece (tests/reference/unigram_reference.py, the reference_unigram fixture) read from
// their .spm files encode every hard text to spm's ids and decode to spm's text; read through
// Marian's vocab.json they give MarianTokenizer's ids; the same models as Hugging Face's
// tokenizer.json (T5's pipeline) give the tokenizers library's ids (tests/reference/hf_unigram.mjs).
// Hostile charsmaps and protobufs give errors or wrong text, never a bad read (run under ASan).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "converter/hf_tokenizer.h"
#include "converter/spm_model.h"
#include "model/precompiled.h"
#include "model/tokenizer.h"
#include "model_generated.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

std::string Dir() {
  const char* dir = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  return std::string(dir) + "/unigram";
}

nlohmann::json Load(const std::string& name) {
  std::ifstream in(Dir() + "/" + name);
  REQUIRE_MESSAGE(in.good(), "no " << Dir() << "/" << name << ": the reference_unigram fixture makes it");
  return nlohmann::json::parse(in);
}

std::string Join(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

std::string Decode(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) text += tok.Piece(i ? ids[i - 1] : -1, ids[i]);
  return text;
}

TEST_CASE("SentencePiece unigram models encode and decode as sentencepiece") {
  const nlohmann::json all = Load("spm_cases.json");
  REQUIRE(all.size() == 3);
  for (const auto& [name, entry] : all.items()) {
    CAPTURE(name);
    Result<convert::SpmModel> spm = convert::ReadSpmModel(entry["path"]);
    REQUIRE(spm.ok());
    const uint32_t vocab_size = entry["vocab_size"];
    schema::TokenizerT table;
    REQUIRE(convert::BuildSpmTokenizer(name, spm.value(), vocab_size, nullptr, false, &table).ok());
    test::PackedTokenizer packed;
    const Error init = packed.Init(table, vocab_size);
    INFO(init.message());
    REQUIRE(init.ok());
    for (const auto& c : entry["cases"]) {
      const std::string text = c["text"];
      const std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
      std::vector<int32_t> got;
      REQUIRE(packed.tok.Encode(text, false, false, &got).ok());
      const std::string want_ids = Join(want), got_ids = Join(got);
      CAPTURE(text);
      CAPTURE(want_ids);
      CAPTURE(got_ids);
      CHECK(got == want);
      // Decoding, where spm's rules are the runtime's: spm writes an unknown as " \u2047 " and
      // drops the leading space of pieces until the text is not empty (the runtime: of the first).
      const bool unknown = std::find(got.begin(), got.end(), table.unk_id) != got.end();
      const bool empty_first = !got.empty() && packed.tok.Piece(-1, got[0]).empty();
      if (got != want || unknown || empty_first) continue;
      const std::string decoded = Decode(packed.tok, got), want_text = c["decoded"];
      CAPTURE(decoded);
      CAPTURE(want_text);
      CHECK(decoded == want_text);
    }
  }
}

TEST_CASE("Marian's source.spm through vocab.json gives MarianTokenizer's ids") {
  const nlohmann::json all = Load("spm_cases.json");
  for (const auto& [name, entry] : all.items()) {
    CAPTURE(name);
    std::ifstream in(Dir() + "/" + name + "/vocab.json");
    std::unordered_map<std::string, int32_t> vocab = nlohmann::json::parse(in).get<std::unordered_map<std::string, int32_t>>();
    const uint32_t vocab_size = entry["marian_vocab_size"];
    convert::ModelData model;
    const Error read = convert::ReadMarianTokenizers(Dir() + "/" + name, vocab_size, vocab_size, true, &model);
    INFO(read.message());
    REQUIRE(read.ok());
    REQUIRE(model.source_tokenizer != nullptr);
    const schema::TokenizerT& table = *model.source_tokenizer;
    test::PackedTokenizer packed;
    REQUIRE(packed.Init(table, vocab_size).ok());
    // Every case, those where spm chose a piece vocab.json lacks (<unk>) and those with an
    // unknown character vocab.json has included.
    size_t with_unk = 0;
    for (const auto& c : entry["cases"]) {
      const std::string text = c["text"];
      const std::vector<int32_t> want = c["marian"].get<std::vector<int32_t>>();
      std::vector<int32_t> got;
      REQUIRE(packed.tok.Encode(text, true, false, &got).ok());
      CAPTURE(text);
      CAPTURE(Join(want));
      CAPTURE(Join(got));
      CHECK(got == want);
      with_unk += std::find(want.begin(), want.end(), vocab["<unk>"]) != want.end();
    }
    CHECK(with_unk > 0);  // the vocabulary's gaps were exercised
    // Hostile segment-only pieces: refused before use.
    if (table.segment_scores.size() >= 2) {
      for (int edit = 0; edit < 4; ++edit) {
        schema::TokenizerT bad = table;
        if (edit == 0) std::swap(bad.segment_offsets[1], bad.segment_offsets[2]);
        if (edit == 1) bad.segment_offsets.back() += 1;
        if (edit == 2) bad.segment_scores[0] = std::nanf("");
        if (edit == 3) bad.segment_offsets.pop_back();
        test::PackedTokenizer hostile;
        const Error err = hostile.Init(bad, vocab_size);
        CAPTURE(edit);
        CHECK(err.status() == Status::kInvalidModel);
      }
    }
  }
}

TEST_CASE("T5-style tokenizer.json Unigram files encode as Hugging Face's tokenizers library") {
  const nlohmann::json all = Load("hf_cases.json");
  REQUIRE(all["tokenizers"].size() == 6);
  size_t total = 0, agree = 0;
  for (const auto& entry : all["tokenizers"]) {
    const std::string name = entry["name"];
    const uint32_t vocab_size = entry["vocab_size"];
    CAPTURE(name);
    schema::TokenizerT table;
    const Error read = convert::ReadHfTokenizer(entry["path"], vocab_size, &table);
    INFO(read.message());
    REQUIRE(read.ok());
    CHECK(table.kind == schema::TokenizerKind::Unigram);
    test::PackedTokenizer packed;
    const Error init = packed.Init(table, vocab_size);
    INFO(init.message());
    REQUIRE(init.ok());
    for (const auto& c : entry["cases"]) {
      const std::string text = c["text"];
      const bool add = c["add_special"];
      const std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
      std::vector<int32_t> got;
      REQUIRE(packed.tok.Encode(text, add, true, &got).ok());
      CAPTURE(text);
      CAPTURE(add);
      CAPTURE(Join(want));
      CAPTURE(Join(got));
      CHECK(got == want);
      ++total;
      agree += got == want;
      // Decoding without special tokens: those Hugging Face skips, the unknown piece too.
      const bool unknown = std::find(got.begin(), got.end(), table.unk_id) != got.end();
      if (got != want || add || unknown) continue;
      bool special_inside = false;
      for (size_t i = 1; i < got.size(); ++i) special_inside = special_inside || table.types[got[i]] == schema::TokenType::Control;
      if (special_inside) continue;
      const std::string decoded = Decode(packed.tok, got), want_text = c["decoded"];
      CAPTURE(decoded);
      CAPTURE(want_text);
      CHECK(decoded == want_text);
    }
  }
  MESSAGE(agree << " of " << total << " encodings agree with Hugging Face's");
}

TEST_CASE("hostile charsmaps and SentencePiece files: errors or other text, never a bad read") {
  Result<convert::SpmModel> spm = convert::ReadSpmModel(Load("spm_cases.json")["nmt"]["path"]);
  REQUIRE(spm.ok());
  const std::string map = spm.value().charsmap;
  REQUIRE(map.size() > 1000);
  const std::vector<std::string> texts = {"ＡＢＣ ﬁ ½ e\u0301 \xF0\x9F\x98\x80", "\xFF\xC3 plain text \xE2\x82", "①②③ ™"};
  std::mt19937 rng(5);
  size_t accepted = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string m = map;
    const int kind = trial % 4;
    if (kind == 0) {  // a unit set to a random value (offsets, labels, leaves, values)
      const size_t unit = 1 + rng() % ((m.size() - 4) / 4 - 1);
      const uint32_t v = rng();
      std::memcpy(&m[4 + 4 * unit], &v, 4);
    } else if (kind == 1) {  // random bytes anywhere
      for (int k = 0; k < 8; ++k) m[rng() % m.size()] = static_cast<char>(rng());
    } else if (kind == 2) {  // truncated
      m.resize(rng() % m.size());
    } else {  // the trie size
      const uint32_t v = trial < 200 ? rng() : static_cast<uint32_t>(m.size() - 4 + (rng() % 9) - 4);
      std::memcpy(&m[0], &v, 4);
    }
    CharsMap cm;
    if (!cm.Init(reinterpret_cast<const uint8_t*>(m.data()), m.size()).ok()) continue;
    ++accepted;
    for (const std::string& t : texts) {
      std::string out;
      (void)cm.Normalize(t, &out, 1 << 16);
    }
  }
  CHECK(accepted > 100);  // most mutations keep a valid header: their walks were exercised

  // The ModelProto truncated and mutated: an error or a model, never a bad read.
  std::ifstream in(Load("spm_cases.json")["bytes"]["path"].get<std::string>(), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string path = Dir() + "/hostile.spm";
  size_t refused = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::string b = bytes;
    if (trial % 2 == 0) {
      b.resize(rng() % b.size());
    } else {
      for (int k = 0; k < 4; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    }
    std::ofstream(path, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
    Result<convert::SpmModel> m = convert::ReadSpmModel(path);
    if (!m.ok()) {
      ++refused;
      continue;
    }
    schema::TokenizerT table;
    const uint32_t n = static_cast<uint32_t>(m.value().pieces.size());
    if (!convert::BuildSpmTokenizer("hostile", m.value(), n, nullptr, true, &table).ok()) continue;
    test::PackedTokenizer packed;
    if (!packed.Init(table, n).ok()) continue;
    std::vector<int32_t> ids;
    (void)packed.tok.Encode(texts[0], true, true, &ids);
  }
  std::remove(path.c_str());
  CHECK(refused > 50);
}

}  // namespace
}  // namespace edgeformer
