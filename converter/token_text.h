// Spellings shared by the tokenizer readers (llama2.c, GGUF, tokenizer.json).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace edgeformer {
namespace convert {

// SentencePiece's "<0xHH>" byte-fallback pieces: true and the byte when `piece` is one.
inline bool ParseByteToken(const std::string& piece, uint8_t* byte) {
  unsigned value = 0;
  char tail = 0;
  if (piece.size() != 6 || std::sscanf(piece.c_str(), "<0x%2X%c", &value, &tail) != 2 || tail != '>') return false;
  *byte = static_cast<uint8_t>(value);
  return true;
}

// SentencePiece writes spaces as U+2581 ("▁"); edgeformer's pieces hold the bytes they stand for.
inline std::string SpaceMarksToSpaces(std::string piece) {
  for (size_t at = piece.find("\xE2\x96\x81"); at != std::string::npos; at = piece.find("\xE2\x96\x81", at + 1)) {
    piece.replace(at, 3, " ");
  }
  return piece;
}

// A merge written "left right": false unless there is exactly one space.
inline bool SplitMerge(const std::string& merge, std::pair<std::string, std::string>* out) {
  const size_t space = merge.find(' ');
  if (space == std::string::npos || merge.find(' ', space + 1) != std::string::npos) return false;
  *out = {merge.substr(0, space), merge.substr(space + 1)};
  return true;
}

}  // namespace convert
}  // namespace edgeformer
