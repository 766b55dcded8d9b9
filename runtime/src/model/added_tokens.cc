#include "model/added_tokens.h"

#include <algorithm>

#include "model/pretokenize.h"
#include "model/utf8.h"

namespace edgeformer {
namespace {

// The code point of the valid UTF-8 character that ends at text[end] (exclusive), or ~0u; *start
// is where it starts.
uint32_t CharBefore(std::string_view text, size_t end, size_t* start = nullptr) {
  size_t s = end;
  while (s > 0 && end - s < 4) {
    --s;
    if ((static_cast<uint8_t>(text[s]) & 0xC0) != 0x80) break;
  }
  uint32_t cp = 0;
  if (start != nullptr) *start = s;
  return s < end && utf8::Next(text, s, &cp) == end - s ? cp : ~0u;
}

uint32_t CharAt(std::string_view text, size_t at) {
  uint32_t cp = 0;
  return at < text.size() && utf8::Next(text, at, &cp) != 0 ? cp : ~0u;
}

bool Word(uint32_t cp) { return cp != ~0u && IsWordChar(cp); }
bool Space(uint32_t cp) { return cp != ~0u && IsWhiteSpace(cp); }

}  // namespace

void AddedTokenMatcher::Build(const std::vector<AddedTokenSpec>& tokens) {
  tokens_ = tokens;
  nodes_.assign(1, Node());
  for (size_t t = 0; t < tokens_.size(); ++t) {
    uint32_t node = 0;
    for (char c : tokens_[t].text) {
      const uint8_t b = static_cast<uint8_t>(c);
      auto& children = nodes_[node].children;
      auto it = std::lower_bound(children.begin(), children.end(), b,
                                 [](const std::pair<uint8_t, uint32_t>& e, uint8_t v) { return e.first < v; });
      if (it != children.end() && it->first == b) {
        node = it->second;
        continue;
      }
      const uint32_t child = static_cast<uint32_t>(nodes_.size());
      children.insert(it, {b, child});
      nodes_.emplace_back();
      node = child;
    }
    // Of two tokens with the same text, the later one wins (Hugging Face maps text to its last id).
    nodes_[node].token = static_cast<int32_t>(t);
  }
}

size_t AddedTokenMatcher::LongestAt(std::string_view text, size_t at, size_t* token) const {
  size_t best = 0;
  uint32_t node = 0;
  for (size_t i = at; i < text.size(); ++i) {
    const auto& children = nodes_[node].children;
    const uint8_t b = static_cast<uint8_t>(text[i]);
    auto it = std::lower_bound(children.begin(), children.end(), b,
                               [](const std::pair<uint8_t, uint32_t>& e, uint8_t v) { return e.first < v; });
    if (it == children.end() || it->first != b) break;
    node = it->second;
    if (nodes_[node].token >= 0) {
      best = i + 1 - at;
      *token = static_cast<size_t>(nodes_[node].token);
    }
  }
  return best;
}

void AddedTokenMatcher::Split(std::string_view text, bool parse_special, std::vector<Part>* parts) const {
  size_t start_offset = 0;
  for (size_t i = 0; i < text.size() && !tokens_.empty();) {
    size_t token = 0;
    const size_t length = LongestAt(text, i, &token);
    if (length == 0) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + length;
    i = stop;
    const AddedTokenSpec& t = tokens_[token];
    if (t.special && !parse_special) continue;
    if (t.single_word && ((start > 0 && Word(CharBefore(text, start))) || (stop < text.size() && Word(CharAt(text, stop))))) {
      continue;
    }
    if (t.lstrip) {
      size_t s = start, before = 0;
      while (s > 0 && Space(CharBefore(text, s, &before))) s = before;
      start = std::max(s, start_offset);
    }
    if (t.rstrip) {
      uint32_t cp = 0;
      for (size_t n; stop < text.size() && (n = utf8::Next(text, stop, &cp)) != 0 && IsWhiteSpace(cp);) stop += n;
    }
    if (start_offset < start) parts->push_back({start_offset, start, -1});
    parts->push_back({start, stop, t.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) parts->push_back({start_offset, text.size(), -1});
}

}  // namespace edgeformer
