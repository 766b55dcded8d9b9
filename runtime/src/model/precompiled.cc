#include "model/precompiled.h"

#include <cstring>

#include "model/pretokenize.h"
#include "model/utf8.h"

namespace edgeformer {
namespace {

constexpr size_t kMaxResults = 32;  // spm's kMaxTrieResultsSize: keys considered per position
constexpr size_t kMaxKeyBytes = 256;  // real keys are a few characters; a hostile chain stops here

// Darts-clone's unit fields.
bool HasLeaf(uint32_t unit) { return ((unit >> 8) & 1) != 0; }
uint32_t Value(uint32_t unit) { return unit & ((1u << 31) - 1); }
uint32_t Label(uint32_t unit) { return unit & ((1u << 31) | 0xFF); }
uint32_t Offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

constexpr char kReplacementChar[] = "\xEF\xBF\xBD";

// Hangul syllable types (UAX #29): L, V, T jamo, LV and LVT syllables, or none.
enum class Hangul { kNone, kL, kV, kT, kLV, kLVT };
Hangul HangulType(uint32_t cp) {
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0xA960 && cp <= 0xA97C)) return Hangul::kL;
  if ((cp >= 0x1160 && cp <= 0x11A7) || (cp >= 0xD7B0 && cp <= 0xD7C6)) return Hangul::kV;
  if ((cp >= 0x11A8 && cp <= 0x11FF) || (cp >= 0xD7CB && cp <= 0xD7FB)) return Hangul::kT;
  if (cp >= 0xAC00 && cp <= 0xD7A3) return (cp - 0xAC00) % 28 == 0 ? Hangul::kLV : Hangul::kLVT;
  return Hangul::kNone;
}
// UAX #29's Control: Cc, Zl, Zp and the format characters (Cf) but ZWNJ and ZWJ.
bool IsControl(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xAD || cp == 0x61C || cp == 0x180E || cp == 0x200B ||
         cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) ||
         cp == 0xFEFF || (cp >= 0xFFF0 && cp <= 0xFFFB) || (cp >= 0x1BCA0 && cp <= 0x1BCA3) ||
         (cp >= 0x1D173 && cp <= 0x1D17A) || (cp >= 0xE0000 && cp <= 0xE001F) || (cp >= 0xE0080 && cp <= 0xE00FF);
}
// Extended_Pictographic, approximated by its main blocks.
bool IsPictographic(uint32_t cp) {
  return cp == 0xA9 || cp == 0xAE || cp == 0x203C || cp == 0x2049 || cp == 0x2122 || cp == 0x2139 ||
         (cp >= 0x2194 && cp <= 0x21AA) || (cp >= 0x231A && cp <= 0x23FF) || (cp >= 0x25AA && cp <= 0x25FE) ||
         (cp >= 0x2600 && cp <= 0x27BF) || (cp >= 0x2934 && cp <= 0x2935) || (cp >= 0x2B05 && cp <= 0x2B55) ||
         cp == 0x3030 || cp == 0x303D || cp == 0x3297 || cp == 0x3299 || (cp >= 0x1F000 && cp <= 0x1FAFF) ||
         (cp >= 0x1FC00 && cp <= 0x1FFFD);
}
bool IsRegional(uint32_t cp) { return cp >= 0x1F1E6 && cp <= 0x1F1FF; }

// The end of the grapheme cluster that starts at text[i] (a byte that starts no valid
// character is a cluster of its own).
size_t ClusterEnd(std::string_view text, size_t i) {
  uint32_t first = 0;
  const size_t n0 = utf8::Next(text, i, &first);
  if (n0 == 0) return i + 1;
  size_t j = i + n0;
  if (first == '\r') return j < text.size() && text[j] == '\n' ? j + 1 : j;
  if (IsControl(first)) return j;
  uint32_t prev = first;
  int regional = IsRegional(first) ? 1 : 0;
  bool pictographic = IsPictographic(first);  // an emoji ZWJ sequence so far (GB11)
  while (j < text.size()) {
    uint32_t cp = 0;
    const size_t n = utf8::Next(text, j, &cp);
    if (n == 0 || IsControl(cp)) break;
    const Hangul a = HangulType(prev), b = HangulType(cp);
    const bool hangul = (a == Hangul::kL && b != Hangul::kNone && b != Hangul::kT) ||
                        ((a == Hangul::kLV || a == Hangul::kV) && (b == Hangul::kV || b == Hangul::kT)) ||
                        ((a == Hangul::kLVT || a == Hangul::kT) && b == Hangul::kT);
    const bool joins = JoinsGrapheme(cp) || hangul || (prev == 0x200D && pictographic && IsPictographic(cp)) ||
                       (regional == 1 && IsRegional(cp));
    if (!joins) break;
    pictographic = IsPictographic(cp) || (pictographic && JoinsGrapheme(cp));
    regional = IsRegional(cp) ? regional + 1 : 0;
    prev = cp;
    j += n;
  }
  return j;
}

}  // namespace

