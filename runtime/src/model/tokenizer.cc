#include "model/tokenizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>

#include "model_generated.h"

namespace edgeformer {
namespace {

// Merges adjacent symbols of `ids` in place, the best pair first (the highest priority; of equal
// ones, the leftmost) until no pair merges: exactly what rescanning the sequence for the best pair
// after every merge gives, in O(n log n) instead of O(n^2), so a long hostile prompt costs
// milliseconds, not minutes. candidate(left_id, right_id, &priority, &merged_id) says whether a
// pair merges, into what, and how good the merge is.
template <typename Candidate>
void MergeBestFirst(std::vector<int32_t>* ids, Candidate candidate) {
  std::vector<int32_t>& v = *ids;
  const int32_t n = static_cast<int32_t>(v.size());
  if (n < 2) return;
  std::vector<int32_t> prev(n), next(n);
  std::vector<uint8_t> alive(n, 1);
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Pair {
    double priority;
    int32_t left, right, left_id, right_id, merged;
  };
  auto worse = [](const Pair& a, const Pair& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.left > b.left;
  };
  std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> queue(worse);
  auto consider = [&](int32_t left, int32_t right) {
    double priority = 0.0;
    int32_t merged = -1;
    if (left >= 0 && right >= 0 && candidate(v[left], v[right], &priority, &merged)) {
      queue.push(Pair{priority, left, right, v[left], v[right], merged});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!queue.empty()) {
    const Pair p = queue.top();
    queue.pop();
    // Stale when either symbol has merged since the pair was seen.
    if (!alive[p.left] || !alive[p.right] || next[p.left] != p.right || v[p.left] != p.left_id ||
        v[p.right] != p.right_id) {
      continue;
    }
    v[p.left] = p.merged;
    alive[p.right] = 0;
    next[p.left] = next[p.right];
    if (next[p.right] >= 0) prev[next[p.right]] = p.left;
    consider(prev[p.left], p.left);
    consider(p.left, next[p.left]);
  }
  int32_t out = 0;
  for (int32_t i = 0; i >= 0; i = next[i]) v[out++] = v[i];
  v.resize(out);
}

// Length of the UTF-8 sequence starting at text[i]: the lead byte and its continuation bytes,
// at most 4. Malformed input yields shorter groups, which then fall back to byte tokens.
size_t Utf8Length(std::string_view text, size_t i) {
  size_t n = 1;
  while (i + n < text.size() && n < 4 && (static_cast<uint8_t>(text[i + n]) & 0xC0) == 0x80) ++n;
  return n;
}

}  // namespace

Error Tokenizer::Init(const schema::Tokenizer* t, uint32_t vocab_size) {
  auto bad = [](const std::string& what) { return Error(Status::kInvalidModel, "tokenizer: " + what); };
  present_ = false;
  chat_template_ = "";
  if (t == nullptr) return Error::Ok();
  if (t->kind() != schema::TokenizerKind::ScoredBPE && t->kind() != schema::TokenizerKind::ByteLevelBPE &&
      t->kind() != schema::TokenizerKind::WordPiece && t->kind() != schema::TokenizerKind::RankedBPE &&
      t->kind() != schema::TokenizerKind::Unigram) {
    return Error(Status::kUnsupported, "tokenizer: kind " + std::to_string(static_cast<int>(t->kind())) +
                                           " is not supported by this build");
  }
  byte_level_ = t->kind() == schema::TokenizerKind::ByteLevelBPE;
  wordpiece_ = t->kind() == schema::TokenizerKind::WordPiece;
  unigram_ = t->kind() == schema::TokenizerKind::Unigram;
  ranked_ = t->kind() == schema::TokenizerKind::RankedBPE || unigram_;
  const auto* data = t->piece_data();
  const auto* offsets = t->piece_offsets();
  const auto* scores = t->scores();
  const auto* types = t->types();
  const auto* byte_values = t->byte_values();
  if (data == nullptr || offsets == nullptr || scores == nullptr || types == nullptr || byte_values == nullptr) {
    return bad("a required table is missing");
  }
  if (offsets->size() != static_cast<size_t>(vocab_size) + 1 || scores->size() != vocab_size ||
      types->size() != vocab_size || byte_values->size() != vocab_size) {
    return bad("table sizes disagree with the vocabulary size " + std::to_string(vocab_size));
  }
  if (offsets->Get(0) != 0 || offsets->Get(vocab_size) != data->size()) {
    return bad("piece offsets do not cover the piece data");
  }
  auto check_id = [&](int32_t id, const char* name) -> Error {
    if (id < -1 || id >= static_cast<int64_t>(vocab_size)) {
      return bad(std::string(name) + " id " + std::to_string(id) + " is out of range [0, " +
                 std::to_string(vocab_size) + ")");
    }
    return Error::Ok();
  };
  EF_RETURN_IF_ERROR(check_id(t->bos_id(), "BOS"));
  EF_RETURN_IF_ERROR(check_id(t->eos_id(), "EOS"));
  EF_RETURN_IF_ERROR(check_id(t->unk_id(), "UNK"));
  if (t->chat_template() != nullptr && t->chat_template()->size() > (size_t{1} << 20)) {
    return bad("the chat template is longer than 1 MiB");
  }
  chat_template_ = t->chat_template() != nullptr ? t->chat_template()->c_str() : "";
  for (const auto* s : {t->chat_bos_token(), t->chat_eos_token()}) {
    if (s != nullptr && s->size() > 4096) return bad("the chat template's bos_token or eos_token is longer than 4096 bytes");
  }
  chat_bos_ = t->chat_bos_token() != nullptr ? t->chat_bos_token()->str() : "";
  chat_eos_ = t->chat_eos_token() != nullptr ? t->chat_eos_token()->str() : "";
  chat_.reset();
  chat_error_.clear();
  if (*chat_template_ != '\0') {
    // A template that does not parse leaves the model usable: formatting reports why.
    Result<jinja::Template> parsed = jinja::Template::Parse(chat_template_);
    if (parsed.ok()) {
      chat_ = std::make_shared<const jinja::Template>(parsed.take());
    } else {
      chat_error_ = parsed.error().message();
    }
  }
  bos_id_ = t->bos_id();
  eos_id_ = t->eos_id();
  unk_id_ = t->unk_id();
  add_dummy_prefix_ = t->add_dummy_prefix();
  strip_space_after_bos_ = t->strip_space_after_bos();

  // Every value that indexes or bounds memory is checked, for the whole table, before any of it
  // is used: a piece offset past the data that a later offset "repairs" must not be read.
  for (uint32_t i = 0; i < vocab_size; ++i) {
    if (offsets->Get(i + 1) < offsets->Get(i)) return bad("piece offsets decrease at token " + std::to_string(i));
    const uint8_t type = static_cast<uint8_t>(types->Get(i));
    if (type > static_cast<uint8_t>(TokenType::kUnused)) {
      return bad("token " + std::to_string(i) + " has unknown type " + std::to_string(type));
    }
    const float score = scores->Get(i);
    if (!std::isfinite(score)) return bad("token " + std::to_string(i) + " has a score that is not finite");
  }
  const auto* merges = t->merges();
  if (merges != nullptr) {
    if (merges->size() % 2 != 0) return bad("merges must hold pairs of ids");
    for (flatbuffers::uoffset_t i = 0; i < merges->size(); ++i) {
      const int32_t id = merges->Get(i);
      if (id < 0 || static_cast<uint32_t>(id) >= vocab_size) {
        return bad("merge " + std::to_string(i / 2) + " names token " + std::to_string(id) +
                   ", outside the vocabulary");
      }
    }
  }

  // Added tokens (RankedBPE) outside the BPE model's vocabulary: symbols and whole pieces never
  // look them up.
  std::vector<bool> added(vocab_size, false), seen(vocab_size, false);
  if (ranked_ && t->added_tokens() != nullptr) {
    for (const auto* a : *t->added_tokens()) {
      if (a == nullptr || a->id() < 0 || static_cast<uint32_t>(a->id()) >= vocab_size) {
        return bad("an added token's id is outside the vocabulary");
      }
      if (seen[a->id()]) return bad("token " + std::to_string(a->id()) + " is added twice");
      seen[a->id()] = true;
      if (a->content() == nullptr || a->content()->size() == 0 || a->content()->size() > 4096) {
        return bad("added token " + std::to_string(a->id()) + " has no content, or more than 4096 bytes");
      }
      added[a->id()] = !a->in_vocabulary();
    }
  }
  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = -1;
    fallback_ids_[b] = -1;
    byte_chars_[b] = static_cast<char>(b);
  }
  pieces_.resize(vocab_size);
  scores_.resize(vocab_size);
  types_.resize(vocab_size);
  normal_ids_.reserve(vocab_size);
  const char* base = reinterpret_cast<const char*>(data->data());
  for (uint32_t i = 0; i < vocab_size; ++i) {
    const uint32_t begin = offsets->Get(i), end = offsets->Get(i + 1);
    types_[i] = static_cast<TokenType>(types->Get(i));
    scores_[i] = scores->Get(i);
    if (types_[i] == TokenType::kByte) {
      const uint8_t value = byte_values->Get(i);
      if (byte_ids_[value] < 0) byte_ids_[value] = static_cast<int32_t>(i);
      if (fallback_ids_[value] < 0) fallback_ids_[value] = static_cast<int32_t>(i);
      pieces_[i] = std::string_view(&byte_chars_[value], 1);
    } else {
      pieces_[i] = std::string_view(base + begin, end - begin);
      if (types_[i] == TokenType::kNormal && !pieces_[i].empty() && !added[i]) normal_ids_.emplace(pieces_[i], i);
    }
  }
  if (byte_level_) EF_RETURN_IF_ERROR(InitByteLevel(t));
  if (ranked_) EF_RETURN_IF_ERROR(InitRanked(t));
  if (byte_level_ || wordpiece_) CollectSpecials();
  if (wordpiece_) {
    if (unk_id_ < 0) return bad("a WordPiece vocabulary needs an UNK token");
    const auto* prefix = t->continuing_prefix();
    continuing_prefix_ = prefix != nullptr ? std::string_view(prefix->c_str(), prefix->size()) : std::string_view();
    if (continuing_prefix_.size() > 16) return bad("the continuing prefix is longer than 16 bytes");
    max_word_chars_ = t->max_input_chars_per_word();
    if (max_word_chars_ == 0 || max_word_chars_ > (1u << 16)) {
      return bad("max_input_chars_per_word " + std::to_string(max_word_chars_) + " is outside [1, 65536]");
    }
    normalizer_.clean_text = t->clean_text();
    normalizer_.chinese_chars = t->tokenize_chinese_chars();
    normalizer_.strip_accents = t->strip_accents();
    normalizer_.lowercase = t->lowercase();
    // Decoded pieces: a word-start piece follows a space; a continuing one loses its prefix.
    spaced_.resize(vocab_size);
    for (uint32_t i = 0; i < vocab_size; ++i) {
      if (types_[i] == TokenType::kNormal) spaced_[i] = " " + std::string(pieces_[i]);
    }
  }
  max_piece_bytes_ = 0;
  for (std::string_view p : pieces_) max_piece_bytes_ = std::max(max_piece_bytes_, p.size());
  for (const std::string& p : spaced_) max_piece_bytes_ = std::max(max_piece_bytes_, p.size());
  present_ = true;
  return Error::Ok();
}

Error Tokenizer::InitByteLevel(const schema::Tokenizer* t) {
  auto bad = [](const std::string& what) { return Error(Status::kInvalidModel, "tokenizer: " + what); };
  const uint8_t pre = static_cast<uint8_t>(t->pretokenizer());
  if (pre > static_cast<uint8_t>(Pretokenizer::kQwen2)) {
    return Error(Status::kUnsupported, "tokenizer: pre-tokenizer " + std::to_string(pre) + " is not known");
  }
  pretokenizer_ = static_cast<Pretokenizer>(pre);
  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = Lookup(std::string_view(&byte_chars_[b], 1));
    if (byte_ids_[b] < 0) return bad("byte-level vocabulary has no token for byte " + std::to_string(b));
  }
  return InitMerges(t);
}

