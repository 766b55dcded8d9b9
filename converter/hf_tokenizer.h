// Hugging Face `tokenizer.json` to the model file's tokenizer table: BPE models (RankedBPE, with
// the text pipeline the file states: converter/hf_bpe.cc) and WordPiece ones (hf_wordpiece.cc).
// Token strings become the bytes they stand for (GPT-2's byte-to-character alphabet mapped back,
// SentencePiece's U+2581 as a space); merges become pairs of ids.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "converter/writer.h"
#include "core/status.h"

namespace edgeformer {
namespace convert {

// Reads `path` into `out` for a model of `vocab_size` tokens (ids the file does not use become
// empty control tokens). bos_id is set when the post-processor prepends a special token.
Error ReadHfTokenizer(const std::string& path, uint32_t vocab_size, schema::TokenizerT* out);

// Reads a tokenizer.json `model.vocab` object ({"text": id, ...}) of a model of `vocab_size`
// tokens: every id must be below vocab_size and given once (else an error naming `path`); calls
// add(id, text) for each entry, in the file's order.
Error ReadVocabIds(const std::string& path, const nlohmann::json& vocab, uint32_t vocab_size,
                   const std::function<void(uint32_t, const std::string&)>& add);

// GPT-2's byte-to-character alphabet, inverted: code point -> byte.
std::unordered_map<uint32_t, uint8_t> ByteLevelCharToByte();

// A byte-level token string back to its bytes; false when a character is not in the alphabet.
bool DecodeByteLevelText(const std::string& s, const std::unordered_map<uint32_t, uint8_t>& table, std::string* out);

// model.merges, each "a b" or ["a", "b"], best first.
Error ReadMerges(const std::string& path, const nlohmann::json& model,
                 std::vector<std::pair<std::string, std::string>>* out);

// The chat template of the checkpoint in `dir`: chat_template.jinja, else tokenizer_config.json's
// chat_template (a string, or a list of {name, template} of which "default" is taken); "" when it
// has none.
// Also the bos_token and eos_token it is rendered with (tokenizer_config.json's, as a string or
// {"content": ...}; "" when absent).
constexpr size_t kMaxChatTemplateBytes = size_t{1} << 20;
Error ReadChatTemplate(const std::string& dir, std::string* out, std::string* bos_token, std::string* eos_token);

// Hugging Face's BPE model with its whole text pipeline (converter/hf_bpe.cc).
Error ReadRankedBpe(const std::string& path, const nlohmann::json& j, uint32_t vocab_size, schema::TokenizerT* out);

// Writes the piece table (piece_data, piece_offsets, scores 0, types, byte_values) of `pieces`;
// byte_values may be null (all 0).
void WritePieces(const std::vector<std::string>& pieces, const std::vector<schema::TokenType>& types,
                 const std::vector<uint8_t>* byte_values, schema::TokenizerT* out);

// A byte-level BPE vocabulary as files spell it (tokenizer.json, GGUF's "gpt2" tokenizer).
struct ByteLevelVocab {
  std::vector<std::string> texts;         // per id: the byte-level spelling, or raw text when raw[id]
  std::vector<bool> raw;                  // added tokens are raw text
  std::vector<schema::TokenType> types;   // Normal, or Control for special tokens and unused ids
  std::vector<std::pair<std::string, std::string>> merges;  // byte-level spellings, best first
};

// Fills the ByteLevelBPE table (pieces as raw bytes, merges as id pairs) from `v`. `where` names
// the file in errors. bos_id, eos_id and unk_id are left at -1 for the caller.
Error BuildByteLevelTokenizer(const std::string& where, const ByteLevelVocab& v, schema::Pretokenizer pre,
                              schema::TokenizerT* out);

}  // namespace convert
}  // namespace edgeformer
