// Tokenizers exactly as Hugging Face's: real tokenizer.json files (Llama 2, Llama 3 and 3.1,
// Qwen 2.5 and 3, Gemma 3, GPT-2) and variants with the pipeline features those do not use,
// converted as edgeformer-convert converts them, encode every hard text to the ids Hugging Face's
// tokenizers library gives (tests/reference/hf_tokenizers.mjs, the oracle, run by the
// reference_hf_tokenizers fixture), with and without special tokens added and parsed; the
// pieces of the ids spell Hugging Face's decoded text.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "converter/hf_tokenizer.h"
#include "model/tokenizer.h"
#include "model_generated.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

std::string CasesPath() {
  const char* dir = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  return std::string(dir) + "/hf_tokenizers/cases.json";
}

std::string Join(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

TEST_CASE("real tokenizer.json files encode and decode as Hugging Face's tokenizers library") {
  std::ifstream in(CasesPath());
  REQUIRE_MESSAGE(in.good(), "no " << CasesPath() << ": the reference_hf_tokenizers fixture needs node and npm");
  const nlohmann::json all = nlohmann::json::parse(in);
  REQUIRE(all["tokenizers"].size() >= 8);
  size_t total = 0, agree = 0;
  for (const auto& entry : all["tokenizers"]) {
    const std::string name = entry["name"];
    const uint32_t vocab_size = entry["vocab_size"];
    CAPTURE(name);
    schema::TokenizerT table;
    const Error read = convert::ReadHfTokenizer(entry["path"], vocab_size, &table);
    INFO(read.message());
    REQUIRE(read.ok());
    test::PackedTokenizer packed;
    const Error init = packed.Init(table, vocab_size);
    const Tokenizer& tok = packed.tok;
    INFO(init.message());
    REQUIRE(init.ok());
    for (const auto& c : entry["cases"]) {
      const std::string text = c["text"];
      const bool add = c["add_special"], parse = c["parse_special"];
      const std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
      std::vector<int32_t> got;
      REQUIRE(tok.Encode(text, add, parse, &got).ok());
      CAPTURE(text);
      CAPTURE(add);
      CAPTURE(parse);
      const std::string want_ids = Join(want), got_ids = Join(got);
      CAPTURE(want_ids);
      CAPTURE(got_ids);
      CHECK(got == want);
      ++total;
      agree += got == want;
      // Decoding: special tokens give nothing, the rest their text. (The space a SentencePiece
      // vocabulary's first piece has is dropped after a special token, where Hugging Face drops
      // it at the start of the text only: texts with special tokens after others are left out.)
      if (got != want || !add) continue;
      bool special_inside = false;
      for (size_t i = 1; i < got.size(); ++i) {
        auto is_special = [&](int32_t id) { return table.types[id] == schema::TokenType::Control; };
        const bool special = is_special(got[i]) && !is_special(got[i - 1]);
        special_inside = special_inside || special;
      }
      if (special_inside) continue;
      std::string decoded;
      for (size_t i = 0; i < got.size(); ++i) decoded += tok.Piece(i ? got[i - 1] : -1, got[i]);
      const std::string want_text = c["decoded"];
      CAPTURE(decoded);
      CAPTURE(want_text);
      CHECK(decoded == want_text);
    }
  }
  MESSAGE(agree << " of " << total << " encodings agree with Hugging Face's");
}

}  // namespace
}  // namespace edgeformer
