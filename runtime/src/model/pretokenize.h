// The pre-tokenizers of byte-level BPE vocabularies: the regular expressions GPT-2, Llama 3 and
// Qwen2 split text with before BPE, written out by hand (no regex engine) over Unicode code points:
//
//   GPT-2:  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
//            |\s*[\r\n]+|\s+(?!\S)|\s+
//   Qwen2:  as Llama 3 with \p{N} for \p{N}{1,3}
//
// \p{L} and \p{N} are the Unicode general categories (unicode_tables.inc), \s is White_Space.
// Bytes that are not valid UTF-8 count as one-byte characters of no category.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace edgeformer {

enum class Pretokenizer : uint8_t { kNone = 0, kGpt2 = 1, kLlama3 = 2, kQwen2 = 3 };

// Appends to `chunks` the consecutive pieces of `text` that the pattern matches; together they
// cover `text` exactly. kNone gives the whole text as one chunk (when not empty).
void Pretokenize(std::string_view text, Pretokenizer kind, std::vector<std::string_view>* chunks);

// Unicode classes used by the patterns, exposed for tests.
bool IsLetter(uint32_t cp);
bool IsNumber(uint32_t cp);
bool IsWhiteSpace(uint32_t cp);
bool IsWordChar(uint32_t cp);
// Whether cp joins the grapheme cluster before it (Extend, SpacingMark, ZWJ: approximated).
bool JoinsGrapheme(uint32_t cp);  // \w: Alphabetic, M, Nd, Pc, Join_Control

}  // namespace edgeformer
