// BPE tokenizer.json (Llama 2/3, Mistral, Qwen2/3, Gemma, Phi-3, SmolLM, GPT-2) to the RankedBPE
// table: the whole pipeline as the file states it, every step the runtime implements
// (runtime/src/model/text_pipeline.h) and nothing approximated: a normalizer, pre-tokenizer,
// post-processor or model option the runtime does not implement is refused with its name.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <unordered_map>

#include "converter/hf_tokenizer.h"
#include "converter/token_text.h"

namespace edgeformer {
namespace convert {
namespace {

using nlohmann::json;
namespace s = schema;

// The split patterns of the pre-tokenizers the runtime implements, as tokenizer.json spells them.
const std::pair<const char*, s::Pretokenizer> kKnownRegexes[] = {
    {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", s::Pretokenizer::GPT2},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     s::Pretokenizer::Llama3},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     s::Pretokenizer::Qwen2},
};
constexpr char kMarker[] = "\xE2\x96\x81";

Error Bad(const std::string& path, const std::string& what) { return Error(Status::kInvalidModel, path + ": " + what); }
Error Refuse(const std::string& path, const std::string& what) {
  return Error(Status::kUnsupported, path + ": " + what + " is not implemented by edgeformer");
}
std::string Type(const json& j) { return j.is_object() ? j.value("type", "") : ""; }
std::string Short(const json& j) { return j.dump().substr(0, 160); }

// Standard base64 (padding optional); false on any other character.
bool DecodeBase64(const std::string& in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+' ? 62 : c == '/' ? 63 : c == '=' ? -2 : -1;
    if (v == -2) break;
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// A Replace or Split pattern: {"String": s} gives s; {"Regex": r} gives r with *regex set.
bool ReadPattern(const json& step, std::string* out, bool* regex) {
  if (!step.contains("pattern") || !step["pattern"].is_object()) return false;
  const json& p = step["pattern"];
  *regex = p.contains("Regex");
  const json& v = *regex ? p["Regex"] : p.contains("String") ? p["String"] : json();
  if (!v.is_string()) return false;
  *out = v.get<std::string>();
  return true;
}

Error ReadNormalizer(const std::string& path, const json& n, std::vector<std::unique_ptr<s::NormalizerStepT>>* out) {
  if (n.is_null()) return Error::Ok();
  const std::string type = Type(n);
  auto step = std::make_unique<s::NormalizerStepT>();
  static const std::map<std::string, s::NormalizerKind> kSimple = {
      {"NFC", s::NormalizerKind::NFC}, {"NFKC", s::NormalizerKind::NFKC}, {"NFD", s::NormalizerKind::NFD},
      {"NFKD", s::NormalizerKind::NFKD}, {"Lowercase", s::NormalizerKind::Lowercase}};
  if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
    for (const json& inner : n["normalizers"]) EF_RETURN_IF_ERROR(ReadNormalizer(path, inner, out));
    return Error::Ok();
  } else if (kSimple.count(type) != 0) {
    step->kind = kSimple.at(type);
  } else if (type == "Replace") {
    bool regex = false;
    if (!ReadPattern(n, &step->pattern, &regex) || !n.contains("content") || !n["content"].is_string()) {
      return Bad(path, "normalizer Replace needs a pattern and a content");
    }
    step->content = n["content"].get<std::string>();
    if (regex && step->pattern == " {2,}" && step->content == " ") {  // T5's: runs of spaces to one
      step->kind = s::NormalizerKind::CollapseSpaces;
      step->pattern.clear();
      step->content.clear();
    } else if (regex) {
      return Refuse(path, "normalizer Replace with a regular expression (" + Short(n["pattern"]) + ")");
    } else {
      step->kind = s::NormalizerKind::Replace;
    }
  } else if (type == "Prepend") {
    if (!n.contains("prepend") || !n["prepend"].is_string()) return Bad(path, "normalizer Prepend needs a prepend");
    step->kind = s::NormalizerKind::Prepend;
    step->content = n["prepend"].get<std::string>();
  } else if (type == "Precompiled") {
    std::string map;
    if (!n.contains("precompiled_charsmap")) return Bad(path, "normalizer Precompiled needs a precompiled_charsmap");
    if (n["precompiled_charsmap"].is_null()) return Error::Ok();  // Hugging Face: an identity
    if (!n["precompiled_charsmap"].is_string() || !DecodeBase64(n["precompiled_charsmap"].get<std::string>(), &map)) {
      return Bad(path, "normalizer Precompiled's charsmap is not base64");
    }
    if (map.empty()) return Error::Ok();
    step->kind = s::NormalizerKind::PrecompiledGraphemes;  // as Hugging Face applies it
    step->data.assign(map.begin(), map.end());
  } else if (type == "Strip") {
    step->kind = s::NormalizerKind::Strip;
    step->left = n.value("strip_left", true);
    step->right = n.value("strip_right", true);
  } else {
    return Refuse(path, "normalizer " + (type.empty() ? Short(n) : type));
  }
  out->push_back(std::move(step));
  return Error::Ok();
}

Error ReadPreTokenizer(const std::string& path, const json& p, std::vector<std::unique_ptr<s::PreTokenizerStepT>>* out) {
  if (p.is_null()) return Error::Ok();
  const std::string type = Type(p);
  auto step = std::make_unique<s::PreTokenizerStepT>();
  if (type == "Sequence" && p.contains("pretokenizers") && p["pretokenizers"].is_array()) {
    for (const json& inner : p["pretokenizers"]) EF_RETURN_IF_ERROR(ReadPreTokenizer(path, inner, out));
    return Error::Ok();
  } else if (type == "ByteLevel") {
    step->kind = s::PreTokenizerKind::ByteLevel;
    step->add_prefix_space = p.value("add_prefix_space", true);
    step->use_regex = p.value("use_regex", true);
  } else if (type == "Split") {
    step->kind = s::PreTokenizerKind::Split;
    bool regex = false;
    std::string pattern;
    if (!ReadPattern(p, &pattern, &regex)) return Bad(path, "pre-tokenizer Split needs a pattern");
    if (regex) {
      for (const auto& [known, kind] : kKnownRegexes) {
        if (pattern == known) step->split_regex = kind;
      }
      if (step->split_regex == s::Pretokenizer::None) {
        return Refuse(path, "pre-tokenizer Split on the regular expression " + json(pattern).dump() +
                                " (the runtime has GPT-2's, Llama 3's and Qwen2's)");
      }
    } else {
      step->pattern = pattern;
    }
    static const std::map<std::string, s::SplitBehavior> kBehaviors = {
        {"Removed", s::SplitBehavior::Removed}, {"Isolated", s::SplitBehavior::Isolated},
        {"MergedWithPrevious", s::SplitBehavior::MergedWithPrevious},
        {"MergedWithNext", s::SplitBehavior::MergedWithNext}, {"Contiguous", s::SplitBehavior::Contiguous}};
    const std::string behavior = p.value("behavior", "Isolated");
    if (kBehaviors.count(behavior) == 0) return Bad(path, "pre-tokenizer Split has behavior '" + behavior + "'");
    step->behavior = kBehaviors.at(behavior);
    step->invert = p.value("invert", false);
  } else if (type == "Metaspace") {
    step->kind = s::PreTokenizerKind::Metaspace;
    step->pattern = p.value("replacement", kMarker);
    step->split = p.value("split", true);
    std::string scheme = p.value("prepend_scheme", "");
    if (scheme.empty()) scheme = p.value("add_prefix_space", true) ? "always" : "never";  // older files
    if (scheme == "always") {
      step->prepend_scheme = s::PrependScheme::Always;
    } else if (scheme == "first") {
      step->prepend_scheme = s::PrependScheme::First;
    } else if (scheme == "never") {
      step->prepend_scheme = s::PrependScheme::Never;
    } else {
      return Bad(path, "Metaspace has prepend_scheme '" + scheme + "'");
    }
  } else if (type == "WhitespaceSplit") {
    step->kind = s::PreTokenizerKind::WhitespaceSplit;
  } else if (type == "Digits") {
    step->kind = s::PreTokenizerKind::Digits;
    step->individual_digits = p.value("individual_digits", false);
  } else {
    return Refuse(path, "pre-tokenizer " + (type.empty() ? Short(p) : type));
  }
  out->push_back(std::move(step));
  return Error::Ok();
}

// The ids a post-processor puts before and after a single text.
Error ReadPostProcessor(const std::string& path, const json& post, const std::unordered_map<std::string, int32_t>& ids,
                        s::TokenizerT* out) {
  if (post.is_null()) return Error::Ok();
  const std::string type = Type(post);
  auto id_of = [&](const std::string& token, int32_t* id) -> Error {
    const auto it = ids.find(token);
    if (it == ids.end()) return Bad(path, "the post-processor's token '" + token + "' is not in the vocabulary");
    *id = it->second;
    return Error::Ok();
  };
  if (type == "Sequence" && post.contains("processors") && post["processors"].is_array()) {
    for (const json& inner : post["processors"]) EF_RETURN_IF_ERROR(ReadPostProcessor(path, inner, ids, out));
    return Error::Ok();
  }
  if (type == "ByteLevel") return Error::Ok();  // offsets only
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    int32_t cls = -1, sep = -1;
    if (!post.contains("cls") || !post["cls"].is_array() || post["cls"].empty() || !post["cls"][0].is_string() ||
        !post.contains("sep") || !post["sep"].is_array() || post["sep"].empty() || !post["sep"][0].is_string()) {
      return Bad(path, type + " needs cls and sep");
    }
    EF_RETURN_IF_ERROR(id_of(post["cls"][0].get<std::string>(), &cls));
    EF_RETURN_IF_ERROR(id_of(post["sep"][0].get<std::string>(), &sep));
    out->template_prefix.push_back(cls);
    out->template_suffix.push_back(sep);
    return Error::Ok();
  }
  if (type != "TemplateProcessing") return Refuse(path, "post-processor " + (type.empty() ? Short(post) : type));
  if (!post.contains("single") || !post["single"].is_array()) return Bad(path, "TemplateProcessing needs single");
  bool after = false;
  for (const json& item : post["single"]) {
    if (item.contains("Sequence")) {
      after = true;
      continue;
    }
    if (!item.contains("SpecialToken") || !item["SpecialToken"].contains("id") || !item["SpecialToken"]["id"].is_string()) {
      return Bad(path, "a TemplateProcessing item is neither Sequence nor SpecialToken");
    }
    const std::string name = item["SpecialToken"]["id"].get<std::string>();
    // The template's special_tokens map a name to its ids; without an entry the name is a token.
    std::vector<int32_t> these;
    const json& specials = post.contains("special_tokens") ? post["special_tokens"] : json();
    if (specials.is_object() && specials.contains(name) && specials[name].contains("ids") && specials[name]["ids"].is_array()) {
      for (const json& id : specials[name]["ids"]) {
        if (!id.is_number_unsigned()) return Bad(path, "special token '" + name + "' has a bad id");
        these.push_back(id.get<int32_t>());
      }
    } else {
      these.emplace_back();
      EF_RETURN_IF_ERROR(id_of(name, &these.back()));
    }
    auto& list = after ? out->template_suffix : out->template_prefix;
    list.insert(list.end(), these.begin(), these.end());
  }
  return Error::Ok();
}

// Whether the decoder strips the space the pre-tokenizer or normalizer put at the start.
bool DecoderStripsFirstSpace(const json& d) {
  const std::string type = Type(d);
  if (type == "Sequence" && d.contains("decoders") && d["decoders"].is_array()) {
    for (const json& inner : d["decoders"]) {
      if (DecoderStripsFirstSpace(inner)) return true;
    }
  }
  if (type == "Strip") return d.value("start", 0.0) > 0.0;  // read as a double: any number converts
  if (type == "Metaspace") {
    const std::string scheme = d.value("prepend_scheme", "");
    return scheme.empty() ? d.value("add_prefix_space", true) : scheme != "never";
  }
  return false;
}

}  // namespace

Error ReadRankedBpe(const std::string& path, const json& j, uint32_t vocab_size, s::TokenizerT* out) {
  const json& model = j["model"];
  const bool unigram = model.value("type", "") == "Unigram";
  if (!model.contains("vocab") || !model["vocab"].is_object() != unigram) return Bad(path, "model.vocab is missing");
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"] != 0) {
    return Refuse(path, "BPE dropout");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty()) {
      return Refuse(path, std::string("BPE's ") + key);
    }
  }
  out->kind = unigram ? s::TokenizerKind::Unigram : s::TokenizerKind::RankedBPE;
  out->hf_unigram = unigram;
  out->byte_fallback = model.value("byte_fallback", false);
  out->fuse_unk = model.value("fuse_unk", unigram);  // Unigram's default fuses
  out->ignore_merges = model.value("ignore_merges", false);
  EF_RETURN_IF_ERROR(ReadNormalizer(path, j.contains("normalizer") ? j["normalizer"] : json(), &out->normalizers));
  EF_RETURN_IF_ERROR(
      ReadPreTokenizer(path, j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json(), &out->pre_tokenizers));
  bool byte_level = false;
  for (const auto& p : out->pre_tokenizers) byte_level = byte_level || p->kind == s::PreTokenizerKind::ByteLevel;
  // SentencePiece vocabularies spell spaces U+2581: the pipeline writes it (a Replace, Prepend or
  // Metaspace), and pieces hold the space it stands for.
  out->marker_spaces = false;
  for (const auto& n : out->normalizers) {
    out->marker_spaces = out->marker_spaces || n->content.find(kMarker) != std::string::npos;
  }
  for (const auto& p : out->pre_tokenizers) {
    if (p->kind != s::PreTokenizerKind::Metaspace) continue;
    if (p->pattern != kMarker) return Refuse(path, "Metaspace with the replacement '" + p->pattern + "'");
    out->marker_spaces = true;
  }
  out->marker_spaces = out->marker_spaces && !byte_level;

