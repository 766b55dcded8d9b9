// WordPiece tokenizer.json (BERT and its sentence-embedding descendants): model.type "WordPiece"
// with vocab, unk_token, continuing_subword_prefix and max_input_chars_per_word; a BertNormalizer
// (clean_text, handle_chinese_chars, strip_accents, which follows lowercase when null, lowercase)
// or none; the BertPreTokenizer; a BertProcessing or TemplateProcessing post-processor whose
// [CLS] and [SEP] become BOS and EOS.
#include <nlohmann/json.hpp>

#include <unordered_map>

#include "converter/hf_tokenizer.h"
#include "converter/json_file.h"

namespace edgeformer {
namespace convert {
namespace {

Error Bad(const std::string& path, const std::string& what) { return Error(Status::kInvalidModel, path + ": " + what); }

// The special token a post-processor puts at `which` (0: first, 1: last of a single text).
std::string PostToken(const nlohmann::json& j, int which) {
  const nlohmann::json post = j.contains("post_processor") ? j["post_processor"] : nlohmann::json();
  if (!post.is_object()) return "";
  if (post.value("type", "") == "BertProcessing" || post.value("type", "") == "RobertaProcessing") {
    const char* key = which == 0 ? "cls" : "sep";
    if (post.contains(key) && post[key].is_array() && !post[key].empty() && post[key][0].is_string()) {
      return post[key][0].get<std::string>();
    }
  }
  if (post.value("type", "") == "TemplateProcessing" && post.contains("single") && post["single"].is_array() &&
      !post["single"].empty()) {
    const nlohmann::json& single = post["single"];
    const nlohmann::json& item = which == 0 ? single.front() : single.back();
    if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].contains("id")) {
      return item["SpecialToken"]["id"].get<std::string>();
    }
  }
  return "";
}

}  // namespace

Error ReadWordPiece(const std::string& path, const nlohmann::json& j, uint32_t vocab_size, schema::TokenizerT* out) {
  const nlohmann::json& model = j["model"];
  if (!model.contains("vocab") || !model["vocab"].is_object()) return Bad(path, "model.vocab is missing");
  const nlohmann::json& norm = j.contains("normalizer") ? j["normalizer"] : nlohmann::json();
  if (norm.is_object() && norm.value("type", "") == "BertNormalizer") {
    out->clean_text = norm.value("clean_text", true);
    out->tokenize_chinese_chars = norm.value("handle_chinese_chars", true);
    out->lowercase = norm.value("lowercase", true);
    out->strip_accents = norm.contains("strip_accents") && norm["strip_accents"].is_boolean()
                             ? norm["strip_accents"].get<bool>()
                             : out->lowercase;
  } else if (!norm.is_null()) {
    return Error(Status::kUnsupported, path + ": normalizer " + norm.dump().substr(0, 200) +
                                           " (WordPiece vocabularies need the BertNormalizer or none)");
  }
  const nlohmann::json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : nlohmann::json();
  if (!pre.is_object() || pre.value("type", "") != "BertPreTokenizer") {
    return Error(Status::kUnsupported, path + ": pre-tokenizer " + pre.dump().substr(0, 200) +
                                           " (WordPiece vocabularies need the BertPreTokenizer)");
  }
  std::vector<std::string> pieces(vocab_size);
  std::vector<schema::TokenType> types(vocab_size, schema::TokenType::Control);
  std::unordered_map<std::string, int32_t> by_text;
  EF_RETURN_IF_ERROR(ReadVocabIds(path, model["vocab"], vocab_size, [&](uint32_t i, const std::string& text) {
    pieces[i] = text;
    types[i] = schema::TokenType::Normal;
    by_text.emplace(text, static_cast<int32_t>(i));
  }));
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& t : j["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_unsigned() || !t.contains("content") ||
          !t["content"].is_string()) {
        return Bad(path, "an added token needs an id and a content");
      }
      const uint64_t i = t["id"].get<uint64_t>();
      if (i >= vocab_size) return Bad(path, "added token id " + std::to_string(i) + " is outside the vocabulary");
      pieces[i] = t["content"].get<std::string>();
      by_text[pieces[i]] = static_cast<int32_t>(i);
      if (t.value("special", false)) types[i] = schema::TokenType::Control;
    }
  }
  auto id_of = [&](const std::string& text) {
    const auto it = by_text.find(text);
    return it == by_text.end() ? -1 : it->second;
  };
  const std::string unk = model.value("unk_token", std::string("[UNK]"));
  out->unk_id = id_of(unk);
  if (out->unk_id < 0) return Bad(path, "unk_token '" + unk + "' is not in the vocabulary");
  types[out->unk_id] = schema::TokenType::Unknown;
  out->kind = schema::TokenizerKind::WordPiece;
  out->continuing_prefix = model.value("continuing_subword_prefix", std::string("##"));
  out->max_input_chars_per_word = 100;
  EF_RETURN_IF_ERROR(JsonUint(model, "max_input_chars_per_word", UINT32_MAX, path, &out->max_input_chars_per_word));
  out->bos_id = id_of(PostToken(j, 0));
  out->eos_id = id_of(PostToken(j, 1));
  out->pad_id = id_of("[PAD]");
  out->mask_id = id_of("[MASK]");
  out->add_dummy_prefix = false;
  out->strip_space_after_bos = false;
  WritePieces(pieces, types, nullptr, out);
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
