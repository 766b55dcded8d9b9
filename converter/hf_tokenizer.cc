#include "converter/hf_tokenizer.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <map>
#include <unordered_map>

#include "converter/json_file.h"
#include "core/mapped_file.h"
#include "converter/safetensors.h"
#include "converter/token_text.h"

namespace edgeformer {
namespace convert {

// converter/hf_wordpiece.cc.
Error ReadWordPiece(const std::string& path, const nlohmann::json& j, uint32_t vocab_size, schema::TokenizerT* out);

std::unordered_map<uint32_t, uint8_t> ByteLevelCharToByte() {
  std::unordered_map<uint32_t, uint8_t> map;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    map[printable ? b : next++] = static_cast<uint8_t>(b);
  }
  return map;
}

// A byte-level token string back to its bytes; false when a character is not in the alphabet.
bool DecodeByteLevelText(const std::string& s, const std::unordered_map<uint32_t, uint8_t>& table, std::string* out) {
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

namespace {

Error Bad(const std::string& path, const std::string& what) { return Error(Status::kInvalidModel, path + ": " + what); }

}  // namespace

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
  const auto table = ByteLevelCharToByte();
  const size_t n = v.texts.size();
  std::vector<std::string> pieces(n);
  std::unordered_map<std::string, int32_t> by_text;  // normal tokens by their byte-level spelling
  for (size_t i = 0; i < n; ++i) {
    if (v.raw[i] || v.types[i] != schema::TokenType::Normal) {
      pieces[i] = v.texts[i];
    } else if (!DecodeByteLevelText(v.texts[i], table, &pieces[i])) {
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
  WritePieces(pieces, v.types, nullptr, out);
  return Error::Ok();
}

void WritePieces(const std::vector<std::string>& pieces, const std::vector<schema::TokenType>& types,
                 const std::vector<uint8_t>* byte_values, schema::TokenizerT* out) {
  out->piece_offsets.push_back(0);
  for (size_t i = 0; i < pieces.size(); ++i) {
    out->piece_data.insert(out->piece_data.end(), pieces[i].begin(), pieces[i].end());
    out->piece_offsets.push_back(static_cast<uint32_t>(out->piece_data.size()));
    out->scores.push_back(0.0f);
    out->types.push_back(types[i]);
    out->byte_values.push_back(byte_values != nullptr ? (*byte_values)[i] : 0);
  }
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
  const std::string model_type = j.contains("model") && j["model"].is_object() ? j["model"].value("type", "") : "";
  if (model_type != "BPE" && model_type != "Unigram") {
    const std::string type = j.contains("model") && j["model"].is_object() ? j["model"].value("type", "") : "";
    return Error(Status::kUnsupported, path + ": tokenizer model '" + type +
                                           "' is not implemented by edgeformer (BPE, Unigram and WordPiece are)");
  }
  return ReadRankedBpe(path, j, vocab_size, out);
}

}  // namespace

Error ReadChatTemplate(const std::string& dir, std::string* out, std::string* bos_token, std::string* eos_token) {
  out->clear();
  bos_token->clear();
  eos_token->clear();
  const std::string jinja = JoinPath(dir, "chat_template.jinja");
  const std::string config = JoinPath(dir, "tokenizer_config.json");
  if (PathExists(config)) {
    EF_RETURN_IF_ERROR(GuardJson(config, [&]() -> Error {
      Result<nlohmann::json> read = ReadJsonFile(config, uint64_t{64} << 20);
      if (!read.ok()) return read.error();
      const nlohmann::json& j = read.value();
      for (const auto& [key, target] : {std::pair<const char*, std::string*>{"bos_token", bos_token}, {"eos_token", eos_token}}) {
        const nlohmann::json t = j.is_object() && j.contains(key) ? j[key] : nlohmann::json();
        if (t.is_string()) *target = t.get<std::string>();
        if (t.is_object() && t.contains("content") && t["content"].is_string()) *target = t["content"].get<std::string>();
      }
      const nlohmann::json t = j.is_object() && j.contains("chat_template") ? j["chat_template"] : nlohmann::json();
      if (t.is_string()) {
        *out = t.get<std::string>();
      } else if (t.is_array()) {
        for (const auto& named : t) {
          if (named.is_object() && named.value("name", "") == "default" && named.contains("template") &&
              named["template"].is_string()) {
            *out = named["template"].get<std::string>();
          }
        }
      } else if (!t.is_null()) {
        return Bad(config, "chat_template is neither a string nor a list of named templates");
      }
      return Error::Ok();
    }));
  }
  if (PathExists(jinja)) {  // newer checkpoints keep the template in its own file
    std::ifstream in(jinja, std::ios::binary);
    out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return Error(Status::kIoError, jinja + ": cannot read");
  }
  if (out->size() > kMaxChatTemplateBytes) return Error(Status::kInvalidModel, dir + ": the chat template is longer than 1 MiB");
  return Error::Ok();
}

Error ReadHfTokenizer(const std::string& path, uint32_t vocab_size, schema::TokenizerT* out) {
  return GuardJson(path, [&] { return ReadHfTokenizerUnchecked(path, vocab_size, out); });
}

}  // namespace convert
}  // namespace edgeformer
