// SentencePiece model files (tokenizer.model, spiece.model, Marian's source.spm / target.spm): the
// ModelProto protobuf read field by field (sentencepiece_model.proto's numbers), and its unigram
// model written as edgeformer's Unigram tokenizer table with the normalization spm applies:
// the precompiled charsmap, then (remove_extra_whitespaces) spaces collapsed and trimmed, then
// (add_dummy_prefix) a space before non-empty text, every space spelled U+2581.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "converter/writer.h"
#include "core/status.h"

namespace edgeformer {
namespace convert {

struct SpmModel {
  enum class Type : int { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  struct Piece {
    std::string text;  // as the file spells it (U+2581 for spaces)
    float score = 0.0f;
    Type type = Type::kNormal;
  };
  std::vector<Piece> pieces;
  int model_type = 1;  // 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  std::string charsmap;  // NormalizerSpec.precompiled_charsmap
  bool add_dummy_prefix = true, remove_extra_whitespaces = true, escape_whitespaces = true;
};

// Parses the file at `path` (at most 64 MiB); malformed protobuf is an error naming the path.
Result<SpmModel> ReadSpmModel(const std::string& path);

// The Unigram table of `spm` for a model of `vocab_size` token ids. Without `vocab` the ids are
// spm's (vocab_size at least its piece count; ids past it are empty control tokens). With `vocab`
// (Marian's vocab.json: piece text -> model id) the ids are vocab's: a vocab piece gets spm's score
// and type, a piece spm does not have is Unused (decoded; produced only for an unknown span of
// its text), a spm piece vocab.json lacks segments as spm's and gives <unk>, and unk/eos are
// vocab's "<unk>"/"</s>". `add_eos`: encoding with special tokens appends EOS (Marian, T5).
// `where` names the file in errors.
Error BuildSpmTokenizer(const std::string& where, const SpmModel& spm, uint32_t vocab_size,
                        const std::unordered_map<std::string, int32_t>* vocab, bool add_eos, schema::TokenizerT* out);

// Marian's tokenizers as MarianTokenizer reads them from the checkpoint folder `dir`: source.spm
// segments a source and target.spm a target, each piece mapped to its id by vocab.json
// (target_vocab.json for the target when the vocabularies are not shared); encoding with special
// tokens appends </s>; a ">>xx<<" language code in vocab.json is an added token of the source
// side. Fills model->tokenizer and model->source_tokenizer.
Error ReadMarianTokenizers(const std::string& dir, uint32_t source_vocab, uint32_t target_vocab, bool shared,
                           ModelData* model);

}  // namespace convert
}  // namespace edgeformer
