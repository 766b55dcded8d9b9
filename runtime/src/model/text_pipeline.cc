#include "model/text_pipeline.h"

#include <algorithm>
#include <utility>

#include "model/normalize.h"
#include "model/utf8.h"

namespace edgeformer {
namespace {

// [begin, end) of a piece, and whether a pattern matched it.
struct Span {
  size_t begin, end;
  bool match;
};

// Length of the character at text[i]: its UTF-8 sequence, or 1 for a byte that starts none.
size_t CharLength(const std::string& text, size_t i, uint32_t* cp) {
  const size_t n = utf8::Next(text, i, cp);
  if (n == 0) *cp = 0xFFFFFFFF;
  return n == 0 ? 1 : n;
}

// The length *text would have after ReplaceAll.
size_t ReplacedLength(const std::string& text, const std::string& pattern, const std::string& content) {
  if (pattern.empty()) return text.size();
  size_t count = 0;
  for (size_t at = 0; (at = text.find(pattern, at)) != std::string::npos; at += pattern.size()) ++count;
  return text.size() - count * pattern.size() + count * content.size();
}

void ReplaceAll(std::string* text, const std::string& pattern, const std::string& content) {
  if (pattern.empty()) return;
  std::string out;
  size_t start = 0;
  for (size_t at; (at = text->find(pattern, start)) != std::string::npos; start = at + pattern.size()) {
    out.append(*text, start, at - start);
    out += content;
  }
  if (start == 0) return;
  out.append(*text, start, std::string::npos);
  text->swap(out);
}

void Strip(std::string* text, bool left, bool right) {
  size_t begin = 0, end = text->size();
  uint32_t cp = 0;
  while (left && begin < end) {
    const size_t n = CharLength(*text, begin, &cp);
    if (!IsWhiteSpace(cp)) break;
    begin += n;
  }
  while (right && end > begin) {
    size_t start = end - 1;  // back to the start of the last character
    while (start > begin && (static_cast<uint8_t>((*text)[start]) & 0xC0) == 0x80 && end - start < 4) --start;
    const size_t n = CharLength(*text, start, &cp);
    if (start + n != end || !IsWhiteSpace(cp)) break;
    end = start;
  }
  *text = text->substr(begin, end - begin);
}

// Runs of ' ' become one; left/right drop the ' ' at the start/end.
void CollapseSpaces(std::string* text, bool left, bool right) {
  std::string out;
  out.reserve(text->size());
  for (const char c : *text) {
    if (c == ' ' && ((out.empty() && left) || (!out.empty() && out.back() == ' '))) continue;
    out.push_back(c);
  }
  if (right && !out.empty() && out.back() == ' ') out.pop_back();
  text->swap(out);
}

// Spans that tile `text`: every match of the step's pattern, and the text between matches.
std::vector<Span> FindMatches(const std::string& text, const PreTokenizerStep& step) {
  std::vector<Span> spans;
  if (text.empty()) return spans;
  auto by_char = [&](auto is_match) {
    size_t last = 0;
    uint32_t cp = 0;
    for (size_t i = 0; i < text.size();) {
      const size_t n = CharLength(text, i, &cp);
      if (is_match(text, i, n, cp)) {
        if (last < i) spans.push_back({last, i, false});
        spans.push_back({i, i + n, true});
        last = i + n;
      }
      i += n;
    }
    if (last < text.size()) spans.push_back({last, text.size(), false});
  };
  switch (step.kind) {
    case PreTokenizerStep::Kind::kSplit:
      if (step.regex != Pretokenizer::kNone) {
        // The known patterns match every character: their matches tile the text.
        std::vector<std::string_view> chunks;
        Pretokenize(text, step.regex, &chunks);
        for (std::string_view c : chunks) {
          const size_t begin = static_cast<size_t>(c.data() - text.data());
          spans.push_back({begin, begin + c.size(), true});
        }
      } else if (step.pattern.empty()) {
        spans.push_back({0, text.size(), false});
      } else {
        size_t last = 0;
        for (size_t at; (at = text.find(step.pattern, last)) != std::string::npos; last = at + step.pattern.size()) {
          if (last < at) spans.push_back({last, at, false});
          spans.push_back({at, at + step.pattern.size(), true});
        }
        if (last < text.size()) spans.push_back({last, text.size(), false});
      }
      break;
    case PreTokenizerStep::Kind::kDigits:
      by_char([](const std::string&, size_t, size_t, uint32_t cp) { return cp != 0xFFFFFFFF && IsNumber(cp); });
      break;
    case PreTokenizerStep::Kind::kWhitespaceSplit:
      by_char([](const std::string&, size_t, size_t, uint32_t cp) { return cp != 0xFFFFFFFF && IsWhiteSpace(cp); });
      break;
    case PreTokenizerStep::Kind::kMetaspace:
      by_char([&](const std::string& t, size_t i, size_t n, uint32_t) {
        return n == step.pattern.size() && t.compare(i, n, step.pattern) == 0;
      });
      break;
    case PreTokenizerStep::Kind::kByteLevel:  // SplitPiece splits it with the GPT-2 pattern
      break;
  }
  if (step.invert) {
    for (Span& s : spans) s.match = !s.match;
  }
  return spans;
}

// NormalizedString::split's behaviors: which spans are kept, and which merge.
std::vector<Span> ApplyBehavior(const std::vector<Span>& matches, SplitBehavior behavior) {
  std::vector<Span> out;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const Span& s : matches) out.push_back({s.begin, s.end, false});
      break;
    case SplitBehavior::kRemoved:
      out = matches;  // removed below: match marks the spans to drop
      break;
    case SplitBehavior::kContiguous:
      for (const Span& s : matches) {
        if (s.match == previous_match && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back({s.begin, s.end, false});
        }
        previous_match = s.match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Span& s : matches) {
        if (s.match && !previous_match && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back({s.begin, s.end, false});
        }
        previous_match = s.match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (size_t k = matches.size(); k-- > 0;) {
        const Span& s = matches[k];
        if (s.match && !previous_match && !out.empty()) {
          out.back().begin = s.begin;
        } else {
          out.push_back({s.begin, s.end, false});
        }
        previous_match = s.match;
      }
      std::reverse(out.begin(), out.end());
      break;
  }
  return out;
}

// Splits one piece by one step, appending the non-empty results to *out.
void SplitPiece(const PreTokenizerStep& step, TextPiece piece, std::vector<TextPiece>* out) {
  std::string& text = piece.text;
  SplitBehavior behavior = step.behavior;
  std::vector<Span> spans;
  switch (step.kind) {
    case PreTokenizerStep::Kind::kByteLevel:
      if (step.add_prefix_space && (text.empty() || text[0] != ' ')) text.insert(0, 1, ' ');
      if (!step.use_regex) {
        if (!text.empty()) out->push_back(std::move(piece));
        return;
      }
      {
        PreTokenizerStep gpt2;
        gpt2.regex = Pretokenizer::kGpt2;
        spans = FindMatches(text, gpt2);
      }
      behavior = SplitBehavior::kIsolated;
      break;
    case PreTokenizerStep::Kind::kMetaspace:
      ReplaceAll(&text, " ", step.pattern);
      if ((step.prepend == PrependScheme::kAlways || (step.prepend == PrependScheme::kFirst && piece.at_start)) &&
          text.compare(0, step.pattern.size(), step.pattern) != 0) {
        text.insert(0, step.pattern);
      }
      if (!step.split) {
        if (!text.empty()) out->push_back(std::move(piece));
        return;
      }
      spans = FindMatches(text, step);
      behavior = SplitBehavior::kMergedWithNext;
      break;
    case PreTokenizerStep::Kind::kDigits:
      spans = FindMatches(text, step);
      behavior = step.individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous;
      break;
    case PreTokenizerStep::Kind::kSplit:
      spans = FindMatches(text, step);
      break;
    case PreTokenizerStep::Kind::kWhitespaceSplit:
      spans = FindMatches(text, step);
      behavior = SplitBehavior::kRemoved;
      break;
  }
  for (const Span& s : ApplyBehavior(spans, behavior)) {
    if (s.match || s.begin == s.end) continue;  // kRemoved's matches, and empty pieces
    out->push_back(TextPiece{text.substr(s.begin, s.end - s.begin), piece.at_start && s.begin == 0});
  }
}

}  // namespace

