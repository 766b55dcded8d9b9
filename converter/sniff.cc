#include "converter/sniff.h"

#include <cstring>

namespace edgeformer {
namespace convert {
namespace {

// Reads a protobuf varint at data[*at]; false past `size` or past 10 bytes.
bool Varint(const uint8_t* data, size_t size, size_t* at, uint64_t* out) {
  *out = 0;
  for (int shift = 0; shift < 64 && *at < size; shift += 7) {
    const uint8_t b = data[(*at)++];
    *out |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80u) == 0) return true;
  }
  return false;
}

// SentencePiece's ModelProto starts with repeated field 1 (pieces, a message) whose own first
// field is 1 (the piece, a string): 0x0a <len> 0x0a <len> <piece bytes> ...
bool LooksLikeSentencePiece(const uint8_t* data, size_t size) {
  size_t at = 0;
  uint64_t outer = 0, inner = 0;
  if (size < 4 || data[at++] != 0x0a || !Varint(data, size, &at, &outer)) return false;
  if (outer < 2 || at >= size || data[at++] != 0x0a || !Varint(data, size, &at, &inner)) return false;
  return inner < outer && inner <= 256;
}

size_t SkipSpace(const uint8_t* data, size_t size, size_t at) {
  while (at < size && (data[at] == ' ' || data[at] == '\n' || data[at] == '\r' || data[at] == '\t')) ++at;
  return at;
}

}  // namespace

std::string SniffFormat(const uint8_t* data, size_t size) {
  if (size >= 4 && std::memcmp(data, "GGUF", 4) == 0) return "a GGUF file (convert it as the checkpoint: --from gguf)";
  if (size >= 12 && std::memcmp(data + 8, "EDGF", 4) == 0) return "an edgeformer model file (already converted)";
  const size_t first = SkipSpace(data, size, 0);
  if (first < size && data[first] == '{') {
    return "a JSON file (a Hugging Face tokenizer.json or config.json: convert the checkpoint's directory, --from hf)";
  }
  if (size >= 10) {
    uint64_t header = 0;
    std::memcpy(&header, data, 8);
    if (header >= 2 && header <= size - 8 && data[8] == '{') return "a safetensors file (convert its directory, --from hf)";
  }
  if (LooksLikeSentencePiece(data, size)) {
    return "a SentencePiece model (protobuf); edgeformer-convert reads llama2.c's tokenizer.bin (which llama2.c's "
           "tokenizer.py exports from it), a Hugging Face tokenizer.json, or a unigram model beside a Hugging Face "
           "checkpoint (T5's spiece.model, Marian's source.spm and target.spm): convert the checkpoint's directory";
  }
  return "";
}

}  // namespace convert
}  // namespace edgeformer
