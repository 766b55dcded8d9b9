// The text side of Hugging Face's tokenizer.json for BPE models: normalizers and pre-tokenizers
// as steps (data the model file states), with the semantics of Hugging Face tokenizers
// (normalizers/*.rs, pre_tokenizers/*.rs, NormalizedString::split). The BPE model itself is in
// Tokenizer; added tokens in model/added_tokens.h.
//
// Text is any bytes; bytes that are not valid UTF-8 are characters of no category that no step
// changes. Thread safety: pure functions over immutable steps.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/precompiled.h"
#include "model/pretokenize.h"

namespace edgeformer {

struct NormalizerStep {
  enum class Kind : uint8_t {
    kNfc, kNfkc, kNfd, kNfkd, kLowercase, kReplace, kPrepend, kStrip, kPrecompiled, kCollapseSpaces, kTrimEnd,
    kPrecompiledGraphemes
  };
  Kind kind = Kind::kNfc;
  std::string pattern;  // kReplace: the literal replaced (empty: nothing); kTrimEnd: removed at the end
  std::string content;  // kReplace: its replacement; kPrepend: what goes before non-empty text
  bool left = false;    // kStrip: strip White_Space at the start; kCollapseSpaces: ' '
  bool right = false;   // kStrip: and at the end; kCollapseSpaces: ' '
  std::shared_ptr<const CharsMap> charsmap;  // kPrecompiled, kPrecompiledGraphemes
};

enum class SplitBehavior : uint8_t { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
enum class PrependScheme : uint8_t { kAlways, kNever, kFirst };

struct PreTokenizerStep {
  enum class Kind : uint8_t { kByteLevel, kSplit, kMetaspace, kDigits, kWhitespaceSplit };
  Kind kind = Kind::kSplit;
  // kSplit: the literal to split at, unless regex is not kNone; kMetaspace: the replacement
  // character for spaces (UTF-8, one character).
  std::string pattern;
  Pretokenizer regex = Pretokenizer::kNone;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  bool add_prefix_space = false;  // kByteLevel: ' ' before a piece that does not start with one
  bool use_regex = false;         // kByteLevel: split by GPT-2's pattern
  PrependScheme prepend = PrependScheme::kAlways;  // kMetaspace
  bool split = false;                              // kMetaspace: split before each replacement
  bool individual_digits = false;                  // kDigits
};

// A piece of text on its way through the pipeline. at_start: it begins at the start of the input
// (Metaspace's First scheme prepends only there).
struct TextPiece {
  std::string text;
  bool at_start = false;
};

// Applies the normalizers in order to *text. Returns false (text unspecified) when a step would
// make it longer than max_bytes: a table's Replace and Prepend steps could otherwise multiply a
// text's size at each step.
bool ApplyNormalizers(const std::vector<NormalizerStep>& steps, std::string* text, size_t max_bytes);

// Splits every piece by each pre-tokenizer in order; empty pieces are dropped.
void ApplyPreTokenizers(const std::vector<PreTokenizerStep>& steps, std::vector<TextPiece>* pieces);

}  // namespace edgeformer
