// Text <-> token ids.
//
// Scored BPE (SentencePiece style, as llama2.c's run.c): optional BOS; a " " prefix when
// add_dummy_prefix and the text is not empty; each UTF-8 character becomes its token, or its
// bytes' byte-fallback tokens when it has none; then the adjacent pair of normal tokens whose
// concatenation is a token with the best score is merged, leftmost first on ties, until no pair
// merges.
//
// Byte-level BPE (GPT-2, Llama 3, Qwen2): optional BOS; special (control) tokens are matched
// literally in the text, longest first; the text between them is split by the pre-tokenizer
// (model/pretokenize.h); each chunk starts as one token per byte, and the adjacent pair with the
// best merge rank merges, leftmost first, until no listed pair is left.
//
// Ranked BPE (Hugging Face's tokenizer.json: Llama 3, Qwen2/3, Gemma, Mistral, Llama 2 as HF
// writes them): added tokens are found first (model/added_tokens.h), the text between them is
// normalized and split (model/text_pipeline.h), and each piece becomes symbols that merge by
// rank, exactly as Hugging Face tokenizers' BPE model does (schema: Tokenizer, RankedBPE).
//
// Unigram (SentencePiece's, as T5 and Marian ship it in a .spm file or tokenizer.json): ranked
// BPE's pipeline, then each piece is segmented by Viterbi over its characters with the pieces'
// scores (model/tokenizer_unigram.cc; the schema's Tokenizer states the rules).
//
// WordPiece (BERT): the text is normalized and split into words (model/wordpiece.h); each word
// becomes the longest vocabulary pieces from its start, the pieces after the first spelled with
// the continuing prefix ("##"); a word longer than max_input_chars_per_word characters, or one
// that cannot be spelled, becomes UNK. With BOS: [CLS] (bos_id) first and [SEP] (eos_id) last.
//
// Ownership: piece bytes point into the model file mapping (Model keeps it alive).
// Thread safety: immutable after Init; Encode and Piece are safe from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "model/added_tokens.h"
#include "model/chat/jinja.h"
#include "model/pretokenize.h"
#include "model/text_pipeline.h"
#include "model/wordpiece.h"

namespace edgeformer {

namespace schema {
struct Tokenizer;
}

enum class TokenType : uint8_t { kNormal = 0, kByte = 1, kControl = 2, kUnknown = 3, kUserDefined = 4, kUnused = 5 };

class Tokenizer {
 public:
  // Validates the table against the architecture's vocabulary size and builds lookup tables.
  // A null table makes a tokenizer that is absent: the model then takes token ids only.
  Error Init(const schema::Tokenizer* table, uint32_t vocab_size);

  bool present() const { return present_; }
  // The chat template the checkpoint gave (Jinja text, NUL-terminated in the mapping), or "".
  const char* chat_template() const { return chat_template_; }

  // The conversation (role, content pairs) as the chat template renders it, with
  // add_generation_prompt and the template's bos_token and eos_token; `today` ("YYYY-MM-DD") is
  // what strftime_now formats. kUnsupported without a template; kInvalidArgument when the
  // template does not parse, refuses the conversation (raise_exception) or runs away.
  Error FormatChat(const std::vector<std::pair<std::string, std::string>>& messages, bool add_generation_prompt,
                   const std::string& today, std::string* out) const;
  // The longest text Piece gives, in bytes (0 without a tokenizer).
  size_t max_piece_bytes() const { return max_piece_bytes_; }
  uint32_t vocab_size() const { return static_cast<uint32_t>(pieces_.size()); }
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }

