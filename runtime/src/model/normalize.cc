#include "model/normalize.h"

#include <algorithm>

#include "model/utf8.h"

namespace edgeformer {
namespace {

struct CombiningRange {
  uint32_t first, last;
  uint8_t ccc;
};
struct Decomposition {
  uint32_t cp;
  uint16_t offset, length;  // into kDecompositionPool
};
struct Composition {
  uint32_t first, second, composite;
};
using utf8::CodeMapping;
using utf8::CodePair;

#include "model/normalize_tables.inc"

// Hangul syllables (Unicode 3.12): S = SBase + (L * VCount + V) * TCount + T.
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kSCount = kLCount * kVCount * kTCount;

// A code point, or a byte that is not valid UTF-8 (kInvalid | byte): never decomposed or composed.
constexpr uint32_t kInvalid = 0x80000000u;

template <typename T, size_t N>
const T* FindByCp(const T (&table)[N], uint32_t cp) {
  const T* it = std::lower_bound(table, table + N, cp, [](const T& e, uint32_t v) { return e.cp < v; });
  return it != table + N && it->cp == cp ? it : nullptr;
}

void Decompose(uint32_t cp, bool compatibility, std::vector<uint32_t>* out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out->push_back(kLBase + s / (kVCount * kTCount));
    out->push_back(kVBase + (s % (kVCount * kTCount)) / kTCount);
    if (s % kTCount != 0) out->push_back(kTBase + s % kTCount);
    return;
  }
  const Decomposition* d = compatibility ? FindByCp(kCompatibility, cp) : nullptr;
  if (d == nullptr) d = FindByCp(kCanonical, cp);
  if (d == nullptr) {
    out->push_back(cp);
  } else {
    out->insert(out->end(), kDecompositionPool + d->offset, kDecompositionPool + d->offset + d->length);
  }
}

uint8_t Ccc(uint32_t cp) { return (cp & kInvalid) != 0 ? 0 : CombiningClass(cp); }

// The primary composite of (a, b), or 0.
uint32_t Compose(uint32_t a, uint32_t b) {
  if ((a | b) & kInvalid) return 0;
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  const Composition* end = kCompositions + sizeof(kCompositions) / sizeof(kCompositions[0]);
  const Composition* it = std::lower_bound(kCompositions, end, std::make_pair(a, b), [](const Composition& c, const auto& v) {
    return c.first != v.first ? c.first < v.first : c.second < v.second;
  });
  return it != end && it->first == a && it->second == b ? it->composite : 0;
}

}  // namespace

uint8_t CombiningClass(uint32_t cp) {
  const CombiningRange* end = kCombiningClass + sizeof(kCombiningClass) / sizeof(kCombiningClass[0]);
  const CombiningRange* it =
      std::upper_bound(kCombiningClass, end, cp, [](uint32_t v, const CombiningRange& r) { return v < r.first; });
  return it != kCombiningClass && cp <= (it - 1)->last ? (it - 1)->ccc : 0;
}

void Normalize(std::string_view text, NormalForm form, std::string* out) {
  const bool compatibility = form == NormalForm::kNfkc || form == NormalForm::kNfkd;
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t n = utf8::Next(text, i, &cp);
    if (n == 0) {
      cps.push_back(kInvalid | static_cast<uint8_t>(text[i]));
      ++i;
      continue;
    }
    Decompose(cp, compatibility, &cps);
    i += n;
  }
  // Canonical ordering: each run of non-starters sorted by combining class, stably.
  for (size_t i = 0; i < cps.size();) {
    if (Ccc(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && Ccc(cps[j]) != 0) ++j;
    std::stable_sort(cps.begin() + i, cps.begin() + j, [](uint32_t a, uint32_t b) { return Ccc(a) < Ccc(b); });
    i = j;
  }
  if (form == NormalForm::kNfc || form == NormalForm::kNfkc) {
    // Canonical composition: a character joins the last starter unless a character between them
    // has class 0 or a class at least its own (it is blocked).
    size_t kept = 0;
    long starter = -1;
    uint8_t last_ccc = 0;
    for (size_t i = 0; i < cps.size(); ++i) {
      const uint32_t cp = cps[i];
      const uint8_t ccc = Ccc(cp);
      if (starter >= 0) {
        const bool adjacent = kept == static_cast<size_t>(starter) + 1;
        if (adjacent || (last_ccc != 0 && last_ccc < ccc)) {
          const uint32_t composite = Compose(cps[starter], cp);
          if (composite != 0) {
            cps[starter] = composite;
            continue;
          }
        }
      }
      if (ccc == 0) starter = static_cast<long>(kept);
      last_ccc = ccc;
      cps[kept++] = cp;
    }
    cps.resize(kept);
  }
  for (uint32_t cp : cps) {
    if (cp & kInvalid) {
      out->push_back(static_cast<char>(cp & 0xFF));
    } else {
      utf8::Append(cp, out);
    }
  }
}

void AppendLowercase(uint32_t cp, std::vector<uint32_t>* out) {
  if (const CodePair* p = utf8::FindFrom(kLower, cp)) {
    out->push_back(p->to);
  } else if (const CodeMapping* m = utf8::FindFrom(kLowerLong, cp)) {
    out->insert(out->end(), m->to, m->to + m->n);
  } else {
    out->push_back(cp);
  }
}

void Lowercase(std::string_view text, std::string* out) {
  std::vector<uint32_t> lower;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t n = utf8::Next(text, i, &cp);
    if (n == 0) {
      out->push_back(text[i++]);
      continue;
    }
    lower.clear();
    AppendLowercase(cp, &lower);
    for (uint32_t c : lower) utf8::Append(c, out);
    i += n;
  }
}

}  // namespace edgeformer
