// Unicode normalization (NFC, NFKC, NFD, NFKD) and lowercasing against Python's unicodedata
// (tests/reference/normalization.py, the reference_normalization fixture): every code point with
// a decomposition, a combining class or a lowercase mapping, every Hangul syllable, and random
// sequences of starters, jamo and combining marks. Bytes that are not UTF-8 pass through.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "model/normalize.h"

namespace edgeformer {
namespace {

std::string Apply(const std::string& text, int form) {
  std::string out;
  if (form < 4) {
    static constexpr NormalForm kForms[] = {NormalForm::kNfc, NormalForm::kNfkc, NormalForm::kNfd, NormalForm::kNfkd};
    Normalize(text, kForms[form], &out);
  } else {
    Lowercase(text, &out);
  }
  return out;
}

TEST_CASE("the normal forms and lowercase agree with Python's unicodedata") {
  const char* dir = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  std::ifstream in(std::string(dir) + "/normalization.json");
  REQUIRE(in.good());
  const nlohmann::json ref = nlohmann::json::parse(in);
  const char* kNames[] = {"NFC", "NFKC", "NFD", "NFKD", "lowercase"};
  size_t checked = 0, wrong[5] = {};
  for (const auto& row : ref["rows"]) {
    const std::string text = row[0];
    for (int form = 0; form < 5; ++form) {
      const std::string want = row[form + 1], got = Apply(text, form);
      if (got != want && wrong[form]++ < 5) {
        CAPTURE(kNames[form]);
        CAPTURE(text);
        CHECK(got == want);
      }
      ++checked;
    }
  }
  for (int form = 0; form < 5; ++form) {
    CAPTURE(kNames[form]);
    CHECK(wrong[form] == 0);
  }
  CHECK(checked > 150000);
  MESSAGE(checked << " normalizations of " << ref["rows"].size() << " texts, Unicode " << ref["unicode"].get<std::string>());
}

TEST_CASE("bytes that are not UTF-8 pass through every form untouched") {
  const std::string text = "a\xCC\x81\xFF\xC3 e\xCC\x81\x80";  // a + U+0301, 0xFF, a cut sequence, e + U+0301, a stray byte
  CHECK(Apply(text, 0) == "\xC3\xA1\xFF\xC3 \xC3\xA9\x80");
  CHECK(Apply(text, 2) == text);
  CHECK(Apply("\xFF" "A\xCE\xA3", 4) == "\xFF" "a\xCF\x83");
}

TEST_CASE("a blocked mark does not compose; reordering lets an unblocked one") {
  // a, U+0323 (dot below, class 220), U+0302 (circumflex, 230): NFC composes a + U+0323 first, then
  // U+1EA1 + U+0302 -> U+1EAD.
  CHECK(Apply("a\xCC\x82\xCC\xA3", 0) == "\xE1\xBA\xAD");
  // Two marks of the same class: the second is blocked by the first (a + U+0301 U+0301).
  CHECK(Apply("a\xCC\x81\xCC\x81", 0) == "\xC3\xA1\xCC\x81");
  // Hangul: L + V + T composes into one syllable; NFD takes it apart again.
  CHECK(Apply("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", 0) == "\xED\x95\x9C");
  CHECK(Apply("\xED\x95\x9C", 2) == "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB");
}

}  // namespace
}  // namespace edgeformer
