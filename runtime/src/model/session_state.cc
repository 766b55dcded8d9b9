// Session state files (Session::SaveState / LoadState): a session's context written to a file and
// restored into a new session of the same model, so an app skips the prefill of a prompt it has
// seen.
//
// The file (little-endian, every region 64-byte aligned, nothing but the header's counts needed
// to find a region):
//   StateHeader (128 bytes)
//   first[n_layers] uint32: the oldest position each self-attention cache layer holds
//   history[n_tokens] int32: the token at each position
//   logits[vocab] f32, when has_logits
//   per self-attention layer l, for the positions [first[l], n_tokens):
//     keys [n_kv_heads][count][head_dim] and values the same, of kv_type;
//     int8: then key scales [n_kv_heads][count] f32 and value scales the same
//   per cross-attention layer (encoder-decoders), the source's [0, source_length) likewise.
// The header's checksum (FNV-1a 64) covers the header, first[], the history and the logits: a
// cache's values are data (any bits are a cache the attention computes with), so they are not
// hashed, which keeps restoring at the speed of a copy. The state file is untrusted input: every
// field is checked against the session before anything is copied, and a refused file leaves the
// session unchanged.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "core/mapped_file.h"
#include "model/session.h"

namespace edgeformer {
namespace {

constexpr char kMagic[8] = {'E', 'F', 'S', 'T', 'A', 'T', 'E', '\0'};
constexpr uint32_t kStateVersion = 1;

struct StateHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;  // sizeof(StateHeader)
  uint64_t file_bytes;    // the whole file
  uint64_t model;         // Model::identity()
  uint64_t checksum;      // FNV-1a 64 of the header (this field 0), first[], history, logits
  uint32_t kv_type;       // KvType
  uint32_t context;       // the session's context_length
  uint32_t n_layers;      // self-attention cache layers
  uint32_t n_kv_heads;
  uint32_t head_dim;
  uint32_t vocab;
  uint32_t n_tokens;      // positions in the cache
  int32_t pending;        // a sampled token not yet in the cache, or -1
  uint32_t has_logits;    // 0 or 1
  uint32_t source_length; // encoder-decoders: the source's positions (0: none)
  uint32_t n_source_layers;  // cross-attention layers
  uint8_t reserved[44];   // 0
};
static_assert(sizeof(StateHeader) == 128, "the state header is 128 bytes");

constexpr uint64_t Align64(uint64_t n) { return (n + 63) / 64 * 64; }

// Bytes of one layer's region in the file for `count` positions.
uint64_t LayerBytes(uint64_t count, uint64_t n_kv_heads, uint64_t head_dim, KvType type) {
  uint64_t bytes = 2 * Align64(n_kv_heads * count * head_dim * KvTypeBytes(type));
  if (type == KvType::kI8) bytes += 2 * Align64(n_kv_heads * count * sizeof(float));
  return bytes;
}

Error Refuse(const std::string& what) { return Error(Status::kInvalidArgument, "session state: " + what); }

}  // namespace

// Visits every cache region of the state in file order: f(cache, first, count) for each
// self-attention layer's positions [first[l], pos_), then each cross-attention layer's source
// [0, source_len_).
template <typename F>
void Session::ForEachStateLayer(const uint32_t* first, F&& f) const {
  const ModelConfig& c = model_.config();
  for (size_t l = 0; l < cache_.layouts.size(); ++l) f(cache_.View(l, c.head_dim, kv_type_), first[l], pos_ - first[l]);
  if (source_len_ == 0) return;
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    if (!c.layers[l].cross_attention) continue;
    f(source_cache_.View(l, c.head_dim, kv_type_, SourceSlots(source_len_)), 0, source_len_);
  }
}

