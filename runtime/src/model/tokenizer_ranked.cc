// The RankedBPE kind of Tokenizer: Hugging Face tokenizers' pipeline (added tokens, normalizers,
// pre-tokenizers, the BPE model, the template) over a table the converter wrote from
// tokenizer.json. Every table value is validated in InitRanked before any is used.
#include <string>

#include "model/tokenizer.h"
#include "model/utf8.h"
#include "model_generated.h"

namespace edgeformer {
namespace {

constexpr size_t kMaxSteps = 16;        // normalizers or pre-tokenizers
constexpr size_t kMaxStepText = 256;    // bytes of a step's pattern or content
constexpr size_t kMaxTemplate = 16;     // ids before or after a text
constexpr size_t kMaxCharsMap = size_t{16} << 20;  // real ones: about 250 KB
constexpr char kMarker[] = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// What normalization may make of n bytes: ample for real normalizers (NFKC's longest expansion is
// 18 characters; a SentencePiece Replace triples spaces), and a bound for hostile ones.
constexpr size_t kMaxNormalizedBytes(size_t n) { return 32 * n + 4096; }

std::string Text(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

}  // namespace

Error Tokenizer::InitRanked(const schema::Tokenizer* t) {
  auto bad = [](const std::string& what) { return Error(Status::kInvalidModel, "tokenizer: " + what); };
  const uint32_t vocab_size = static_cast<uint32_t>(pieces_.size());
  // Validate every value first.
  const auto* normalizers = t->normalizers();
  const auto* pre_tokenizers = t->pre_tokenizers();
  if ((normalizers != nullptr && normalizers->size() > kMaxSteps) ||
      (pre_tokenizers != nullptr && pre_tokenizers->size() > kMaxSteps)) {
    return bad("more than " + std::to_string(kMaxSteps) + " normalizers or pre-tokenizers");
  }
  if (normalizers != nullptr) {
    for (const auto* n : *normalizers) {
      if (n == nullptr || static_cast<uint8_t>(n->kind()) > static_cast<uint8_t>(schema::NormalizerKind::PrecompiledGraphemes)) {
        return Error(Status::kUnsupported, "tokenizer: a normalizer of unknown kind");
      }
      if (Text(n->pattern()).size() > kMaxStepText || Text(n->content()).size() > kMaxStepText) {
        return bad("a normalizer's text is longer than " + std::to_string(kMaxStepText) + " bytes");
      }
      if (n->kind() == schema::NormalizerKind::Precompiled || n->kind() == schema::NormalizerKind::PrecompiledGraphemes) {
        if (n->data() == nullptr) return bad("a Precompiled normalizer has no charsmap");
        if (n->data()->size() > kMaxCharsMap) return bad("a Precompiled charsmap is larger than 16 MiB");
        CharsMap check;
        EF_RETURN_IF_ERROR(check.Init(n->data()->data(), n->data()->size()));
      }
    }
  }
  if (pre_tokenizers != nullptr) {
    for (const auto* p : *pre_tokenizers) {
      if (p == nullptr || static_cast<uint8_t>(p->kind()) > static_cast<uint8_t>(schema::PreTokenizerKind::WhitespaceSplit) ||
          static_cast<uint8_t>(p->split_regex()) > static_cast<uint8_t>(schema::Pretokenizer::Qwen2) ||
          static_cast<uint8_t>(p->behavior()) > static_cast<uint8_t>(schema::SplitBehavior::Contiguous) ||
          static_cast<uint8_t>(p->prepend_scheme()) > static_cast<uint8_t>(schema::PrependScheme::First)) {
        return Error(Status::kUnsupported, "tokenizer: a pre-tokenizer of unknown kind or option");
      }
      const std::string pattern = Text(p->pattern());
      if (pattern.size() > kMaxStepText) return bad("a pre-tokenizer's pattern is too long");
      uint32_t cp = 0;
      if (p->kind() == schema::PreTokenizerKind::Metaspace &&
          (pattern.empty() || utf8::Next(pattern, 0, &cp) != pattern.size())) {
        return bad("Metaspace's replacement is not one character");
      }
    }
  }
  for (const auto* ids : {t->template_prefix(), t->template_suffix()}) {
    if (ids == nullptr) continue;
    if (ids->size() > kMaxTemplate) return bad("the template has more than " + std::to_string(kMaxTemplate) + " ids");
    for (const int32_t id : *ids) {
      if (id < 0 || static_cast<uint32_t>(id) >= vocab_size) return bad("a template id is outside the vocabulary");
    }
  }
  // added_tokens' ids were validated by Init (`added`).

  normalizers_.clear();
  if (normalizers != nullptr) {
    for (const auto* n : *normalizers) {
      NormalizerStep step;
      step.kind = static_cast<NormalizerStep::Kind>(n->kind());
      step.pattern = Text(n->pattern());
      step.content = Text(n->content());
      step.left = n->left();
      step.right = n->right();
      if (n->kind() == schema::NormalizerKind::Precompiled || n->kind() == schema::NormalizerKind::PrecompiledGraphemes) {
        auto map = std::make_shared<CharsMap>();
        EF_RETURN_IF_ERROR(map->Init(n->data()->data(), n->data()->size()));
        step.charsmap = std::move(map);
      }
      normalizers_.push_back(std::move(step));
    }
  }
  pre_tokenizers_.clear();
  byte_symbols_ = false;
  if (pre_tokenizers != nullptr) {
    for (const auto* p : *pre_tokenizers) {
      PreTokenizerStep step;
      step.kind = static_cast<PreTokenizerStep::Kind>(p->kind());
      step.pattern = Text(p->pattern());
      step.regex = static_cast<Pretokenizer>(p->split_regex());
      step.behavior = static_cast<SplitBehavior>(p->behavior());
      step.invert = p->invert();
      step.add_prefix_space = p->add_prefix_space();
      step.use_regex = p->use_regex();
      step.prepend = static_cast<PrependScheme>(p->prepend_scheme());
      step.split = p->split();
      step.individual_digits = p->individual_digits();
      byte_symbols_ = byte_symbols_ || step.kind == PreTokenizerStep::Kind::kByteLevel;
      pre_tokenizers_.push_back(std::move(step));
    }
  }
  if (byte_symbols_) {
    for (int b = 0; b < 256; ++b) {
      byte_ids_[b] = Lookup(std::string_view(&byte_chars_[b], 1));
      if (byte_ids_[b] < 0) return bad("byte-level vocabulary has no token for byte " + std::to_string(b));
    }
  }
  byte_fallback_ = t->byte_fallback();
  ignore_merges_ = t->ignore_merges();
  fuse_unk_ = t->fuse_unk();
  marker_spaces_ = t->marker_spaces();
  template_prefix_.clear();
  if (t->template_prefix() != nullptr) {
    for (const int32_t id : *t->template_prefix()) template_prefix_.push_back(id);
  }
  template_suffix_.clear();
  if (t->template_suffix() != nullptr) {
    for (const int32_t id : *t->template_suffix()) template_suffix_.push_back(id);
  }

  owned_pieces_.clear();
  std::vector<AddedTokenSpec> raw, normalized;
  std::vector<std::pair<int32_t, std::string_view>> decoded_as;  // set once the merges are built
  if (t->added_tokens() != nullptr) {
    for (const auto* a : *t->added_tokens()) {
      AddedTokenSpec spec;
      spec.id = a->id();
      spec.text = a->content()->str();
      spec.special = a->special();
      spec.lstrip = a->lstrip();
      spec.rstrip = a->rstrip();
      spec.single_word = a->single_word();
      if (a->normalized()) {
        // Matched as the normalizers write it, and decoded so (Hugging Face decodes it from its
        // normalized text).
        if (!ApplyNormalizers(normalizers_, &spec.text, kMaxNormalizedBytes(spec.text.size()))) {
          return bad("the normalizers make added token " + std::to_string(a->id()) + " too long");
        }
        if (spec.text.empty()) continue;
        std::string& piece = owned_pieces_.emplace_back(spec.text);
        if (marker_spaces_) {
          for (size_t at; (at = piece.find(kMarker)) != std::string::npos;) piece.replace(at, 3, " ");
        }
        if (types_[a->id()] == TokenType::kNormal) decoded_as.emplace_back(a->id(), piece);
        normalized.push_back(std::move(spec));
      } else {
        raw.push_back(std::move(spec));
      }
    }
  }
  added_raw_.Build(raw);
  added_normalized_.Build(normalized);
  EF_RETURN_IF_ERROR(unigram_ ? InitUnigram(t) : InitMerges(t));
  for (const auto& [id, piece] : decoded_as) pieces_[id] = piece;
  return Error::Ok();
}

Error Tokenizer::EncodeRanked(std::string_view text, bool parse_special, std::vector<int32_t>* out) const {
  std::vector<AddedTokenMatcher::Part> parts, inner;
  std::vector<TextPiece> pieces;
  added_raw_.Split(text, parse_special, &parts);
  for (const auto& part : parts) {
    if (part.id >= 0) {
      out->push_back(part.id);
      continue;
    }
    std::string segment(text.substr(part.begin, part.end - part.begin));
    if (!ApplyNormalizers(normalizers_, &segment, kMaxNormalizedBytes(segment.size()))) {
      return Error(Status::kInvalidModel, "tokenizer: the model's normalizers grow a text of " +
                                              std::to_string(part.end - part.begin) + " bytes past " +
                                              std::to_string(kMaxNormalizedBytes(part.end - part.begin)));
    }
    inner.clear();
    added_normalized_.Split(segment, parse_special, &inner);
    for (const auto& p : inner) {
      if (p.id >= 0) {
        out->push_back(p.id);
        continue;
      }
      pieces.clear();
      pieces.push_back(TextPiece{segment.substr(p.begin, p.end - p.begin), part.begin == 0 && p.begin == 0});
      ApplyPreTokenizers(pre_tokenizers_, &pieces);
      for (const TextPiece& piece : pieces) EncodeRankedPiece(piece.text, out);
    }
  }
  return Error::Ok();
}

void Tokenizer::EncodeRankedPiece(std::string_view piece, std::vector<int32_t>* out) const {
  if (unigram_) {
    EncodeUnigramPiece(piece, out);  // its trie spells spaces as the pipeline does
    return;
  }
  // The piece as the vocabulary spells it: with marker_spaces, U+2581 is ' ' and a literal ' '
  // spells nothing (no vocabulary piece may match it).
  std::string spelled;
  bool spellable = true;
  if (marker_spaces_) {
    spelled.reserve(piece.size());
    for (size_t i = 0; i < piece.size();) {
      if (piece.compare(i, 3, kMarker) == 0) {
        spelled.push_back(' ');
        i += 3;
      } else {
        spellable = spellable && piece[i] != ' ';
        spelled.push_back(piece[i++]);
      }
    }
  } else {
    spelled.assign(piece);
  }
  if (ignore_merges_ && spellable) {
    const int32_t id = Lookup(spelled);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  std::vector<int32_t> ids;
  ids.reserve(piece.size());
  if (byte_symbols_) {
    for (char c : piece) ids.push_back(byte_ids_[static_cast<uint8_t>(c)]);
  } else {
    bool unk_pending = false;  // Hugging Face's order: a pending UNK goes before the next known character
    for (size_t i = 0; i < piece.size();) {
      uint32_t cp = 0;
      size_t n = utf8::Next(piece, i, &cp);
      if (n == 0) n = 1;
      const std::string_view c = piece.substr(i, n);
      i += n;
      int32_t id = -1;
      if (marker_spaces_ && c == kMarker) {
        id = Lookup(" ");
      } else if (!(marker_spaces_ && c == " ")) {
        id = Lookup(c);
      }
      if (id >= 0) {
        if (unk_pending) ids.push_back(unk_id_);
        unk_pending = false;
        ids.push_back(id);
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        for (char b : c) all = all && fallback_ids_[static_cast<uint8_t>(b)] >= 0;
        if (all) {
          for (char b : c) ids.push_back(fallback_ids_[static_cast<uint8_t>(b)]);
          continue;
        }
      }
      if (unk_id_ >= 0) {
        if (unk_pending && !fuse_unk_) ids.push_back(unk_id_);
        unk_pending = true;
      }
    }
    if (unk_pending) ids.push_back(unk_id_);
  }
  MergeByRank(&ids);
  out->insert(out->end(), ids.begin(), ids.end());
}

}  // namespace edgeformer