Error Tokenizer::InitMerges(const schema::Tokenizer* t) {
  auto bad = [](const std::string& what) { return Error(Status::kInvalidModel, "tokenizer: " + what); };
  const auto* merges = t->merges();  // validated by Init: pairs of ids in the vocabulary
  const size_t n_merges = merges == nullptr ? 0 : merges->size() / 2;
  merges_.reserve(n_merges);
  std::string joined;
  for (size_t r = 0; r < n_merges; ++r) {
    const int32_t left = merges->Get(static_cast<flatbuffers::uoffset_t>(2 * r));
    const int32_t right = merges->Get(static_cast<flatbuffers::uoffset_t>(2 * r + 1));
    joined.assign(pieces_[left]);
    joined.append(pieces_[right]);
    const int32_t result = Lookup(joined);
    if (result < 0) return bad("merge " + std::to_string(r) + " makes a piece that is not a token");
    // The first (best) rank of a pair counts.
    merges_.emplace((uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right),
                    Merge{static_cast<uint32_t>(r), result});
  }
  return Error::Ok();
}

void Tokenizer::CollectSpecials() {
  for (size_t i = 0; i < pieces_.size(); ++i) {
    if ((types_[i] == TokenType::kControl || (wordpiece_ && types_[i] == TokenType::kUnknown)) && !pieces_[i].empty()) {
      specials_[static_cast<uint8_t>(pieces_[i][0])].emplace_back(pieces_[i], static_cast<int32_t>(i));
    }
  }
  for (auto& list : specials_) {
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }
}