Error CharsMap::Init(const uint8_t* data, size_t size) {
  auto bad = [](const std::string& what) { return Error(Status::kInvalidModel, "tokenizer: precompiled charsmap: " + what); };
  units_.clear();
  strings_.clear();
  if (size < 4) return bad("shorter than its 4-byte header");
  uint32_t trie_bytes = 0;
  for (int k = 3; k >= 0; --k) trie_bytes = (trie_bytes << 8) | data[k];
  if (trie_bytes % 4 != 0 || trie_bytes > size - 4) {
    return bad("its trie size " + std::to_string(trie_bytes) + " does not fit the " + std::to_string(size) + " bytes");
  }
  if (trie_bytes == 0) return bad("the trie is empty");
  units_.resize(trie_bytes / 4);
  for (size_t i = 0; i < units_.size(); ++i) {
    const uint8_t* u = data + 4 + 4 * i;
    units_[i] = uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 | uint32_t{u[3]} << 24;
  }
  strings_.assign(reinterpret_cast<const char*>(data) + 4 + trie_bytes, size - 4 - trie_bytes);
  if (strings_.empty() || strings_.back() != '\0') return bad("the replacement strings do not end with a NUL");
  return Error::Ok();
}

size_t CharsMap::Match(std::string_view text, bool shortest, std::string_view* replacement) const {
  // Darts' commonPrefixSearch, every index checked.
  const size_t n_units = units_.size();
  size_t node = 0;
  uint32_t unit = units_[0];
  node ^= Offset(unit);
  size_t best = 0, found = 0;
  uint32_t best_value = 0;
  for (size_t i = 0; i < text.size() && i < kMaxKeyBytes && found < kMaxResults; ++i) {
    const uint8_t c = static_cast<uint8_t>(text[i]);
    node ^= c;
    if (node >= n_units) break;
    unit = units_[node];
    if (Label(unit) != c) break;
    node ^= Offset(unit);
    if (node >= n_units) break;
    if (HasLeaf(unit)) {
      ++found;
      best = i + 1;
      best_value = Value(units_[node]);
      if (shortest) break;
    }
  }
  if (best == 0) return 0;
  if (best_value >= strings_.size()) return 0;  // a hostile value: no replacement
  const char* s = strings_.data() + best_value;
  *replacement = std::string_view(s, std::strlen(s));  // strings_ ends with a NUL
  return best;
}

bool CharsMap::Normalize(std::string_view text, std::string* out, size_t max_bytes) const {
  for (size_t i = 0; i < text.size();) {
    std::string_view replacement;
    size_t n = Match(text.substr(i), false, &replacement);
    if (n == 0) {
      uint32_t cp = 0;
      n = utf8::Next(text, i, &cp);
      if (n == 0) {
        replacement = kReplacementChar;
        n = 1;
      } else {
        replacement = text.substr(i, n);
      }
    }
    if (out->size() + replacement.size() > max_bytes) return false;
    out->append(replacement);
    i += n;
  }
  return true;
}

bool CharsMap::NormalizeGraphemes(std::string_view text, std::string* out, size_t max_bytes) const {
  auto append = [&](std::string_view piece) {
    if (out->size() + piece.size() > max_bytes) return false;
    out->append(piece);
    return true;
  };
  for (size_t i = 0; i < text.size();) {
    const size_t end = ClusterEnd(text, i);
    const std::string_view cluster = text.substr(i, end - i);
    std::string_view replacement;
    if (cluster.size() < 6 && Match(cluster, true, &replacement) > 0) {
      if (!append(replacement)) return false;
      i = end;
      continue;
    }
    for (size_t k = 0; k < cluster.size();) {
      uint32_t cp = 0;
      const size_t n = utf8::Next(cluster, k, &cp);
      if (n == 0) {
        if (!append(kReplacementChar)) return false;
        ++k;
        continue;
      }
      const std::string_view c = cluster.substr(k, n);
      if (!append(Match(c, true, &replacement) > 0 ? replacement : c)) return false;
      k += n;
    }
    i = end;
  }
  return true;
}

}  // namespace edgeformer
