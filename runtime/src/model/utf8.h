// UTF-8 and code-point-table helpers shared by the text side of the tokenizers (pretokenize.cc,
// wordpiece.cc, normalize.cc, text_pipeline.cc).
// Header-only; every function is pure and thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgeformer {
namespace utf8 {

// Decodes the code point that starts at text[i] (i < text.size()) into *cp and returns its length
// in bytes, or returns 0 (and leaves *cp unspecified) when the bytes there are not valid UTF-8:
// a stray continuation byte, a truncated sequence, an overlong form, a surrogate or a value past
// U+10FFFF. Callers then skip one byte.
inline size_t Next(std::string_view text, size_t i, uint32_t* cp) {
  const uint8_t b = static_cast<uint8_t>(text[i]);
  const size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  uint32_t v = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const uint8_t c = static_cast<uint8_t>(text[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    v = (v << 6) | (c & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

// Appends cp (at most U+10FFFF, not a surrogate) as UTF-8.
inline void Append(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// An inclusive range of code points; tables of them are sorted and disjoint.
struct CodeRange {
  uint32_t first, last;
};

// A code point's replacement: one code point, or up to three (tables sorted by `from`).
struct CodePair {
  uint32_t from, to;
};
struct CodeMapping {
  uint32_t from;
  uint32_t to[3];
  uint8_t n;
};

// The entry for cp in a table sorted by `from`, or null.
template <typename T, size_t N>
const T* FindFrom(const T (&table)[N], uint32_t cp) {
  const T* it = std::lower_bound(table, table + N, cp, [](const T& e, uint32_t v) { return e.from < v; });
  return it != table + N && it->from == cp ? it : nullptr;
}

// Whether cp lies in one of the sorted, disjoint ranges.
template <size_t N>
bool InRanges(const CodeRange (&ranges)[N], uint32_t cp) {
  const CodeRange* end = ranges + N;
  const CodeRange* it = std::upper_bound(ranges, end, cp, [](uint32_t v, const CodeRange& r) { return v < r.first; });
  return it != ranges && cp <= (it - 1)->last;
}

}  // namespace utf8
}  // namespace edgeformer
