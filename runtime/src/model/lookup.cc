#include "model/lookup.h"

#include <algorithm>

namespace edgeformer {

size_t ProposeLookup(const int32_t* seq, size_t len, uint32_t max_ngram, size_t max, int32_t* out) {
  if (max == 0) return 0;
  for (size_t n = std::min<size_t>(max_ngram, len > 0 ? len - 1 : 0); n >= 1; --n) {
    const int32_t* suffix = seq + len - n;
    // Occurrences starting at j <= len - n - 1 end before the suffix does: the latest first.
    for (size_t j = len - n; j-- > 0;) {
      if (!std::equal(suffix, suffix + n, seq + j)) continue;
      const size_t from = j + n, count = std::min(max, len - from);
      std::copy(seq + from, seq + from + count, out);
      return count;
    }
  }
  return 0;
}

}  // namespace edgeformer