  // The BPE model's vocabulary, as pieces (the bytes each token stands for).
  const auto char_to_byte = ByteLevelCharToByte();
  std::vector<std::string> pieces(vocab_size);
  std::vector<s::TokenType> types(vocab_size, s::TokenType::Control);
  std::vector<uint8_t> byte_values(vocab_size, 0);
  std::unordered_map<std::string, int32_t> model_ids;  // vocabulary spelling -> id
  Error bad = Error::Ok();
  std::vector<float> scores(vocab_size, 0.0f);
  auto read_vocab = [&](const std::function<void(uint32_t, const std::string&)>& add) -> Error {
    if (!unigram) return ReadVocabIds(path, model["vocab"], vocab_size, add);
    // Unigram: [[piece, score], ...], the id is the position.
    const json& v = model["vocab"];
    if (v.size() > vocab_size) {
      return Bad(path, std::to_string(v.size()) + " pieces for a model of " + std::to_string(vocab_size) + " tokens");
    }
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_array() || v[i].size() != 2 || !v[i][0].is_string() || !v[i][1].is_number()) {
        return Bad(path, "Unigram vocabulary entry " + std::to_string(i) + " is not [piece, score]");
      }
      const double score = v[i][1].get<double>();
      if (!(std::fabs(score) <= 3.0e38)) return Bad(path, "Unigram piece " + std::to_string(i) + " has a score outside float's range");
      scores[i] = static_cast<float>(score);
      add(static_cast<uint32_t>(i), v[i][0].get<std::string>());
    }
    return Error::Ok();
  };
  EF_RETURN_IF_ERROR(read_vocab([&](uint32_t i, const std::string& text) {
    model_ids.emplace(text, static_cast<int32_t>(i));
    types[i] = s::TokenType::Normal;
    uint8_t byte = 0;
    char canonical[8];
    if (out->byte_fallback && ParseByteToken(text, &byte) &&
        (std::snprintf(canonical, sizeof(canonical), "<0x%02X>", byte), text == canonical)) {
      types[i] = s::TokenType::Byte;
      byte_values[i] = byte;
      pieces[i] = text;
    } else if (byte_level) {
      if (!DecodeByteLevelText(text, char_to_byte, &pieces[i]) && bad.ok()) {
        bad = Bad(path, "token '" + text + "' is not in the byte-level alphabet");
      }
    } else if (out->marker_spaces) {
      if (text.find(' ') != std::string::npos && bad.ok()) {
        bad = Refuse(path, "token '" + text + "' (a literal space in a vocabulary that spells spaces U+2581)");
      }
      pieces[i] = SpaceMarksToSpaces(text);
    } else {
      pieces[i] = text;
    }
  }));
  EF_RETURN_IF_ERROR(bad);
  out->unk_id = -1;
  if (unigram && model.contains("unk_id") && !model["unk_id"].is_null()) {
    if (!model["unk_id"].is_number_unsigned() || model["unk_id"].get<uint64_t>() >= model["vocab"].size()) {
      return Bad(path, "Unigram's unk_id is not a piece");
    }
    out->unk_id = model["unk_id"].get<int32_t>();
    types[out->unk_id] = s::TokenType::Unknown;
  }
  if (unigram && out->unk_id < 0) return Bad(path, "a Unigram vocabulary needs an unk_id");
  if (!unigram && model.contains("unk_token") && model["unk_token"].is_string()) {
    const auto it = model_ids.find(model["unk_token"].get<std::string>());
    if (it == model_ids.end()) return Bad(path, "unk_token is not in the vocabulary");
    out->unk_id = it->second;
    types[it->second] = s::TokenType::Unknown;
  }

  // Added tokens: their text as given; special ones decode to nothing. Ids as Hugging Face gives
  // them (it ignores the file's): the BPE model's id for a text it has, else the next after the
  // model's vocabulary, in file order; a text given twice is one token with the last flags.
  std::unordered_map<std::string, int32_t> ids_by_text = model_ids;  // for the post-processor
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    std::unordered_map<std::string, int32_t> added_ids;
    std::map<int32_t, std::unique_ptr<s::AddedTokenT>> added;
    int64_t next_id = static_cast<int64_t>(model_ids.size());
    for (const json& t : j["added_tokens"]) {
      if (!t.is_object() || !t.contains("content") || !t["content"].is_string()) {
        return Bad(path, "an added token needs a content");
      }
      const std::string content = t["content"].get<std::string>();
      if (content.empty()) continue;  // Hugging Face ignores it
      const auto in_added = added_ids.find(content);
      const auto in_model = model_ids.find(content);
      const int64_t i = in_added != added_ids.end()   ? in_added->second
                        : in_model != model_ids.end() ? in_model->second
                                                      : next_id++;
      if (i >= vocab_size) {
        return Bad(path, "added token '" + content + "' gets id " + std::to_string(i) + ", outside the model's " +
                             std::to_string(vocab_size) + " embeddings");
      }
      auto a = std::make_unique<s::AddedTokenT>();
      a->id = static_cast<int32_t>(i);
      a->special = t.value("special", false);
      a->lstrip = t.value("lstrip", false);
      a->rstrip = t.value("rstrip", false);
      a->single_word = t.value("single_word", false);
      a->normalized = t.value("normalized", !a->special);
      a->in_vocabulary = in_model != model_ids.end();
      a->content = content;
      added_ids[content] = a->id;
      ids_by_text[content] = a->id;
      if (in_model == model_ids.end()) pieces[i] = out->marker_spaces ? SpaceMarksToSpaces(content) : content;
      if (types[i] != s::TokenType::Unknown) types[i] = a->special ? s::TokenType::Control : s::TokenType::Normal;
      added[a->id] = std::move(a);
    }
    for (auto& [id, a] : added) out->added_tokens.push_back(std::move(a));
  }

  // Merges by rank. A pair listed twice keeps its last rank, as Hugging Face's map does.
  std::vector<std::pair<std::string, std::string>> merges;
  if (!unigram) EF_RETURN_IF_ERROR(ReadMerges(path, model, &merges));
  std::unordered_map<uint64_t, size_t> last;
  std::vector<std::pair<int32_t, int32_t>> pairs;
  for (const auto& [left, right] : merges) {
    const auto l = model_ids.find(left), r = model_ids.find(right), joined = model_ids.find(left + right);
    if (l == model_ids.end() || r == model_ids.end() || joined == model_ids.end()) {
      return Bad(path, "merge '" + left + " " + right + "' uses or makes a token not in the vocabulary");
    }
    last[(uint64_t{static_cast<uint32_t>(l->second)} << 32) | static_cast<uint32_t>(r->second)] = pairs.size();
    pairs.emplace_back(l->second, r->second);
  }
  for (size_t k = 0; k < pairs.size(); ++k) {
    const uint64_t key = (uint64_t{static_cast<uint32_t>(pairs[k].first)} << 32) | static_cast<uint32_t>(pairs[k].second);
    if (last[key] != k) continue;
    out->merges.push_back(pairs[k].first);
    out->merges.push_back(pairs[k].second);
  }

  EF_RETURN_IF_ERROR(ReadPostProcessor(path, j.contains("post_processor") ? j["post_processor"] : json(), ids_by_text, out));
  out->bos_id = out->template_prefix.empty() ? -1 : out->template_prefix.front();
  out->eos_id = -1;
  out->add_dummy_prefix = false;
  out->strip_space_after_bos = j.contains("decoder") && DecoderStripsFirstSpace(j["decoder"]);
  WritePieces(pieces, types, &byte_values, out);
  out->scores = scores;
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
