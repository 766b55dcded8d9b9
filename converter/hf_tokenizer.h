// Hugging Face `tokenizer.json` to the model file's tokenizer table. Reads BPE models with a
// byte-level pre-tokenizer: GPT-2's (ByteLevel with its own regex), and Llama 3's and Qwen2's
// (a Split on their published regex, then ByteLevel without one). Token strings are mapped back
// from GPT-2's byte-to-character alphabet to the raw bytes they stand for; merges become pairs of
// ids; added tokens become control tokens (special) or normal ones, matched literally.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
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
