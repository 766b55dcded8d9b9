// Unicode text normalization as Hugging Face tokenizers' normalizers apply it (Rust's
// unicode-normalization crate and char::to_lowercase): the four normal forms and the full
// lowercase mapping, over the tables of normalize_tables.inc (scripts/gen_normalize_tables.py;
// the Unicode version is named there).
//
// Input is any bytes: a byte that does not start a valid UTF-8 sequence passes through unchanged
// and counts as a starter that composes with nothing. Output is appended to *out.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeformer {

enum class NormalForm : uint8_t { kNfc, kNfkc, kNfd, kNfkd };

void Normalize(std::string_view text, NormalForm form, std::string* out);

// Appends the full lowercase mapping of cp (one to three code points) to *out.
void AppendLowercase(uint32_t cp, std::vector<uint32_t>* out);

// Lowercases every character of `text` (invalid bytes pass through).
void Lowercase(std::string_view text, std::string* out);

// The canonical combining class of cp (0 for starters), exposed for tests.
uint8_t CombiningClass(uint32_t cp);

}  // namespace edgeformer
