#include "model/wordpiece.h"

#include <algorithm>

#include "model/normalize.h"
#include "model/pretokenize.h"
#include "model/utf8.h"

namespace edgeformer {
namespace {

using utf8::CodeRange;
using utf8::InRanges;
using utf8::CodeMapping;
using utf8::CodePair;

#include "model/wordpiece_tables.inc"

constexpr uint32_t kReplacement = 0xFFFD;

// UTF-8 to code points; malformed sequences become U+FFFD, one per byte.
void Decode(std::string_view text, std::vector<uint32_t>* out) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = utf8::Next(text, i, &cp);
    if (n == 0) {
      n = 1;
      cp = kReplacement;
    }
    out->push_back(cp);
    i += n;
  }
}

// Appends cp with its accents stripped: NFD less the Mn marks (Hangul syllables decompose into
// their jamo by the Unicode algorithm).
void StripAccents(uint32_t cp, std::vector<uint32_t>* out) {
  if (InRanges(kMarks, cp)) return;
  if (cp >= 0xAC00 && cp <= 0xD7A3) {
    const uint32_t s = cp - 0xAC00;
    out->push_back(0x1100 + s / 588);
    out->push_back(0x1161 + (s % 588) / 28);
    if (s % 28 != 0) out->push_back(0x11A7 + s % 28);
    return;
  }
  if (const CodePair* p = utf8::FindFrom(kStrip, cp)) {
    out->push_back(p->to);
  } else if (const CodeMapping* m = utf8::FindFrom(kStripLong, cp)) {
    out->insert(out->end(), m->to, m->to + m->n);
  } else {
    out->push_back(cp);
  }
}

}  // namespace

bool IsBertPunctuation(uint32_t cp) {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) ||
         InRanges(kPunctuation, cp);
}

bool IsChineseChar(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void WordPieceWords(std::string_view text, const WordPieceNormalizer& n, std::vector<std::string>* words) {
  std::vector<uint32_t> cps, next;
  Decode(text, &cps);
  if (n.clean_text) {
    next.clear();
    for (uint32_t cp : cps) {
      const bool space = cp == '\t' || cp == '\n' || cp == '\r' || IsWhiteSpace(cp);
      if (space) {
        next.push_back(' ');
      } else if (cp != 0 && cp != kReplacement && !InRanges(kOther, cp)) {
        next.push_back(cp);
      }
    }
    cps.swap(next);
  }
  if (n.chinese_chars) {
    next.clear();
    for (uint32_t cp : cps) {
      if (IsChineseChar(cp)) {
        next.push_back(' ');
        next.push_back(cp);
        next.push_back(' ');
      } else {
        next.push_back(cp);
      }
    }
    cps.swap(next);
  }
  if (n.strip_accents) {
    next.clear();
    for (uint32_t cp : cps) StripAccents(cp, &next);
    cps.swap(next);
  }
  if (n.lowercase) {
    next.clear();
    for (uint32_t cp : cps) AppendLowercase(cp, &next);
    cps.swap(next);
  }
  // Words: runs between White_Space, with each punctuation character on its own.
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words->push_back(word);
    word.clear();
  };
  for (uint32_t cp : cps) {
    if (IsWhiteSpace(cp)) {
      flush();
    } else if (IsBertPunctuation(cp)) {
      flush();
      utf8::Append(cp, &word);
      flush();
    } else {
      utf8::Append(cp, &word);
    }
  }
  flush();
}

}  // namespace edgeformer
