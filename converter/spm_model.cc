#include "converter/spm_model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>

#include "converter/hf_tokenizer.h"
#include "converter/json_file.h"
#include "converter/safetensors.h"
#include "converter/token_text.h"

namespace edgeformer {
namespace convert {
namespace {

// The protobuf wire format, bounds-checked: varints, fixed32, length-delimited fields.
class Wire {
 public:
  Wire(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool done() const { return p_ == end_; }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      *v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  // The next field's number and wire type.
  bool Key(uint32_t* field, uint32_t* wire) {
    uint64_t k = 0;
    if (!Varint(&k) || (k >> 3) == 0 || (k >> 3) > (1u << 29)) return false;
    *field = static_cast<uint32_t>(k >> 3);
    *wire = static_cast<uint32_t>(k & 7);
    return true;
  }
  bool Bytes(const uint8_t** data, size_t* n) {
    uint64_t len = 0;
    if (!Varint(&len) || len > static_cast<uint64_t>(end_ - p_)) return false;
    *data = p_;
    *n = static_cast<size_t>(len);
    p_ += len;
    return true;
  }
  bool Fixed32(uint32_t* v) {
    if (end_ - p_ < 4) return false;
    *v = uint32_t{p_[0]} | uint32_t{p_[1]} << 8 | uint32_t{p_[2]} << 16 | uint32_t{p_[3]} << 24;
    p_ += 4;
    return true;
  }
  // Skips a field of wire type `wire` (groups are refused).
  bool Skip(uint32_t wire) {
    uint64_t v = 0;
    uint32_t f = 0;
    const uint8_t* d = nullptr;
    size_t n = 0;
    switch (wire) {
      case 0: return Varint(&v);
      case 1: if (end_ - p_ < 8) return false; p_ += 8; return true;
      case 2: return Bytes(&d, &n);
      case 5: return Fixed32(&f);
      default: return false;
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// Reads the fields of one message: on(field, wire, &wire_reader) consumes a field it knows and
// returns 1, or 0 to have it skipped, or -1 for a malformed value.
template <typename On>
bool Message(const uint8_t* data, size_t n, On on) {
  Wire w(data, n);
  while (!w.done()) {
    uint32_t field = 0, wire = 0;
    if (!w.Key(&field, &wire)) return false;
    const int r = on(field, wire, &w);
    if (r < 0) return false;
    if (r == 0 && !w.Skip(wire)) return false;
  }
  return true;
}

bool ReadBool(uint32_t wire, Wire* w, bool* out) {
  uint64_t v = 0;
  if (wire != 0 || !w->Varint(&v)) return false;
  *out = v != 0;
  return true;
}

bool ReadInt(uint32_t wire, Wire* w, int32_t* out) {
  uint64_t v = 0;
  if (wire != 0 || !w->Varint(&v)) return false;
  *out = static_cast<int32_t>(static_cast<uint32_t>(v));  // int32: negatives are 10-byte varints
  return true;
}

}  // namespace

Result<SpmModel> ReadSpmModel(const std::string& path) {
  auto bad = [&](const std::string& what) { return Error(Status::kInvalidModel, path + ": " + what); };
  constexpr size_t kMaxBytes = size_t{64} << 20;  // real ones: under 5 MB
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Status::kIoError, path + ": cannot open");
  std::string bytes;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {  // read in steps: a FIFO has no size
    bytes.append(buffer, static_cast<size_t>(in.gcount()));
    if (bytes.size() > kMaxBytes) return bad("larger than 64 MiB; not a SentencePiece model");
  }
  SpmModel m;
  const auto* base = reinterpret_cast<const uint8_t*>(bytes.data());
  bool piece_ok = true;
  const bool ok = Message(base, bytes.size(), [&](uint32_t field, uint32_t wire, Wire* w) -> int {
    const uint8_t* d = nullptr;
    size_t n = 0;
    if (field == 1 || field == 2 || field == 3) {
      if (wire != 2 || !w->Bytes(&d, &n)) return -1;
    }
    if (field == 1) {  // SentencePiece
      SpmModel::Piece piece;
      piece_ok = piece_ok && Message(d, n, [&](uint32_t f, uint32_t wt, Wire* pw) -> int {
        if (f == 1) {
          const uint8_t* s = nullptr;
          size_t len = 0;
          if (wt != 2 || !pw->Bytes(&s, &len)) return -1;
          piece.text.assign(reinterpret_cast<const char*>(s), len);
          return 1;
        }
        if (f == 2) {
          uint32_t bits = 0;
          if (wt != 5 || !pw->Fixed32(&bits)) return -1;
          std::memcpy(&piece.score, &bits, 4);
          return std::isfinite(piece.score) ? 1 : -1;
        }
        if (f == 3) {
          int32_t type = 0;
          if (!ReadInt(wt, pw, &type) || type < 1 || type > 6) return -1;
          piece.type = static_cast<SpmModel::Type>(type);
          return 1;
        }
        return 0;
      });
      m.pieces.push_back(std::move(piece));
      return 1;
    }
    if (field == 2) {  // TrainerSpec
      piece_ok = piece_ok && Message(d, n, [&](uint32_t f, uint32_t wt, Wire* tw) -> int {
        switch (f) {
          case 3: return ReadInt(wt, tw, &m.model_type) ? 1 : -1;
          case 24: return ReadBool(wt, tw, &m.treat_whitespace_as_suffix) ? 1 : -1;
          case 35: return ReadBool(wt, tw, &m.byte_fallback) ? 1 : -1;
          case 40: return ReadInt(wt, tw, &m.unk_id) ? 1 : -1;
          case 41: return ReadInt(wt, tw, &m.bos_id) ? 1 : -1;
          case 42: return ReadInt(wt, tw, &m.eos_id) ? 1 : -1;
          case 43: return ReadInt(wt, tw, &m.pad_id) ? 1 : -1;
          default: return 0;
        }
      });
      return 1;
    }
    if (field == 3) {  // NormalizerSpec
      piece_ok = piece_ok && Message(d, n, [&](uint32_t f, uint32_t wt, Wire* nw) -> int {
        if (f == 2) {
          const uint8_t* s = nullptr;
          size_t len = 0;
          if (wt != 2 || !nw->Bytes(&s, &len)) return -1;
          m.charsmap.assign(reinterpret_cast<const char*>(s), len);
          return 1;
        }
        switch (f) {
          case 3: return ReadBool(wt, nw, &m.add_dummy_prefix) ? 1 : -1;
          case 4: return ReadBool(wt, nw, &m.remove_extra_whitespaces) ? 1 : -1;
          case 5: return ReadBool(wt, nw, &m.escape_whitespaces) ? 1 : -1;
          default: return 0;
        }
      });
      return 1;
    }
    return 0;
  });
  if (!ok || !piece_ok) return bad("not a SentencePiece model (malformed protobuf)");
  if (m.pieces.empty()) return bad("a SentencePiece model without pieces");
  return m;
}

Error BuildSpmTokenizer(const std::string& where, const SpmModel& spm, uint32_t vocab_size,
                        const std::unordered_map<std::string, int32_t>* vocab, bool add_eos, schema::TokenizerT* out) {
  auto refuse = [&](const std::string& what) {
    return Error(Status::kUnsupported, where + ": " + what + " is not implemented by edgeformer");
  };
  if (spm.model_type != 1) {
    return refuse("SentencePiece model type " + std::to_string(spm.model_type) + " (edgeformer reads unigram ones here)");
  }
  if (spm.treat_whitespace_as_suffix) return refuse("treat_whitespace_as_suffix");
  if (!spm.escape_whitespaces) return refuse("a SentencePiece model that does not escape whitespace");
  const size_t n_spm = spm.pieces.size();
  if (vocab == nullptr && n_spm > vocab_size) {
    return Error(Status::kInvalidModel, where + ": " + std::to_string(n_spm) + " pieces for a model of " +
                                            std::to_string(vocab_size) + " tokens");
  }
  std::vector<std::string> pieces(vocab_size);
  std::vector<schema::TokenType> types(vocab_size, schema::TokenType::Control);
  std::vector<uint8_t> byte_values(vocab_size, 0);
  std::vector<float> scores(vocab_size, 0.0f);
  auto place = [&](uint32_t id, const SpmModel::Piece& p) {
    using T = SpmModel::Type;
    uint8_t byte = 0;
    pieces[id] = SpaceMarksToSpaces(p.text);
    scores[id] = p.score;
    switch (p.type) {
      case T::kNormal: types[id] = schema::TokenType::Normal; break;
      case T::kUserDefined: types[id] = schema::TokenType::UserDefined; break;
      case T::kUnused: types[id] = schema::TokenType::Unused; break;
      case T::kUnknown: types[id] = schema::TokenType::Unknown; break;
      case T::kControl: types[id] = schema::TokenType::Control; break;
      case T::kByte:
        if (ParseByteToken(p.text, &byte)) {
          types[id] = schema::TokenType::Byte;
          byte_values[id] = byte;
        }
        break;
    }
  };
  out->unk_id = -1;
  out->bos_id = -1;
  out->eos_id = -1;
  if (vocab == nullptr) {
    for (size_t i = 0; i < n_spm; ++i) place(static_cast<uint32_t>(i), spm.pieces[i]);
    auto id = [&](int32_t v) { return v >= 0 && static_cast<size_t>(v) < n_spm ? v : -1; };
    out->unk_id = id(spm.unk_id);
    out->eos_id = id(spm.eos_id);
  } else {
    std::unordered_map<std::string, size_t> by_text;
    for (size_t i = 0; i < n_spm; ++i) by_text.emplace(spm.pieces[i].text, i);
    for (const auto& [text, id] : *vocab) {
      if (id < 0 || static_cast<uint32_t>(id) >= vocab_size) {
        return Error(Status::kInvalidModel, where + ": vocabulary id " + std::to_string(id) + " of '" + text +
                                                "' is outside the model's " + std::to_string(vocab_size) + " tokens");
      }
      const auto it = by_text.find(text);
      if (it != by_text.end()) {
        place(static_cast<uint32_t>(id), spm.pieces[it->second]);
      } else {
        pieces[id] = SpaceMarksToSpaces(text);
        types[id] = schema::TokenType::Unused;
      }
    }
    for (const auto& [name, target] : {std::pair<const char*, int32_t*>{"<unk>", &out->unk_id}, {"</s>", &out->eos_id}}) {
      const auto it = vocab->find(name);
      if (it != vocab->end()) {
        *target = it->second;
        types[it->second] = name == std::string("<unk>") ? schema::TokenType::Unknown : schema::TokenType::Control;
      }
    }
    const auto pad = vocab->find("<pad>");
    if (pad != vocab->end()) types[pad->second] = schema::TokenType::Control;
    // MarianTokenizer segments with the whole spm, then maps a piece vocab.json lacks to <unk>
    // and an unknown span to its vocab.json id where it has one.
    // A user-defined piece scores as spm scores it: its byte length x max(0, the best Normal
    // score) - 0.1 (here in float).
    float best = 0.0f;
    for (const SpmModel::Piece& p : spm.pieces) best = p.type == SpmModel::Type::kNormal ? std::max(best, p.score) : best;
    out->segment_offsets.push_back(0);
    for (const SpmModel::Piece& p : spm.pieces) {
      const bool user = p.type == SpmModel::Type::kUserDefined;
      if ((p.type != SpmModel::Type::kNormal && !user) || vocab->count(p.text) != 0) continue;
      const std::string text = SpaceMarksToSpaces(p.text);
      out->segment_data.insert(out->segment_data.end(), text.begin(), text.end());
      out->segment_offsets.push_back(static_cast<uint32_t>(out->segment_data.size()));
      out->segment_scores.push_back(user ? static_cast<float>(static_cast<double>(p.text.size() * best) - 0.1) : p.score);
    }
    if (out->segment_scores.empty()) out->segment_offsets.clear();
    out->unknown_as_piece = true;
  }
  if (out->unk_id < 0) return Error(Status::kInvalidModel, where + ": the vocabulary has no unknown piece");
  out->kind = schema::TokenizerKind::Unigram;
  out->byte_fallback = spm.byte_fallback;
  out->fuse_unk = true;
  out->marker_spaces = true;
  out->strip_space_after_bos = spm.add_dummy_prefix;
  out->add_dummy_prefix = false;  // a pipeline step below
  auto step = [&](schema::NormalizerKind kind) {
    out->normalizers.push_back(std::make_unique<schema::NormalizerStepT>());
    out->normalizers.back()->kind = kind;
    return out->normalizers.back().get();
  };
  // Always a charsmap: spm turns bytes that are not UTF-8 into U+FFFD even without one (an
  // identity model's is a trie without keys).
  static const uint8_t kNoKeys[] = {4, 0, 0, 0, 0, 0, 0, 0, 0};
  auto* map = step(schema::NormalizerKind::Precompiled);
  if (spm.charsmap.empty()) {
    map->data.assign(std::begin(kNoKeys), std::end(kNoKeys));
  } else {
    map->data.assign(spm.charsmap.begin(), spm.charsmap.end());
  }
  // spm drops leading spaces and repeated ones before escaping, and every U+2581 at the end
  // after it (a literal one in the text too).
  if (spm.remove_extra_whitespaces) step(schema::NormalizerKind::CollapseSpaces)->left = true;
  if (spm.add_dummy_prefix) step(schema::NormalizerKind::Prepend)->content = " ";
  auto* escape = step(schema::NormalizerKind::Replace);
  escape->pattern = " ";
  escape->content = "\xE2\x96\x81";
  if (spm.remove_extra_whitespaces) step(schema::NormalizerKind::TrimEnd)->pattern = "\xE2\x96\x81";
  if (add_eos && out->eos_id >= 0) out->template_suffix.push_back(out->eos_id);
  WritePieces(pieces, types, &byte_values, out);
  out->scores = scores;
  return Error::Ok();
}

// Marian's tokenizers as MarianTokenizer reads them: source.spm segments the source and
// target.spm the target, each piece mapped to its id by vocab.json (target_vocab.json for the
// target when the vocabularies are separate); a source ends with </s>.
Error ReadMarianTokenizers(const std::string& dir, uint32_t source_vocab, uint32_t target_vocab, bool shared,
                           ModelData* model) {
  auto read_vocab = [&](const std::string& path, std::unordered_map<std::string, int32_t>* out) -> Error {
    Result<nlohmann::json> read = ReadJsonFile(path, uint64_t{64} << 20);
    if (!read.ok()) return read.error();
    if (!read.value().is_object()) return Error(Status::kInvalidModel, path + ": not a JSON object");
    std::unordered_map<int64_t, std::string> seen;
    for (const auto& [text, id] : read.value().items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
        return Error(Status::kInvalidModel, path + ": the id of '" + text + "' is not an id");
      }
      const auto [it, fresh] = seen.emplace(id.get<int64_t>(), text);
      if (!fresh) return Error(Status::kInvalidModel, path + ": id " + id.dump() + " is given to '" + it->second + "' and '" + text + "'");
      (*out)[text] = id.get<int32_t>();
    }
    return Error::Ok();
  };
  std::unordered_map<std::string, int32_t> source_ids, target_ids;
  const std::string vocab_path = JoinPath(dir, "vocab.json"), target_path = JoinPath(dir, "target_vocab.json");
  EF_RETURN_IF_ERROR(GuardJson(vocab_path, [&] { return read_vocab(vocab_path, &source_ids); }));
  if (!shared && PathExists(target_path)) {
    EF_RETURN_IF_ERROR(GuardJson(target_path, [&] { return read_vocab(target_path, &target_ids); }));
  } else {
    target_ids = source_ids;
  }
  const std::string source_spm = JoinPath(dir, "source.spm"), target_spm = JoinPath(dir, "target.spm");
  Result<SpmModel> source = ReadSpmModel(source_spm);
  if (!source.ok()) return source.error();
  Result<SpmModel> target = ReadSpmModel(PathExists(target_spm) ? target_spm : source_spm);
  if (!target.ok()) return target.error();
  EF_RETURN_IF_ERROR(BuildSpmTokenizer(target_spm, target.value(), target_vocab, &target_ids, true, &model->tokenizer));
  model->source_tokenizer = std::make_unique<schema::TokenizerT>();
  EF_RETURN_IF_ERROR(
      BuildSpmTokenizer(source_spm, source.value(), source_vocab, &source_ids, true, model->source_tokenizer.get()));
  // Multilingual models pick the target language with a ">>xx<<" token at the start of the
  // source, which MarianTokenizer splits off whole: added tokens of the source side (matched
  // in any text, as they are not special; they decode to their text).
  std::vector<std::pair<int32_t, std::string>> codes;
  for (const auto& [text, id] : source_ids) {
    if (text.size() > 4 && text.compare(0, 2, ">>") == 0 && text.compare(text.size() - 2, 2, "<<") == 0) {
      codes.emplace_back(id, text);
    }
  }
  std::sort(codes.begin(), codes.end());
  for (const auto& [id, text] : codes) {
    auto a = std::make_unique<schema::AddedTokenT>();
    a->id = id;
    a->content = text;
    model->source_tokenizer->added_tokens.push_back(std::move(a));
  }
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