template <typename Plain>
void Tokenizer::SplitAtSpecials(std::string_view text, std::vector<int32_t>* out, Plain encode_plain) const {
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    int32_t special = -1;
    size_t length = 0;
    for (const auto& [piece, id] : specials_[static_cast<uint8_t>(text[i])]) {
      if (text.compare(i, piece.size(), piece) == 0) {
        special = id;
        length = piece.size();
        break;
      }
    }
    if (special < 0) {
      ++i;
      continue;
    }
    encode_plain(text.substr(start, i - start));
    out->push_back(special);
    i += length;
    start = i;
  }
  encode_plain(text.substr(start));
}

int32_t Tokenizer::Lookup(std::string_view piece) const {
  auto it = normal_ids_.find(piece);
  return it == normal_ids_.end() ? -1 : it->second;
}

Error Tokenizer::Encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>* out) const {
  if (!present_) return Error(Status::kUnsupported, "this model has no tokenizer: give it token ids");
  if (ranked_) {
    if (add_special) out->insert(out->end(), template_prefix_.begin(), template_prefix_.end());
    EF_RETURN_IF_ERROR(EncodeRanked(text, parse_special, out));
    if (add_special) out->insert(out->end(), template_suffix_.begin(), template_suffix_.end());
    return Error::Ok();
  }
  if (add_special && bos_id_ >= 0) out->push_back(bos_id_);
  if (byte_level_) {
    EncodeByteLevel(text, parse_special, out);
    return Error::Ok();
  }
  if (wordpiece_) {
    EncodeWordPiece(text, parse_special, out);
    if (add_special && eos_id_ >= 0) out->push_back(eos_id_);
    return Error::Ok();
  }
  return EncodeScored(text, out);
}