namespace {

// A layer's region in a state file for positions [first, first + count), and where they sit in
// the cache: one run of slots from slot0 (a ring's mirror continues every run past the ring's
// end, so a run of count <= ring slots never wraps).
struct LayerRegion {
  const LayerCache& cache;
  size_t n_kv_heads, count, elem, row, slots, slot0;
  size_t values, scales;  // bytes of the keys (as of the values), of the key scales (as of the value scales)
  LayerRegion(const LayerCache& c, uint64_t first, uint64_t n, size_t heads, size_t head_dim)
      : cache(c), n_kv_heads(heads), count(n), elem(KvTypeBytes(c.type)), row(head_dim * elem), slots(c.head_stride / head_dim),
        slot0(c.ring > 0 ? first % c.ring : first), values(Align64(heads * n * row)),
        scales(c.type == KvType::kI8 ? Align64(heads * n * sizeof(float)) : 0) {}
  // Where k (0) or v (1) of head h starts in the file region, its scales, and in the cache.
  size_t FileValues(int kv, size_t h) const { return kv * values + h * count * row; }
  size_t FileScales(int kv, size_t h) const { return 2 * values + kv * scales + h * count * sizeof(float); }
  char* CacheValues(int kv, size_t h) const {
    return (kv == 0 ? cache.k : cache.v) + h * cache.head_stride * elem + slot0 * row;
  }
};

void SaveLayer(const LayerRegion& r, uint8_t* out) {
  for (int kv = 0; kv < 2; ++kv) {
    const float* scales = kv == 0 ? r.cache.k_scales : r.cache.v_scales;
    for (size_t h = 0; h < r.n_kv_heads; ++h) {
      std::memcpy(out + r.FileValues(kv, h), r.CacheValues(kv, h), r.count * r.row);
      if (scales != nullptr) std::memcpy(out + r.FileScales(kv, h), scales + h * r.slots + r.slot0, r.count * sizeof(float));
    }
  }
}

// Writes the positions to their slots, and a ring's to their mirrors too (slots below the
// ring's end have theirs at +ring, those past it at -ring).
void LoadLayer(const LayerRegion& r, const uint8_t* in) {
  const size_t ring = r.cache.ring;
  const size_t below = ring > 0 ? std::min(r.count, ring - r.slot0) : 0;
  for (int kv = 0; kv < 2; ++kv) {
    float* scales = kv == 0 ? r.cache.k_scales : r.cache.v_scales;
    for (size_t h = 0; h < r.n_kv_heads; ++h) {
      char* head = r.CacheValues(kv, h);
      const uint8_t* values = in + r.FileValues(kv, h);
      float* head_scales = scales != nullptr ? scales + h * r.slots + r.slot0 : nullptr;
      const uint8_t* file_scales = in + r.FileScales(kv, h);
      std::memcpy(head, values, r.count * r.row);
      if (head_scales != nullptr) std::memcpy(head_scales, file_scales, r.count * sizeof(float));
      if (ring == 0) continue;
      std::memcpy(head + ring * r.row, values, below * r.row);
      if (head_scales != nullptr) std::memcpy(head_scales + ring, file_scales, below * sizeof(float));
      if (below == r.count) continue;
      std::memcpy(head + below * r.row - ring * r.row, values + below * r.row, (r.count - below) * r.row);
      if (head_scales != nullptr) {
        std::memcpy(head_scales + below - ring, file_scales + below * sizeof(float), (r.count - below) * sizeof(float));
      }
    }
  }
}

}  // namespace

// The oldest position layer l must keep for the query at position n: 0, or for a sliding-window
// layer with a ring, the first its window still sees.
uint32_t Session::StateFirst(size_t l) const {
  const CacheLayout& layout = cache_.layouts[l];
  if (layout.ring == 0) return 0;
  return pos_ + 1 > layout.window ? pos_ + 1 - layout.window : 0;
}

Error Session::SaveState(const std::string& path) const {
  const ModelConfig& c = model_.config();
  if (c.family == Family::kEncoderOnly) {
    return Error(Status::kUnsupported, "session state: an encoder keeps no context between calls");
  }
  StateHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kStateVersion;
  h.header_bytes = sizeof(StateHeader);
  h.model = model_.identity();
  h.kv_type = static_cast<uint32_t>(kv_type_);
  h.context = context_;
  h.n_layers = static_cast<uint32_t>(cache_.layouts.size());
  h.n_kv_heads = c.n_kv_heads;
  h.head_dim = c.head_dim;
  h.vocab = c.vocab_size;
  h.n_tokens = pos_;
  h.pending = pending_;
  h.has_logits = has_logits_ ? 1 : 0;
  h.source_length = source_len_;
  for (uint32_t l = 0; l < c.n_layers; ++l) h.n_source_layers += c.encoder != nullptr && c.layers[l].cross_attention;
  std::vector<uint32_t> first(h.n_layers);
  for (size_t l = 0; l < first.size(); ++l) first[l] = StateFirst(l);

  // The whole file in one buffer would be a second copy of the cache: the small parts are
  // assembled here, each layer's region written as it is gathered.
  const uint64_t table_bytes = Align64(first.size() * sizeof(uint32_t));
  const uint64_t history_bytes = Align64(uint64_t{pos_} * sizeof(int32_t));
  const uint64_t logits_bytes = has_logits_ ? Align64(uint64_t{c.vocab_size} * sizeof(float)) : 0;
  std::vector<uint8_t> small(table_bytes + history_bytes + logits_bytes, 0);
  std::memcpy(small.data(), first.data(), first.size() * sizeof(uint32_t));
  std::memcpy(small.data() + table_bytes, history(), size_t{pos_} * sizeof(int32_t));
  if (has_logits_) std::memcpy(small.data() + table_bytes + history_bytes, logits(), c.vocab_size * sizeof(float));
  uint64_t layer_bytes = 0, largest = 0;
  ForEachStateLayer(first.data(), [&](const LayerCache&, uint64_t, uint64_t count) {
    const uint64_t b = LayerBytes(count, c.n_kv_heads, c.head_dim, kv_type_);
    layer_bytes += b;
    largest = std::max(largest, b);
  });
  h.file_bytes = sizeof(StateHeader) + small.size() + layer_bytes;
  uint64_t sum = Fnv1a64(&h, sizeof(h), kFnv1aInit);
  h.checksum = Fnv1a64(small.data(), small.size(), sum);

  // Written next to `path` and renamed over it once complete: a reader never sees half a file.
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Error(Status::kIoError, "session state: cannot create " + tmp + ": " + std::strerror(errno));
  std::vector<uint8_t> region;
  bool ok = std::fwrite(&h, sizeof(h), 1, f) == 1 && std::fwrite(small.data(), 1, small.size(), f) == small.size();
  if (ok) {
    region.resize(largest);
    ForEachStateLayer(first.data(), [&](const LayerCache& cache, uint64_t from, uint64_t count) {
      if (!ok) return;
      const size_t b = LayerBytes(count, c.n_kv_heads, c.head_dim, kv_type_);
      if (b == 0) return;  // no positions (an empty context)
      std::memset(region.data(), 0, b);
      SaveLayer(LayerRegion(cache, from, count, c.n_kv_heads, c.head_dim), region.data());
      ok = std::fwrite(region.data(), 1, b, f) == b;
    });
  }
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return Error(Status::kIoError, "session state: cannot write " + path + ": " + why);
  }
  return Error::Ok();
}