  // Appends the ids of `text` (any bytes; invalid UTF-8 falls back to byte tokens) to `out`.
  // add_special: the special tokens the tokenizer puts around a text (BOS, or the template's).
  // parse_special: special tokens written in the text are matched (else it is all plain text;
  // ranked BPE still matches added tokens that are not special). kUnsupported when the model has
  // no tokenizer.
  Error Encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>* out) const;

  // The bytes `token` stands for when it follows `prev` (-1 for none). Control tokens, ids out
  // of range and every id of an absent tokenizer give "". WordPiece pieces are words: a space
  // before each (but the first of a text), none before a continuing piece, whose prefix is
  // dropped. The view lives as long as the tokenizer.
  std::string_view Piece(int32_t prev, int32_t token) const;

 private:
  int32_t Lookup(std::string_view piece) const;
  Error InitByteLevel(const schema::Tokenizer* table);
  // Builds merges_ from the table's pairs (validated ids).
  Error InitMerges(const schema::Tokenizer* table);
  // tokenizer_ranked.cc: the RankedBPE kind.
  Error InitRanked(const schema::Tokenizer* table);
  Error EncodeRanked(std::string_view text, bool parse_special, std::vector<int32_t>* out) const;
  void EncodeRankedPiece(std::string_view piece, std::vector<int32_t>* out) const;
  Error EncodeScored(std::string_view text, std::vector<int32_t>* out) const;
  void EncodeByteLevel(std::string_view text, bool parse_special, std::vector<int32_t>* out) const;
  void EncodeWordPiece(std::string_view text, bool parse_special, std::vector<int32_t>* out) const;
  void EncodeWordPieceText(std::string_view text, std::vector<int32_t>* out, std::vector<std::string>* scratch) const;
  // Special (control) tokens, and WordPiece's UNK, are matched literally in the text first.
  void CollectSpecials();
  template <typename Plain>
  void SplitAtSpecials(std::string_view text, std::vector<int32_t>* out, Plain encode_plain) const;
  void MergeByRank(std::vector<int32_t>* ids) const;
  // tokenizer_unigram.cc: the Unigram kind's trie and Viterbi segmentation of one spelled piece.
  Error InitUnigram(const schema::Tokenizer* table);
  void EncodeUnigramPiece(std::string_view text, std::vector<int32_t>* out) const;

  struct Merge {
    uint32_t rank;
    int32_t result;
  };
  bool byte_level_ = false;
  bool wordpiece_ = false;
  bool ranked_ = false;   // RankedBPE or Unigram: the Hugging Face pipeline
  bool unigram_ = false;
  // Unigram: a byte trie of the segmenting pieces (Normal and UserDefined): edge (node << 8 |
  // byte) -> child node; trie_ids_[node] is the piece ending there or -1.
  std::unordered_map<uint64_t, int32_t> trie_edges_;
  std::vector<int32_t> trie_ids_;
  double min_score_ = 0.0, max_score_ = 0.0;  // over Normal pieces
  bool hf_unigram_ = false;                    // totals in double, byte pieces by their text
  std::vector<float> segment_scores_;          // pieces only the segmentation has (trie -2 - k)
  bool unknown_as_piece_ = false;
  std::unordered_map<std::string, int32_t> unknown_ids_;  // Unused pieces, spelled as the pipeline
  // RankedBPE: the pipeline, and the BPE model's options.
  std::vector<NormalizerStep> normalizers_;
  std::vector<PreTokenizerStep> pre_tokenizers_;
  AddedTokenMatcher added_raw_;         // matched in the text as given
  AddedTokenMatcher added_normalized_;  // matched in normalized text
  bool byte_symbols_ = false;           // a ByteLevel pre-tokenizer: symbols are bytes
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool fuse_unk_ = false;
  bool marker_spaces_ = false;
  int32_t fallback_ids_[256];           // byte-fallback tokens (<0xHH>), -1 where none
  std::vector<int32_t> template_prefix_, template_suffix_;
  std::deque<std::string> owned_pieces_;  // pieces not in the mapping (normalized added tokens)
  WordPieceNormalizer normalizer_;
  std::string_view continuing_prefix_;  // in the mapping
  uint32_t max_word_chars_ = 100;
  std::vector<std::string> spaced_;     // WordPiece: " " + piece of each word-start token
  Pretokenizer pretokenizer_ = Pretokenizer::kNone;
  std::unordered_map<uint64_t, Merge> merges_;  // (left << 32 | right) -> rank, merged token
  // Special tokens by first byte, longest first: (piece, id).
  std::vector<std::pair<std::string_view, int32_t>> specials_[256];

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
  size_t max_piece_bytes_ = 0;
  const char* chat_template_ = "";
  std::string chat_bos_, chat_eos_;
  std::shared_ptr<const jinja::Template> chat_;  // parsed at Init; null when it does not parse
  std::string chat_error_;                       // why not
  bool add_dummy_prefix_ = false;
  bool strip_space_after_bos_ = false;
};

}  // namespace edgeformer
