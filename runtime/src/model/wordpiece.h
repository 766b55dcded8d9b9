// The text side of BERT's WordPiece tokenizer, as Hugging Face tokenizers runs it: BertNormalizer
// (clean_text drops NUL, U+FFFD and characters of category C* and maps White_Space to ' ';
// handle_chinese_chars puts spaces around CJK ideographs; strip_accents decomposes (NFD) and drops
// the Mn marks; lowercase applies the full Unicode lowercase mapping), then BertPreTokenizer
// (split at White_Space, and every punctuation character, ASCII or category P*, a word of its
// own). The vocabulary matching is in Tokenizer. Bytes that are not UTF-8 count as U+FFFD.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeformer {

struct WordPieceNormalizer {
  bool clean_text = true;
  bool chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};

// Appends the words of `text` (UTF-8, normalized) to `words`.
void WordPieceWords(std::string_view text, const WordPieceNormalizer& n, std::vector<std::string>* words);

// Unicode classes used, exposed for tests.
bool IsBertPunctuation(uint32_t cp);
bool IsChineseChar(uint32_t cp);

}  // namespace edgeformer