Error Session::LoadState(const std::string& path) {
  Result<std::unique_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return Error(file.error().status(), "session state: " + file.error().message());
  Error err = LoadStateFromMemory(file.value()->data(), file.value()->size());
  if (!err.ok()) return Error(err.status(), path + ": " + err.message());
  return err;
}

Error Session::LoadStateFromMemory(const void* data, size_t size) {
  const ModelConfig& c = model_.config();
  if (c.family == Family::kEncoderOnly) {
    return Error(Status::kUnsupported, "session state: an encoder keeps no context between calls");
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  StateHeader h;
  if (size < sizeof(h)) return Refuse("the file is " + std::to_string(size) + " bytes, shorter than a header (truncated?)");
  std::memcpy(&h, bytes, sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) return Refuse("not an edgeformer session state file");
  if (h.version != kStateVersion) {
    return Error(Status::kUnsupported, "session state: format version " + std::to_string(h.version) +
                                           " (this build reads version " + std::to_string(kStateVersion) + ")");
  }
  if (h.header_bytes != sizeof(h)) return Refuse("a header of " + std::to_string(h.header_bytes) + " bytes");
  if (h.file_bytes != size) {
    return Refuse("the file is " + std::to_string(size) + " bytes but its header says " + std::to_string(h.file_bytes) +
                  (size < h.file_bytes ? " (truncated)" : ""));
  }
  if (h.model != model_.identity()) return Refuse("saved from another model (or another conversion of it)");
  if (h.kv_type != static_cast<uint32_t>(kv_type_)) {
    return Refuse("saved with KV cache type " + std::to_string(h.kv_type) + ", this session's is " +
                  std::to_string(static_cast<uint32_t>(kv_type_)) + " (0 f32, 1 f16, 2 int8)");
  }
  if (h.context != context_) {
    return Refuse("saved from a session of context length " + std::to_string(h.context) + ", this one's is " +
                  std::to_string(context_));
  }
  uint32_t n_source_layers = 0;
  for (uint32_t l = 0; l < c.n_layers; ++l) n_source_layers += c.encoder != nullptr && c.layers[l].cross_attention;
  if (h.n_layers != cache_.layouts.size() || h.n_kv_heads != c.n_kv_heads || h.head_dim != c.head_dim ||
      h.vocab != c.vocab_size || h.n_source_layers != n_source_layers) {
    return Refuse("its layers, heads, head size, vocabulary or cross-attention layers differ from the model's");
  }
  const uint64_t n = h.n_tokens;
  // A full context may have a pending token (Generate's last one): it is fed, or refused as a
  // full context, by the next call, as in the saving session.
  if (n > context_) return Refuse(std::to_string(n) + " tokens do not fit the context of " + std::to_string(context_));
  if (h.pending < -1 || h.pending >= static_cast<int64_t>(c.vocab_size)) {
    return Refuse("the pending token " + std::to_string(h.pending) + " is outside the vocabulary");
  }
  if (h.has_logits > 1) return Refuse("has_logits is " + std::to_string(h.has_logits));
  if (h.source_length > max_source_) {
    return Refuse("a source of " + std::to_string(h.source_length) + " tokens; this session holds " +
                  std::to_string(max_source_));
  }
  for (uint8_t b : h.reserved) {
    if (b != 0) return Refuse("reserved header bytes are set (a newer or corrupt file)");
  }
  // The small tables: sizes first (each bounded by the checks above, no overflow), then contents.
  const uint64_t table_bytes = Align64(uint64_t{h.n_layers} * sizeof(uint32_t));
  const uint64_t history_bytes = Align64(n * sizeof(int32_t));
  const uint64_t logits_bytes = h.has_logits ? Align64(uint64_t{c.vocab_size} * sizeof(float)) : 0;
  const uint64_t small = table_bytes + history_bytes + logits_bytes;
  if (small > size - sizeof(h)) return Refuse("truncated inside its token history");
  const uint8_t* table = bytes + sizeof(h);
  std::vector<uint32_t> first(h.n_layers);
  std::memcpy(first.data(), table, first.size() * sizeof(uint32_t));
  StateHeader zeroed = h;
  zeroed.checksum = 0;
  if (Fnv1a64(table, small, Fnv1a64(&zeroed, sizeof(zeroed), kFnv1aInit)) != h.checksum) {
    return Refuse("checksum mismatch (the file is corrupt)");
  }
  for (size_t l = 0; l < first.size(); ++l) {
    const CacheLayout& layout = cache_.layouts[l];
    // Kept positions: all, or (a ring) the window the next query sees and at most the ring.
    const uint64_t needed = layout.window > 0 && n + 1 > layout.window ? n + 1 - layout.window : 0;
    if (first[l] > needed) {
      return Refuse("layer " + std::to_string(l) + " holds positions from " + std::to_string(first[l]) +
                    " on, but the next token attends to " + std::to_string(needed));
    }
    if (layout.ring == 0 ? first[l] != 0 : n - first[l] > layout.ring) {
      return Refuse("layer " + std::to_string(l) + " holds positions from " + std::to_string(first[l]) +
                    ", which this session's sliding-window cache cannot take (load it into a session with the "
                    "saving session's max_batch)");
    }
  }
  // The history is checked in a copy, which is what the session takes: the file (or the
  // caller's memory) could change between a check and a second read.
  std::vector<int32_t> ids(n);
  if (n > 0) std::memcpy(ids.data(), table + table_bytes, n * sizeof(int32_t));
  for (uint64_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || static_cast<uint32_t>(id) >= c.vocab_size) {
      return Refuse("token " + std::to_string(i) + " of its history has id " + std::to_string(id) +
                    ", outside the vocabulary");
    }
  }
  // The regions: their total against the file's size, computed as the session would lay them.
  const uint32_t old_pos = pos_, old_source = source_len_;
  pos_ = static_cast<uint32_t>(n);
  source_len_ = h.source_length;
  uint64_t layer_bytes = 0;
  ForEachStateLayer(first.data(), [&](const LayerCache&, uint64_t, uint64_t count) {
    layer_bytes += LayerBytes(count, c.n_kv_heads, c.head_dim, kv_type_);
  });
  if (layer_bytes != size - sizeof(h) - small) {
    pos_ = old_pos;
    source_len_ = old_source;
    return Refuse("its caches take " + std::to_string(size - sizeof(h) - small) + " bytes, the header implies " +
                  std::to_string(layer_bytes));
  }
  // Everything checked: the copy cannot fail.
  const uint8_t* at = table + small;
  ForEachStateLayer(first.data(), [&](const LayerCache& cache, uint64_t from, uint64_t count) {
    LoadLayer(LayerRegion(cache, from, count, c.n_kv_heads, c.head_dim), at);
    at += LayerBytes(count, c.n_kv_heads, c.head_dim, kv_type_);
  });
  std::copy(ids.begin(), ids.end(), history_.as<int32_t>());
  if (h.has_logits) std::memcpy(logits_.as<float>(), table + table_bytes + history_bytes, c.vocab_size * sizeof(float));
  has_logits_ = h.has_logits != 0;
  pending_ = h.pending;
  // A ring holds positions [first, pos_) only: written_ as if positions up to first + ring had
  // been written, so that RingsHold sends a Truncate to before `first` through Replay (from the
  // restored history) instead of to slots never restored.
  written_ = pos_;
  for (size_t l = 0; l < first.size(); ++l) {
    const CacheLayout& layout = cache_.layouts[l];
    if (layout.ring > 0) written_ = std::max<uint32_t>(written_, static_cast<uint32_t>(first[l] + layout.ring));
  }
  return Error::Ok();
}

}  // namespace edgeformer
