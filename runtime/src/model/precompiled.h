// SentencePiece's precompiled character map (NormalizerSpec.precompiled_charsmap, and Hugging
// Face's Precompiled normalizer that carries the same bytes): a little-endian uint32 trie size T,
// a Darts double-array trie of T bytes (uint32 units) over UTF-8 byte strings whose values are
// offsets into the rest of the blob, NUL-terminated replacement strings.
//
// Normalize walks the text as spm's Normalizer::NormalizePrefix does: at each position the
// longest key of the trie that starts there is replaced by its string; else one UTF-8 character
// is copied as is, and a byte that starts no valid character becomes U+FFFD.
//
// NormalizeGraphemes is Hugging Face's Precompiled normalizer instead: the text in grapheme
// clusters (UAX #29 approximated: CR LF, marks and ZWJ join what precedes them, Hangul syllable
// sequences, emoji ZWJ sequences, regional indicator pairs); a cluster of under 6 bytes that
// starts with a key becomes the replacement of the shortest such key (the rest of the cluster
// is dropped, as Hugging Face does); other clusters go character by character.
//
// Untrusted data: Init checks the sizes; every trie step and every value is bounds-checked when
// used, so a hostile map can give wrong text but never read outside the blob.
// Ownership: the bytes are copied. Thread safety: immutable after Init.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace edgeformer {

class CharsMap {
 public:
  Error Init(const uint8_t* data, size_t size);

  // Appends the normalized `text` to *out. False when *out would pass max_bytes (out then holds a
  // prefix).
  bool Normalize(std::string_view text, std::string* out, size_t max_bytes) const;
  bool NormalizeGraphemes(std::string_view text, std::string* out, size_t max_bytes) const;

 private:
  // The longest (or shortest) key at the start of `text`: its byte length (0 for none) and
  // replacement.
  size_t Match(std::string_view text, bool shortest, std::string_view* replacement) const;

  std::vector<uint32_t> units_;
  std::string strings_;  // the replacement strings, the last byte a NUL
};

}  // namespace edgeformer
