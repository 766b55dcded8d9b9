// Text <-> token ids for scored-BPE vocabularies (SentencePiece style, as llama2.c's run.c).
//
// Encode: optional BOS; a " " prefix when add_dummy_prefix and the text is not empty; each UTF-8
// character becomes its token, or its bytes' byte-fallback tokens when it has none; then the
// adjacent pair of normal tokens whose concatenation is a token with the best score is merged,
// leftmost first on ties, until no pair merges.
//
// Ownership: piece bytes point into the model file mapping (Model keeps it alive).
// Thread safety: immutable after Init; Encode and Piece are safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace edgeformer {

namespace schema {
struct Tokenizer;
}

enum class TokenType : uint8_t { kNormal = 0, kByte = 1, kControl = 2, kUnknown = 3 };

class Tokenizer {
 public:
  // Validates the table against the architecture's vocabulary size and builds lookup tables.
  // A null table makes a tokenizer that is absent: the model then takes token ids only.
  Error Init(const schema::Tokenizer* table, uint32_t vocab_size);

  bool present() const { return present_; }
  uint32_t vocab_size() const { return static_cast<uint32_t>(pieces_.size()); }
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }

  // Appends the ids of `text` (any bytes; invalid UTF-8 falls back to byte tokens) to `out`.
  // kUnsupported when the model has no tokenizer.
  Error Encode(std::string_view text, bool add_bos, std::vector<int32_t>* out) const;

  // The bytes `token` stands for when it follows `prev` (-1 for none). Control tokens, ids out
  // of range and every id of an absent tokenizer give "". The view lives as long as the tokenizer.
  std::string_view Piece(int32_t prev, int32_t token) const;

 private:
  int32_t Lookup(std::string_view piece) const;

  std::vector<std::string_view> pieces_;
  std::vector<float> scores_;
  std::vector<TokenType> types_;
  std::unordered_map<std::string_view, int32_t> normal_ids_;  // normal tokens only
  int32_t byte_ids_[256];                                      // -1 where no byte token
  char byte_chars_[256];                                       // storage for byte pieces
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  int32_t unk_id_ = -1;
  bool present_ = false;
  bool add_dummy_prefix_ = false;
  bool strip_space_after_bos_ = false;
};

}  // namespace edgeformer
