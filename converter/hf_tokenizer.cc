#include "converter/hf_tokenizer.h"

#include <nlohmann/json.hpp>

#include <map>
#include <unordered_map>

#include "converter/json_file.h"
#include "converter/token_text.h"

namespace edgeformer {
namespace convert {

// converter/hf_wordpiece.cc.
Error ReadWordPiece(const std::string& path, const nlohmann::json& j, uint32_t vocab_size, schema::TokenizerT* out);

namespace {

// The regexes of the pre-tokenizers edgeformer implements (runtime/src/model/pretokenize.h), as
// tokenizer.json spells them.
const char* const kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// GPT-2's byte-to-character table, inverted: code point -> byte.
std::unordered_map<uint32_t, uint8_t> CharToByte() {
  std::unordered_map<uint32_t, uint8_t> map;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    map[printable ? b : next++] = static_cast<uint8_t>(b);
  }
  return map;
}

// A byte-level token string back to its bytes; false when a character is not in the alphabet.
bool DecodeByteLevel(const std::string& s, const std::unordered_map<uint32_t, uint8_t>& table, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    uint32_t cp;
    size_t n;
    if (b < 0x80) {
      cp = b, n = 1;
    } else if ((b >> 5) == 6 && i + 1 < s.size()) {
      cp = ((b & 0x1Fu) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3Fu), n = 2;
    } else {
      return false;  // the alphabet has only one- and two-byte characters
    }
    const auto it = table.find(cp);
    if (it == table.end()) return false;
    out->push_back(static_cast<char>(it->second));
    i += n;
  }
  return true;
}

Error Bad(const std::string& path, const std::string& what) { return Error(Status::kInvalidModel, path + ": " + what); }

// model.merges, each "a b" or ["a", "b"], best first.
Error ReadMerges(const std::string& path, const nlohmann::json& model,
                 std::vector<std::pair<std::string, std::string>>* out) {
  if (!model.contains("merges") || !model["merges"].is_array()) return Bad(path, "model.merges is missing");
  for (const auto& m : model["merges"]) {
    out->emplace_back();
    if (m.is_string()) {
      if (!SplitMerge(m.get<std::string>(), &out->back())) {
        return Bad(path, "merge '" + m.get<std::string>() + "' is not two tokens");
      }
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out->back() = {m[0].get<std::string>(), m[1].get<std::string>()};
    } else {
      return Bad(path, "a merge is neither \"a b\" nor [a, b]");
    }
  }
  return Error::Ok();
}

// The post-processor's leading special token (Llama's <s>, Llama 3's <|begin_of_text|>), if any.
std::string TemplateBos(const nlohmann::json& j) {
  const nlohmann::json post = j.contains("post_processor") ? j["post_processor"] : nlohmann::json();
  std::vector<nlohmann::json> candidates;
  if (post.is_object() && post.value("type", "") == "TemplateProcessing") candidates.push_back(post);
  if (post.is_object() && post.value("type", "") == "Sequence" && post.contains("processors")) {
    for (const auto& proc : post["processors"]) {
      if (proc.is_object() && proc.value("type", "") == "TemplateProcessing") candidates.push_back(proc);
    }
  }
  for (const auto& t : candidates) {
    if (t.contains("single") && t["single"].is_array() && !t["single"].empty() && t["single"][0].is_object() &&
        t["single"][0].contains("SpecialToken") && t["single"][0]["SpecialToken"].contains("id")) {
      return t["single"][0]["SpecialToken"]["id"].get<std::string>();
    }
  }
  return "";
}

// SentencePiece's BPE as Hugging Face writes it (Llama 2, TinyLlama): byte_fallback, "▁" for
// spaces, a normalizer that prepends one. It maps onto the scored-BPE table: a piece's score is
// minus the rank of the first merge that makes it, so "best score" is "best merge", as in
// SentencePiece itself; "<0xHH>" pieces are byte-fallback tokens.
Error ReadSentencePieceStyle(const std::string& path, const nlohmann::json& j, uint32_t vocab_size,
                             schema::TokenizerT* out) {
  const nlohmann::json& model = j["model"];
  if (!model.contains("vocab") || !model["vocab"].is_object()) return Bad(path, "model.vocab is missing");
  std::vector<std::string> pieces(vocab_size);
  std::vector<schema::TokenType> types(vocab_size, schema::TokenType::Control);
  std::vector<uint8_t> byte_values(vocab_size, 0);
  std::unordered_map<std::string, int32_t> by_text;
  for (const auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() >= vocab_size) {
      return Bad(path, "token '" + text + "' has id " + id.dump() + ", outside the model's vocabulary of " +
                           std::to_string(vocab_size));
    }
    const uint32_t i = id.get<uint32_t>();
    by_text.emplace(text, static_cast<int32_t>(i));
    if (ParseByteToken(text, &byte_values[i])) {
      types[i] = schema::TokenType::Byte;
      pieces[i] = text;
      continue;
    }
    pieces[i] = SpaceMarksToSpaces(text);
    types[i] = schema::TokenType::Normal;
  }
  std::vector<std::pair<std::string, std::string>> merges;
  EF_RETURN_IF_ERROR(ReadMerges(path, model, &merges));
  const float unmerged = -static_cast<float>(merges.size()) - 1.0f;
  std::vector<float> scores(vocab_size, unmerged);
  std::vector<bool> scored(vocab_size, false);
  size_t rank = 0;
  for (const auto& [left, right] : merges) {
    const auto joined = by_text.find(left + right);
    if (joined == by_text.end()) return Bad(path, "merge '" + left + " " + right + "' makes a token not in the vocabulary");
    if (!scored[joined->second]) {
      scored[joined->second] = true;
      scores[joined->second] = -static_cast<float>(rank);
    }
    ++rank;
  }
  out->kind = schema::TokenizerKind::ScoredBPE;
  out->bos_id = out->eos_id = -1;
  out->unk_id = -1;
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    const auto unk = by_text.find(model["unk_token"].get<std::string>());
    if (unk != by_text.end()) {
      out->unk_id = unk->second;
      types[unk->second] = schema::TokenType::Unknown;
    }
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& t : j["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_unsigned()) return Bad(path, "an added token needs an id");
      const uint64_t i = t["id"].get<uint64_t>();
      if (i >= vocab_size) return Bad(path, "added token id " + std::to_string(i) + " is outside the vocabulary");
      if (t.value("special", false) && types[i] != schema::TokenType::Unknown) types[i] = schema::TokenType::Control;
    }
  }
  const std::string bos = TemplateBos(j);
  const auto bos_it = by_text.find(bos);
  if (!bos.empty() && bos_it != by_text.end()) out->bos_id = bos_it->second;
  // The dummy prefix: a normalizer that prepends "▁", or a Metaspace pre-tokenizer that does.
  const std::string dump = j.contains("normalizer") ? j["normalizer"].dump() : "";
  const std::string pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"].dump() : "";
  out->add_dummy_prefix = dump.find("\"Prepend\"") != std::string::npos ||
                          (pre.find("Metaspace") != std::string::npos && pre.find("\"never\"") == std::string::npos);
  out->strip_space_after_bos = out->add_dummy_prefix;
  out->piece_offsets.push_back(0);
  for (uint32_t i = 0; i < vocab_size; ++i) {
    out->piece_data.insert(out->piece_data.end(), pieces[i].begin(), pieces[i].end());
    out->piece_offsets.push_back(static_cast<uint32_t>(out->piece_data.size()));
    out->scores.push_back(scores[i]);
    out->types.push_back(types[i]);
    out->byte_values.push_back(byte_values[i]);
  }
  return Error::Ok();
}

}  // namespace