void Tokenizer::EncodeByteLevel(std::string_view text, bool parse_special, std::vector<int32_t>* out) const {
  std::vector<std::string_view> chunks;
  std::vector<int32_t> ids;
  auto encode_plain = [&](std::string_view plain) {
    chunks.clear();
    Pretokenize(plain, pretokenizer_, &chunks);
    for (std::string_view chunk : chunks) {
      ids.clear();
      for (char c : chunk) ids.push_back(byte_ids_[static_cast<uint8_t>(c)]);
      MergeByRank(&ids);
      out->insert(out->end(), ids.begin(), ids.end());
    }
  };
  if (parse_special) {
    SplitAtSpecials(text, out, encode_plain);
  } else {
    encode_plain(text);
  }
}

void Tokenizer::MergeByRank(std::vector<int32_t>* ids) const {
  MergeBestFirst(ids, [this](int32_t left, int32_t right, double* priority, int32_t* merged) {
    const auto it = merges_.find((uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right));
    if (it == merges_.end()) return false;
    *priority = -static_cast<double>(it->second.rank);
    *merged = it->second.result;
    return true;
  });
}

Error Tokenizer::EncodeScored(std::string_view text, std::vector<int32_t>* out) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() + 1);
  if (add_dummy_prefix_ && !text.empty()) {
    const int32_t space = Lookup(" ");
    if (space >= 0) ids.push_back(space);
  }
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8Length(text, i);
    const int32_t id = Lookup(text.substr(i, n));
    if (id >= 0) {
      ids.push_back(id);
    } else {
      for (size_t b = 0; b < n; ++b) {
        const int32_t byte_id = byte_ids_[static_cast<uint8_t>(text[i + b])];
        const int32_t fallback = byte_id >= 0 ? byte_id : unk_id_;
        if (fallback < 0) {
          static const char kHex[] = "0123456789ABCDEF";
          const uint8_t byte = static_cast<uint8_t>(text[i + b]);
          return Error(Status::kInvalidArgument, std::string("text has a byte (0x") + kHex[byte >> 4] +
                                                     kHex[byte & 15] + ") this vocabulary cannot represent");
        }
        ids.push_back(fallback);
      }
    }
    i += n;
  }
  std::string merged;
  MergeBestFirst(&ids, [&](int32_t left, int32_t right, double* priority, int32_t* merged_id) {
    if (types_[left] != TokenType::kNormal || types_[right] != TokenType::kNormal) return false;
    merged.assign(pieces_[left]);
    merged.append(pieces_[right]);
    const int32_t id = Lookup(merged);
    // Pieces scored -inf (or NaN) never merge.
    if (id < 0 || !(scores_[id] > -std::numeric_limits<float>::infinity())) return false;
    *priority = scores_[id];
    *merged_id = id;
    return true;
  });
  out->insert(out->end(), ids.begin(), ids.end());
  return Error::Ok();
}