bool ApplyNormalizers(const std::vector<NormalizerStep>& steps, std::string* text, size_t max_bytes) {
  std::string out;
  for (const NormalizerStep& step : steps) {
    // Replace and Prepend are checked before they run; the other steps, whose growth is bounded
    // (NFKC's longest expansion is 18 characters), on their result.
    if ((step.kind == NormalizerStep::Kind::kReplace && ReplacedLength(*text, step.pattern, step.content) > max_bytes) ||
        (step.kind == NormalizerStep::Kind::kPrepend && text->size() + step.content.size() > max_bytes)) {
      return false;
    }
    switch (step.kind) {
      case NormalizerStep::Kind::kNfc:
      case NormalizerStep::Kind::kNfkc:
      case NormalizerStep::Kind::kNfd:
      case NormalizerStep::Kind::kNfkd: {
        static constexpr NormalForm kForms[] = {NormalForm::kNfc, NormalForm::kNfkc, NormalForm::kNfd, NormalForm::kNfkd};
        out.clear();
        Normalize(*text, kForms[static_cast<int>(step.kind)], &out);
        text->swap(out);
        break;
      }
      case NormalizerStep::Kind::kLowercase:
        out.clear();
        Lowercase(*text, &out);
        text->swap(out);
        break;
      case NormalizerStep::Kind::kReplace:
        ReplaceAll(text, step.pattern, step.content);
        break;
      case NormalizerStep::Kind::kPrepend:
        if (!text->empty()) text->insert(0, step.content);
        break;
      case NormalizerStep::Kind::kStrip:
        Strip(text, step.left, step.right);
        break;
      case NormalizerStep::Kind::kPrecompiled:
      case NormalizerStep::Kind::kPrecompiledGraphemes: {
        out.clear();
        const bool graphemes = step.kind == NormalizerStep::Kind::kPrecompiledGraphemes;
        if (step.charsmap == nullptr ||
            !(graphemes ? step.charsmap->NormalizeGraphemes(*text, &out, max_bytes)
                        : step.charsmap->Normalize(*text, &out, max_bytes))) {
          return false;
        }
        text->swap(out);
        break;
      }
      case NormalizerStep::Kind::kTrimEnd:
        while (!step.pattern.empty() && text->size() >= step.pattern.size() &&
               text->compare(text->size() - step.pattern.size(), step.pattern.size(), step.pattern) == 0) {
          text->resize(text->size() - step.pattern.size());
        }
        break;
      case NormalizerStep::Kind::kCollapseSpaces:
        CollapseSpaces(text, step.left, step.right);
        break;
    }
    if (text->size() > max_bytes) return false;
  }
  return true;
}

void ApplyPreTokenizers(const std::vector<PreTokenizerStep>& steps, std::vector<TextPiece>* pieces) {
  std::vector<TextPiece> next;
  for (const PreTokenizerStep& step : steps) {
    next.clear();
    for (TextPiece& piece : *pieces) SplitPiece(step, std::move(piece), &next);
    pieces->swap(next);
  }
}

}  // namespace edgeformer
