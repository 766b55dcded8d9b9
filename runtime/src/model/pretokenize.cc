#include "model/pretokenize.h"

#include <algorithm>

#include "model/utf8.h"

namespace edgeformer {
namespace {

using utf8::CodeRange;
using utf8::InRanges;

#include "model/unicode_tables.inc"

constexpr uint32_t kInvalid = 0xFFFFFFFF;  // a byte that is not valid UTF-8: no category

// One character of text: its code point and its byte span.
struct Char {
  uint32_t cp;
  size_t begin, end;
};

// Decodes UTF-8; malformed, overlong or surrogate sequences give single kInvalid bytes.
std::vector<Char> Decode(std::string_view text) {
  std::vector<Char> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = utf8::Next(text, i, &cp);
    if (n == 0) {
      n = 1;
      cp = kInvalid;
    }
    out.push_back(Char{cp, i, i + n});
    i += n;
  }
  return out;
}

class Matcher {
 public:
  Matcher(const std::vector<Char>& c, Pretokenizer kind) : c_(c), kind_(kind) {}

  // Characters matched at position i (>= 1: every character is matched by some alternative).
  size_t Match(size_t i) const {
    size_t n = 0;
    if ((n = Contraction(i)) != 0) return n;
    if (kind_ == Pretokenizer::kGpt2) {
      if ((n = SpaceThen(i, &Matcher::L)) != 0) return n;
      if ((n = SpaceThen(i, &Matcher::N)) != 0) return n;
      if ((n = SpaceThen(i, &Matcher::Other)) != 0) return n;
    } else {
      // [^\r\n\p{L}\p{N}]?\p{L}+
      if (i + 1 < c_.size() && !NewLine(i) && !L(i) && !N(i) && L(i + 1)) return 1 + Run(i + 1, &Matcher::L);
      if (L(i)) return Run(i, &Matcher::L);
      // \p{N}{1,3} (Llama 3) or \p{N} (Qwen2)
      if (N(i)) return std::min(Run(i, &Matcher::N), size_t{kind_ == Pretokenizer::kLlama3 ? 3u : 1u});
      // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
      if ((n = SpaceThen(i, &Matcher::Other)) != 0) return n + Run(i + n, &Matcher::NewLine);
      // \s*[\r\n]+: the whitespace run up to and including its last newline.
      const size_t ws = Run(i, &Matcher::Space);
      for (size_t k = ws; k > 0; --k) {
        if (NewLine(i + k - 1)) return k;
      }
    }
    // \s+(?!\S), then \s+
    const size_t ws = Run(i, &Matcher::Space);
    if (ws > 0) {
      if (i + ws == c_.size()) return ws;
      return ws > 1 ? ws - 1 : ws;
    }
    return 1;  // unreachable: every character is a letter, number, space or other
  }

 private:
  bool L(size_t i) const { return i < c_.size() && c_[i].cp != kInvalid && IsLetter(c_[i].cp); }
  bool N(size_t i) const { return i < c_.size() && c_[i].cp != kInvalid && IsNumber(c_[i].cp); }
  bool Space(size_t i) const { return i < c_.size() && c_[i].cp != kInvalid && IsWhiteSpace(c_[i].cp); }
  bool NewLine(size_t i) const { return i < c_.size() && (c_[i].cp == '\r' || c_[i].cp == '\n'); }
  bool Other(size_t i) const { return i < c_.size() && !L(i) && !N(i) && !Space(i); }

  size_t Run(size_t i, bool (Matcher::*pred)(size_t) const) const {
    size_t n = 0;
    while ((this->*pred)(i + n)) ++n;
    return n;
  }

  // ' ?X+': an optional U+0020 then a run of X.
  size_t SpaceThen(size_t i, bool (Matcher::*pred)(size_t) const) const {
    if (i < c_.size() && c_[i].cp == ' ' && (this->*pred)(i + 1)) return 1 + Run(i + 1, pred);
    return Run(i, pred);
  }

  // 's 't 're 've 'm 'll 'd; Llama 3 and Qwen2 ignore case.
  size_t Contraction(size_t i) const {
    if (i >= c_.size() || c_[i].cp != '\'') return 0;
    const bool fold = kind_ != Pretokenizer::kGpt2;
    auto at = [&](size_t k, char want) {
      if (i + k >= c_.size()) return false;
      uint32_t cp = c_[i + k].cp;
      if (fold && cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
      return cp == static_cast<uint32_t>(want);
    };
    if (at(1, 's') || at(1, 't') || at(1, 'm') || at(1, 'd')) return 2;
    if ((at(1, 'r') || at(1, 'v')) && at(2, 'e')) return 3;
    if (at(1, 'l') && at(2, 'l')) return 3;
    return 0;
  }

  const std::vector<Char>& c_;
  Pretokenizer kind_;
};

}  // namespace

bool IsLetter(uint32_t cp) { return InRanges(kLetters, cp); }
bool IsNumber(uint32_t cp) { return InRanges(kNumbers, cp); }
bool IsWordChar(uint32_t cp) { return InRanges(kWordChars, cp); }
bool JoinsGrapheme(uint32_t cp) { return InRanges(kGraphemeJoins, cp); }

bool IsWhiteSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

void Pretokenize(std::string_view text, Pretokenizer kind, std::vector<std::string_view>* chunks) {
  if (text.empty()) return;
  if (kind == Pretokenizer::kNone) {
    chunks->push_back(text);
    return;
  }
  const std::vector<Char> c = Decode(text);
  const Matcher m(c, kind);
  for (size_t i = 0; i < c.size();) {
    const size_t n = m.Match(i);
    chunks->push_back(text.substr(c[i].begin, c[i + n - 1].end - c[i].begin));
    i += n;
  }
}

}  // namespace edgeformer