void Tokenizer::EncodeWordPiece(std::string_view text, bool parse_special, std::vector<int32_t>* out) const {
  std::vector<std::string> words;
  if (!parse_special) return EncodeWordPieceText(text, out, &words);
  SplitAtSpecials(text, out, [&](std::string_view plain) { EncodeWordPieceText(plain, out, &words); });
}

void Tokenizer::EncodeWordPieceText(std::string_view text, std::vector<int32_t>* out,
                                    std::vector<std::string>* scratch) const {
  std::vector<std::string>& words = *scratch;
  words.clear();
  WordPieceWords(text, normalizer_, &words);
  std::string candidate;
  std::vector<int32_t> pieces;
  for (const std::string& word : words) {
    // Character boundaries of the word (it is valid UTF-8: WordPieceWords wrote it).
    std::vector<size_t> bounds;
    for (size_t i = 0; i < word.size(); ++i) {
      if ((static_cast<uint8_t>(word[i]) & 0xC0) != 0x80) bounds.push_back(i);
    }
    bounds.push_back(word.size());
    if (bounds.size() - 1 > max_word_chars_) {
      out->push_back(unk_id_);
      continue;
    }
    pieces.clear();
    bool bad = false;
    for (size_t start = 0; start + 1 < bounds.size() && !bad;) {
      int32_t found = -1;
      size_t end = bounds.size() - 1;
      for (; end > start; --end) {
        candidate.assign(start > 0 ? continuing_prefix_ : std::string_view());
        candidate.append(word, bounds[start], bounds[end] - bounds[start]);
        found = Lookup(candidate);
        if (found >= 0) break;
      }
      if (found < 0) {
        bad = true;
      } else {
        pieces.push_back(found);
        start = end;
      }
    }
    if (bad) {
      out->push_back(unk_id_);
    } else {
      out->insert(out->end(), pieces.begin(), pieces.end());
    }
  }
}

Error Tokenizer::FormatChat(const std::vector<std::pair<std::string, std::string>>& messages,
                             bool add_generation_prompt, const std::string& today, std::string* out) const {
  if (*chat_template_ == '\0') return Error(Status::kUnsupported, "this model has no chat template");
  if (chat_ == nullptr) return Error(Status::kInvalidArgument, chat_error_);
  jinja::List list;
  for (const auto& [role, content] : messages) {
    const jinja::Value m = jinja::Value::MakeDict();
    m.Set("role", jinja::Value::String(role));
    m.Set("content", jinja::Value::String(content));
    list.push_back(m);
  }
  const jinja::Value globals = jinja::Value::MakeDict();
  globals.Set("messages", jinja::Value::MakeList(std::move(list)));
  globals.Set("add_generation_prompt", jinja::Value::Bool(add_generation_prompt));
  globals.Set("bos_token", jinja::Value::String(chat_bos_));
  globals.Set("eos_token", jinja::Value::String(chat_eos_));
  // As apply_chat_template passes them when the caller gives none.
  globals.Set("tools", jinja::Value::None());
  globals.Set("documents", jinja::Value::None());
  Result<std::string> text = chat_->Render(globals, today);
  if (!text.ok()) return text.error();
  *out = text.take();
  return Error::Ok();
}

std::string_view Tokenizer::Piece(int32_t prev, int32_t token) const {
  if (token < 0 || static_cast<size_t>(token) >= pieces_.size()) return {};
  if (types_[token] == TokenType::kControl || types_[token] == TokenType::kUnknown) return {};
  if (wordpiece_) {
    const std::string_view piece = pieces_[token];
    if (!continuing_prefix_.empty() && piece.substr(0, continuing_prefix_.size()) == continuing_prefix_) {
      return piece.substr(continuing_prefix_.size());
    }
    const bool first = prev < 0 || static_cast<size_t>(prev) >= pieces_.size() || types_[prev] != TokenType::kNormal;
    return first ? piece : std::string_view(spaced_[token]);
  }
  std::string_view piece = pieces_[token];
  // Where the text starts: after BOS (llama2.c's rule), and for ranked BPE (Hugging Face's Strip
  // decoder, which drops the first space of what it decodes) also after any special token or none.
  const bool start = (prev == bos_id_ && prev >= 0) ||
                     (ranked_ && (prev < 0 || static_cast<size_t>(prev) >= pieces_.size() || types_[prev] == TokenType::kControl));
  if (strip_space_after_bos_ && start && !piece.empty() && piece[0] == ' ') {
    piece.remove_prefix(1);
  }
  return piece;
}

}  // namespace edgeformer
