// Hugging Face `tokenizer.json` to the model file's tokenizer table. Reads BPE models with a
// byte-level pre-tokenizer: GPT-2's (ByteLevel with its own regex), and Llama 3's and Qwen2's
// (a Split on their published regex, then ByteLevel without one). Token strings are mapped back
// from GPT-2's byte-to-character alphabet to the raw bytes they stand for; merges become pairs of
// ids; added tokens become control tokens (special) or normal ones, matched literally.
#pragma once

#include <string>

#include "converter/writer.h"
#include "core/status.h"

namespace edgeformer {
namespace convert {

// Reads `path` into `out` for a model of `vocab_size` tokens (ids the file does not use become
// empty control tokens). bos_id is set when the post-processor prepends a special token.
Error ReadHfTokenizer(const std::string& path, uint32_t vocab_size, schema::TokenizerT* out);

}  // namespace convert
}  // namespace edgeformer
