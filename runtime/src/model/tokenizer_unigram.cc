// The Unigram kind of Tokenizer: Viterbi segmentation of a piece of text (what the pipeline of
// tokenizer_ranked.cc produced) into the vocabulary's pieces, as SentencePiece's unigram model
// and Hugging Face's Unigram (which follows it) do: the path of the highest total score over
// character boundaries; a character no piece starts with costs the lowest Normal score - 10 and
// becomes unk_id; on equal totals the candidate found first stays (shorter pieces are found
// first, then later starts). Unknowns next to each other are one (fuse_unk), and with
// byte_fallback an unknown becomes its bytes' tokens (<0xHH>) when the vocabulary has them all.
#include <cmath>
#include <string>

#include "model/tokenizer.h"
#include "model/utf8.h"
#include "model_generated.h"

namespace edgeformer {
namespace {

constexpr double kUnkPenalty = 10.0;
// Pieces longer than this are left out of the trie (never produced): real vocabularies stop at
// 16 characters (spm's max_sentencepiece_length) and a hostile one would make every position of
// a text walk that deep.
constexpr size_t kMaxPieceBytes = 256;
// A path node's id for a segment-only piece: emitted as unk_id, never fused with unknowns.
constexpr int32_t kSegmentUnk = -2;
constexpr char kMarker[] = "\xE2\x96\x81";  // U+2581

// A piece's text as the pipeline spells it: with marker_spaces, U+2581 for each ' '.
void Spell(std::string_view text, bool marker_spaces, std::string* out) {
  out->clear();
  for (const char c : text) {
    if (marker_spaces && c == ' ') {
      *out += kMarker;
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

Error Tokenizer::InitUnigram(const schema::Tokenizer* table) {
  if (unk_id_ < 0) return Error(Status::kInvalidModel, "tokenizer: a Unigram vocabulary needs an UNK token");
  trie_edges_.clear();
  trie_ids_.assign(1, -1);
  bool any = false;
  min_score_ = 0.0;
  max_score_ = 0.0;  // spm starts it at FLT_MIN: a user-defined piece scores at least -0.1
  for (size_t i = 0; i < pieces_.size(); ++i) {
    if (types_[i] != TokenType::kNormal) continue;
    const double score = scores_[i];
    min_score_ = any ? std::min(min_score_, score) : score;
    max_score_ = std::max(max_score_, score);
    any = true;
  }
  // Added tokens outside the model's vocabulary are matched before the pipeline, never by it.
  std::vector<bool> added(pieces_.size(), false);
  if (table->added_tokens() != nullptr) {
    for (const auto* a : *table->added_tokens()) added[a->id()] = !a->in_vocabulary();  // ids checked by Init
  }
  hf_unigram_ = table->hf_unigram();
  // Adds `text` (spelled as pieces are) to the trie as `value`; the first value of a text stays.
  std::string key;
  auto insert = [&](std::string_view text, int32_t value) {
    Spell(text, marker_spaces_, &key);
    size_t node = 0;
    for (const char c : key) {
      const uint64_t edge = (uint64_t{node} << 8) | static_cast<uint8_t>(c);
      const auto it = trie_edges_.find(edge);
      if (it != trie_edges_.end()) {
        node = static_cast<size_t>(it->second);
      } else {
        trie_edges_.emplace(edge, static_cast<int32_t>(trie_ids_.size()));
        node = trie_ids_.size();
        trie_ids_.push_back(-1);
      }
    }
    if (trie_ids_[node] == -1) trie_ids_[node] = value;
  };
  const char* base = reinterpret_cast<const char*>(table->piece_data()->data());  // validated by Init
  unknown_ids_.clear();
  unknown_as_piece_ = table->unknown_as_piece();
  for (size_t i = 0; i < pieces_.size(); ++i) {
    std::string_view text = pieces_[i];
    if (hf_unigram_ && types_[i] == TokenType::kByte) {
      // Hugging Face's trie has every piece's text: the byte pieces' "<0x41>" too.
      const uint32_t begin = table->piece_offsets()->Get(static_cast<flatbuffers::uoffset_t>(i));
      text = std::string_view(base + begin, table->piece_offsets()->Get(static_cast<flatbuffers::uoffset_t>(i + 1)) - begin);
    } else if (unknown_as_piece_ && types_[i] == TokenType::kUnused && !text.empty() && text.size() <= kMaxPieceBytes) {
      Spell(text, marker_spaces_, &key);
      unknown_ids_.emplace(key, static_cast<int32_t>(i));
      continue;
    } else if (types_[i] != TokenType::kNormal && types_[i] != TokenType::kUserDefined) {
      continue;
    }
    if (text.empty() || text.size() > kMaxPieceBytes || added[i]) continue;
    insert(text, static_cast<int32_t>(i));
  }
  // Pieces only the segmentation has: trie values -2 - k, scored segment_scores[k].
  segment_scores_.clear();
  const auto* data = table->segment_data();
  const auto* offsets = table->segment_offsets();
  const auto* seg_scores = table->segment_scores();
  const size_t n_segment = seg_scores == nullptr ? 0 : seg_scores->size();
  if (n_segment > 0) {
    auto bad = [](const std::string& what) { return Error(Status::kInvalidModel, "tokenizer: segment pieces: " + what); };
    if (data == nullptr || offsets == nullptr || offsets->size() != n_segment + 1 || offsets->Get(0) != 0 ||
        offsets->Get(static_cast<flatbuffers::uoffset_t>(n_segment)) != data->size()) {
      return bad("offsets do not cover the data");
    }
    if (n_segment > (size_t{1} << 22)) return bad("more than 4M pieces");
    for (size_t k = 0; k < n_segment; ++k) {  // the whole table first
      if (offsets->Get(static_cast<flatbuffers::uoffset_t>(k + 1)) < offsets->Get(static_cast<flatbuffers::uoffset_t>(k))) {
        return bad("offsets decrease at piece " + std::to_string(k));
      }
      if (!std::isfinite(seg_scores->Get(static_cast<flatbuffers::uoffset_t>(k)))) return bad("a score is not finite");
    }
    for (size_t k = 0; k < n_segment; ++k) {
      const float score = seg_scores->Get(static_cast<flatbuffers::uoffset_t>(k));
      segment_scores_.push_back(score);
      min_score_ = any ? std::min(min_score_, static_cast<double>(score)) : score;
      max_score_ = std::max(max_score_, static_cast<double>(score));
      any = true;
      const uint32_t begin = offsets->Get(static_cast<flatbuffers::uoffset_t>(k));
      const uint32_t end = offsets->Get(static_cast<flatbuffers::uoffset_t>(k + 1));
      const std::string_view text(reinterpret_cast<const char*>(data->data()) + begin, end - begin);
      if (!text.empty() && text.size() <= kMaxPieceBytes) insert(text, -2 - static_cast<int32_t>(k));
    }
  }
  return Error::Ok();
}

void Tokenizer::EncodeUnigramPiece(std::string_view text, std::vector<int32_t>* out) const {
  const size_t n = text.size();
  if (n == 0) return;
  // The arithmetic of each reference, so near ties resolve as there: Hugging Face sums in
  // double; SentencePiece keeps totals in float but adds a piece's score and compares in double
  // (its score expression is double), and adds an unknown's in float.
  const bool spm = !hf_unigram_;
  auto kept = [&](double v) { return spm ? static_cast<double>(static_cast<float>(v)) : v; };
  struct Node {
    double score = 0.0;
    int64_t start = -1;  // where the best piece ending here starts; -1: not reached
    int32_t id = -1;
  };
  std::vector<Node> best(n + 1);
  std::vector<uint8_t> boundary(n + 1, 0);  // character starts (and the end)
  for (size_t i = 0; i < n;) {
    boundary[i] = 1;
    uint32_t cp = 0;
    const size_t len = utf8::Next(text, i, &cp);
    i += len == 0 ? 1 : len;
  }
  boundary[n] = 1;
  best[0].start = 0;
  const float unk_score_f = static_cast<float>(min_score_) - static_cast<float>(kUnkPenalty);
  const double unk_score = min_score_ - kUnkPenalty;
  auto offer = [&](size_t end, size_t start, double score, int32_t id) {
    Node& node = best[end];
    if (node.start < 0 || score > node.score) {
      node.score = kept(score);
      node.start = static_cast<int64_t>(start);
      node.id = id;
    }
  };
  for (size_t start = 0; start < n;) {
    uint32_t cp = 0;
    size_t char_len = utf8::Next(text, start, &cp);
    if (char_len == 0) char_len = 1;
    const double here = best[start].score;
    bool single = false;
    size_t node = 0;
    for (size_t k = start; k < n; ++k) {
      const auto it = trie_edges_.find((uint64_t{node} << 8) | static_cast<uint8_t>(text[k]));
      if (it == trie_edges_.end()) break;
      node = static_cast<size_t>(it->second);
      int32_t id = trie_ids_[node];
      if (id == -1 || !boundary[k + 1]) continue;
      const size_t length = k + 1 - start;
      double score = 0.0;
      if (id <= -2) {  // a segment-only piece: unk_id, kept apart from unknowns (kSegmentUnk)
        score = segment_scores_[static_cast<size_t>(-2 - id)];
        id = kSegmentUnk;
      } else if (types_[id] != TokenType::kUserDefined) {
        score = scores_[id];
      } else {
        score = spm ? static_cast<double>(static_cast<float>(length) * static_cast<float>(max_score_)) - 0.1
                    : static_cast<double>(length) * max_score_ - 0.1;
      }
      offer(k + 1, start, here + score, id);
      single = single || length == char_len;
    }
    if (!single) {
      offer(start + char_len, start,
            spm ? static_cast<double>(static_cast<float>(here) + unk_score_f) : here + unk_score, unk_id_);
    }
    start += char_len;
  }
  // Back from the end: pieces, with runs of unknowns as one span when fuse_unk.
  struct Span {
    size_t begin, end;
    int32_t id;
  };
  std::vector<Span> spans;
  for (size_t end = n; end > 0;) {
    const Node& node = best[end];
    const size_t begin = static_cast<size_t>(node.start);
    if (node.id == unk_id_ && fuse_unk_ && !spans.empty() && spans.back().id == unk_id_) {
      spans.back().begin = begin;
    } else {
      spans.push_back(Span{begin, end, node.id});
    }
    end = begin;
  }
  for (size_t k = spans.size(); k-- > 0;) {
    const Span& s = spans[k];
    if (s.id == kSegmentUnk) {
      out->push_back(unk_id_);
      continue;
    }
    if (s.id == unk_id_ && unknown_as_piece_ && !byte_fallback_) {  // spm gives bytes' pieces then
      const auto it = unknown_ids_.find(std::string(text.substr(s.begin, s.end - s.begin)));
      if (it != unknown_ids_.end()) {
        out->push_back(it->second);
        continue;
      }
    }
    if (s.id != unk_id_ || !byte_fallback_) {
      out->push_back(s.id);
      continue;
    }
    // Hugging Face needs every byte's piece, else the span is one unknown; spm emits each byte's
    // piece (MarianTokenizer then maps one vocab.json lacks to unk).
    bool all = true;
    for (size_t i = s.begin; i < s.end; ++i) all = all && fallback_ids_[static_cast<uint8_t>(text[i])] >= 0;
    if (!all && hf_unigram_) {
      out->push_back(unk_id_);
      continue;
    }
    for (size_t i = s.begin; i < s.end; ++i) {
      const int32_t id = fallback_ids_[static_cast<uint8_t>(text[i])];
      out->push_back(id >= 0 ? id : unk_id_);
    }
  }
}

}  // namespace edgeformer