Error ReadVocabIds(const std::string& path, const nlohmann::json& vocab, uint32_t vocab_size,
                   const std::function<void(uint32_t, const std::string&)>& add) {
  std::vector<bool> seen(vocab_size, false);
  for (const auto& [text, id] : vocab.items()) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() >= vocab_size) {
      return Bad(path, "token '" + text + "' has id " + id.dump() + ", outside the model's vocabulary of " +
                           std::to_string(vocab_size));
    }
    const uint32_t i = id.get<uint32_t>();
    if (seen[i]) return Bad(path, "id " + std::to_string(i) + " is given twice");
    seen[i] = true;
    add(i, text);
  }
  return Error::Ok();
}

Error BuildByteLevelTokenizer(const std::string& where, const ByteLevelVocab& v, schema::Pretokenizer pre,
                              schema::TokenizerT* out) {
  const auto table = CharToByte();
  const size_t n = v.texts.size();
  std::vector<std::string> pieces(n);
  std::unordered_map<std::string, int32_t> by_text;  // normal tokens by their byte-level spelling
  for (size_t i = 0; i < n; ++i) {
    if (v.raw[i] || v.types[i] != schema::TokenType::Normal) {
      pieces[i] = v.texts[i];
    } else if (!DecodeByteLevel(v.texts[i], table, &pieces[i])) {
      return Bad(where, "token '" + v.texts[i] + "' is not in the byte-level alphabet");
    }
    if (!v.raw[i] && v.types[i] == schema::TokenType::Normal) by_text.emplace(v.texts[i], static_cast<int32_t>(i));
  }
  for (const auto& [left, right] : v.merges) {
    const auto l = by_text.find(left), r = by_text.find(right), joined = by_text.find(left + right);
    if (l == by_text.end() || r == by_text.end() || joined == by_text.end()) {
      return Bad(where, "merge '" + left + " " + right + "' uses or makes a token not in the vocabulary");
    }
    out->merges.push_back(l->second);
    out->merges.push_back(r->second);
  }
  out->kind = schema::TokenizerKind::ByteLevelBPE;
  out->pretokenizer = pre;
  out->add_dummy_prefix = false;
  out->strip_space_after_bos = false;
  out->bos_id = out->eos_id = out->unk_id = -1;
  out->piece_offsets.push_back(0);
  for (size_t i = 0; i < n; ++i) {
    out->piece_data.insert(out->piece_data.end(), pieces[i].begin(), pieces[i].end());
    out->piece_offsets.push_back(static_cast<uint32_t>(out->piece_data.size()));
    out->scores.push_back(0.0f);
    out->types.push_back(v.types[i]);
    out->byte_values.push_back(0);
  }
  return Error::Ok();
}

namespace {

Error ReadHfTokenizerUnchecked(const std::string& path, uint32_t vocab_size, schema::TokenizerT* out) {
  Result<nlohmann::json> read = ReadJsonFile(path, uint64_t{128} << 20);  // real ones: up to about 35 MB
  if (!read.ok()) return read.error();
  const nlohmann::json& j = read.value();
  if (!j.is_object()) return Bad(path, "not a JSON object");
  if (j.contains("model") && j["model"].is_object() && j["model"].value("type", "") == "WordPiece") {
    return ReadWordPiece(path, j, vocab_size, out);
  }
  if (!j.contains("model") || !j["model"].is_object() || j["model"].value("type", "") != "BPE") {
    return Error(Status::kUnsupported, path + ": only BPE and WordPiece models are read");
  }
  const nlohmann::json& model = j["model"];
  if (model.value("byte_fallback", false)) return ReadSentencePieceStyle(path, j, vocab_size, out);
  // The pre-tokenizer decides the split.
  schema::Pretokenizer pre = schema::Pretokenizer::None;
  const nlohmann::json& p = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : nlohmann::json();
  if (p.is_object() && p.value("type", "") == "ByteLevel" && p.value("use_regex", true)) {
    pre = schema::Pretokenizer::GPT2;
    if (p.value("add_prefix_space", false)) return Error(Status::kUnsupported, path + ": add_prefix_space is not supported");
  } else if (p.is_object() && p.value("type", "") == "Sequence" && p.contains("pretokenizers") &&
             p["pretokenizers"].is_array() && p["pretokenizers"].size() == 2) {
    const nlohmann::json& split = p["pretokenizers"][0];
    const nlohmann::json& level = p["pretokenizers"][1];
    const std::string pattern =
        split.contains("pattern") && split["pattern"].is_object() ? split["pattern"].value("Regex", "") : "";
    if (split.value("type", "") == "Split" && level.value("type", "") == "ByteLevel" && !level.value("use_regex", true)) {
      if (pattern == kLlama3Pattern) pre = schema::Pretokenizer::Llama3;
      if (pattern == kQwen2Pattern) pre = schema::Pretokenizer::Qwen2;
    }
    if (pre == schema::Pretokenizer::None) {
      return Error(Status::kUnsupported, path + ": pre-tokenizer split pattern " + nlohmann::json(pattern).dump() +
                                             " is not one edgeformer implements (GPT-2, Llama 3, Qwen2)");
    }
  } else {
    return Error(Status::kUnsupported, path + ": pre-tokenizer " + p.dump().substr(0, 200) + " is not supported");
  }

  if (!model.contains("vocab") || !model["vocab"].is_object()) return Bad(path, "model.vocab is missing");
  ByteLevelVocab v;
  v.texts.resize(vocab_size);
  v.raw.assign(vocab_size, false);
  v.types.assign(vocab_size, schema::TokenType::Control);
  EF_RETURN_IF_ERROR(ReadVocabIds(path, model["vocab"], vocab_size, [&](uint32_t i, const std::string& text) {
    v.texts[i] = text;
    v.types[i] = schema::TokenType::Normal;
  }));
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& t : j["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_unsigned() || !t.contains("content") ||
          !t["content"].is_string()) {
        return Bad(path, "an added token needs an id and a content");
      }
      const uint64_t i = t["id"].get<uint64_t>();
      if (i >= vocab_size) return Bad(path, "added token id " + std::to_string(i) + " is outside the vocabulary");
      v.texts[i] = t["content"].get<std::string>();
      v.raw[i] = true;
      v.types[i] = t.value("special", false) ? schema::TokenType::Control : schema::TokenType::Normal;
    }
  }
  EF_RETURN_IF_ERROR(ReadMerges(path, model, &v.merges));
  EF_RETURN_IF_ERROR(BuildByteLevelTokenizer(path, v, pre, out));

  // A post-processor that prepends a special token (Llama 3's <|begin_of_text|>) makes it BOS.
  const std::string bos = TemplateBos(j);
  for (uint32_t i = 0; i < vocab_size && !bos.empty(); ++i) {
    if (v.types[i] == schema::TokenType::Control && v.raw[i] && v.texts[i] == bos) out->bos_id = static_cast<int32_t>(i);
  }
  return Error::Ok();
}

}  // namespace

Error ReadHfTokenizer(const std::string& path, uint32_t vocab_size, schema::TokenizerT* out) {
  return GuardJson(path, [&] { return ReadHfTokenizerUnchecked(path, vocab_size, out); });
}

}  // namespace convert
}  // namespace edgeformer
