#include "converter/llama2c.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "converter/sniff.h"

namespace edgeformer {
namespace convert {
namespace {

Error Invalid(const std::string& path, const std::string& message) {
  return Error(Status::kInvalidModel, path + ": " + message);
}

constexpr int32_t kMaxDimension = 1 << 16;
constexpr int32_t kMaxLayers = 1024;
constexpr int32_t kMaxVocab = 1 << 22;
constexpr int32_t kMaxSeqLen = 1 << 20;

// `err` with, when the file is recognizably something else, what it is.
Error NameTheFormat(const Error& err, const uint8_t* data, uint64_t size, const char* expected) {
  const std::string format = SniffFormat(data, static_cast<size_t>(size));
  if (format.empty()) return err;
  return Error(err.status(), err.message() + "; this is not " + expected + " but " + format);
}

}  // namespace

namespace {

// The checkpoint in `file`, whose mapping the caller moves into the result.
Result<Llama2cCheckpoint> ParseLlama2cCheckpoint(const std::string& path, const MappedFile& file) {
  Llama2cCheckpoint ckpt;
  const uint64_t size = file.size();
  if (size < 28) return Invalid(path, "too short (" + std::to_string(size) + " bytes) for a llama2.c header");
  int32_t h[7];
  std::memcpy(h, file.data(), sizeof(h));
  Llama2cConfig& c = ckpt.config;
  c.dim = h[0];
  c.hidden_dim = h[1];
  c.n_layers = h[2];
  c.n_heads = h[3];
  c.n_kv_heads = h[4];
  c.shared_classifier = h[5] > 0;
  c.vocab_size = h[5] == INT32_MIN ? 0 : std::abs(h[5]);
  c.seq_len = h[6];
  auto range = [&](const char* name, int32_t v, int32_t hi) -> Error {
    if (v < 1 || v > hi) {
      return Invalid(path, std::string("header field ") + name + " = " + std::to_string(v) + " is outside [1, " +
                               std::to_string(hi) + "] (is this a llama2.c version-0 checkpoint?)");
    }
    return Error::Ok();
  };
  EF_RETURN_IF_ERROR(range("dim", c.dim, kMaxDimension));
  EF_RETURN_IF_ERROR(range("hidden_dim", c.hidden_dim, kMaxDimension));
  EF_RETURN_IF_ERROR(range("n_layers", c.n_layers, kMaxLayers));
  EF_RETURN_IF_ERROR(range("n_heads", c.n_heads, c.dim));
  EF_RETURN_IF_ERROR(range("n_kv_heads", c.n_kv_heads, c.n_heads));
  EF_RETURN_IF_ERROR(range("vocab_size", c.vocab_size, kMaxVocab));
  EF_RETURN_IF_ERROR(range("seq_len", c.seq_len, kMaxSeqLen));
  if (c.dim % c.n_heads != 0) return Invalid(path, "dim is not a multiple of n_heads");
  if (c.n_heads % c.n_kv_heads != 0) return Invalid(path, "n_heads is not a multiple of n_kv_heads");
  const uint64_t head = c.dim / c.n_heads;
  if (head % 2 != 0) return Invalid(path, "the head size " + std::to_string(head) + " is odd; rotary needs pairs");
  const uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers, vocab = c.vocab_size;
  const uint64_t kv = head * c.n_kv_heads;
  // All factors are bounded above, so these products fit in 64 bits.
  const uint64_t counts[] = {
      vocab * dim,           layers * dim,          layers * dim * dim,    layers * kv * dim,
      layers * kv * dim,     layers * dim * dim,    layers * dim,          layers * hidden * dim,
      layers * dim * hidden, layers * hidden * dim, dim,                   uint64_t(c.seq_len) * head,
  };
  uint64_t floats = 0;
  for (uint64_t n : counts) floats += n;
  if (!c.shared_classifier) floats += vocab * dim;
  const uint64_t expected = 28 + floats * 4;
  if (size != expected) {
    return Invalid(path, "the file has " + std::to_string(size) + " bytes but its header (dim " + std::to_string(c.dim) +
                             ", hidden " + std::to_string(c.hidden_dim) + ", layers " + std::to_string(c.n_layers) +
                             ", heads " + std::to_string(c.n_heads) + "/" + std::to_string(c.n_kv_heads) + ", vocab " +
                             std::to_string(h[5]) + ", seq_len " + std::to_string(c.seq_len) + ") needs " +
                             std::to_string(expected) + (size < expected ? " (truncated?)" : ""));
  }
  const float* p = reinterpret_cast<const float*>(file.data() + 28);
  const float** slots[] = {&ckpt.token_embedding, &ckpt.rms_att, &ckpt.wq, &ckpt.wk, &ckpt.wv, &ckpt.wo,
                           &ckpt.rms_ffn, &ckpt.w1, &ckpt.w2, &ckpt.w3, &ckpt.rms_final};
  for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); ++i) {
    *slots[i] = p;
    p += counts[i];
  }
  p += counts[11];  // freq_cis_real and freq_cis_imag: the runtime computes RoPE itself
  ckpt.classifier = c.shared_classifier ? ckpt.token_embedding : p;
  return ckpt;
}

}  // namespace

Result<Llama2cCheckpoint> ReadLlama2cCheckpoint(const std::string& path) {
  Result<std::unique_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.error();
  const uint8_t* data = file.value()->data();
  const uint64_t size = file.value()->size();
  Result<Llama2cCheckpoint> ckpt = ParseLlama2cCheckpoint(path, *file.value());
  if (!ckpt.ok()) return NameTheFormat(ckpt.error(), data, size, "a llama2.c model.bin");
  ckpt.value().file = file.take();
  return ckpt;
}

namespace {

Result<std::vector<Llama2cToken>> ParseLlama2cTokenizer(const std::string& path, const uint8_t* data, uint64_t size,
                                                        int32_t vocab_size) {
  uint64_t at = 0;
  auto read = [&](void* out, uint64_t n) {
    if (size - at < n) return false;
    std::memcpy(out, data + at, n);
    at += n;
    return true;
  };
  int32_t max_len = 0;
  if (!read(&max_len, 4)) return Invalid(path, "too short for a llama2.c tokenizer");
  if (max_len < 1 || max_len > (1 << 16)) {
    return Invalid(path, "max_token_length " + std::to_string(max_len) + " is not plausible");
  }
  std::vector<Llama2cToken> tokens(vocab_size);
  for (int32_t i = 0; i < vocab_size; ++i) {
    int32_t len = 0;
    if (!read(&tokens[i].score, 4) || !read(&len, 4)) {
      return Invalid(path, "ends after " + std::to_string(i) + " tokens; the model's vocabulary has " +
                               std::to_string(vocab_size) + " (wrong tokenizer for this model?)");
    }
    if (len < 0 || len > max_len) {
      return Invalid(path, "token " + std::to_string(i) + " has length " + std::to_string(len) +
                               ", outside [0, max_token_length " + std::to_string(max_len) + "]");
    }
    if (!std::isfinite(tokens[i].score)) return Invalid(path, "token " + std::to_string(i) + " has a non-finite score");
    tokens[i].piece.resize(len);
    if (!read(tokens[i].piece.data(), len)) return Invalid(path, "token " + std::to_string(i) + " is cut off (wrong tokenizer for this model?)");
  }
  if (at != size) {
    return Invalid(path, "has " + std::to_string(size - at) + " bytes after token " + std::to_string(vocab_size - 1) +
                             " (a tokenizer for a larger vocabulary?)");
  }
  return tokens;
}

}  // namespace

Result<std::vector<Llama2cToken>> ReadLlama2cTokenizer(const std::string& path, int32_t vocab_size) {
  Result<std::unique_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.error();
  const uint8_t* data = file.value()->data();
  const uint64_t size = file.value()->size();
  Result<std::vector<Llama2cToken>> tokens = ParseLlama2cTokenizer(path, data, size, vocab_size);
  if (!tokens.ok()) return NameTheFormat(tokens.error(), data, size, "a llama2.c tokenizer.bin");
  return tokens;
}

Error WriteSyntheticLlama2c(const Llama2cConfig& c, uint64_t seed, const std::string& model_path,
                            const std::string& tokenizer_path) {
  if (c.dim <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0 ||
      c.hidden_dim <= 0 || c.n_layers <= 0 || c.vocab_size < 259 || c.seq_len <= 0) {
    return Error(Status::kInvalidArgument, "synthetic model: inconsistent shape (vocab must be >= 259)");
  }
  std::FILE* f = std::fopen(model_path.c_str(), "wb");
  if (f == nullptr) return Error(Status::kIoError, "cannot create " + model_path);
  const int32_t header[7] = {c.dim,        c.hidden_dim, c.n_layers, c.n_heads,
                             c.n_kv_heads, c.shared_classifier ? c.vocab_size : -c.vocab_size, c.seq_len};
  bool ok = std::fwrite(header, sizeof(header), 1, f) == 1;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> buf;
  auto emit = [&](uint64_t count, bool ones) {
    buf.resize(count);
    for (float& v : buf) v = ones ? 1.0f : normal(rng);
    ok = ok && std::fwrite(buf.data(), 4, count, f) == count;
  };
  const uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers, vocab = c.vocab_size;
  const uint64_t head = dim / c.n_heads, kv = head * c.n_kv_heads;
  emit(vocab * dim, false);
  emit(layers * dim, true);
  for (uint64_t l = 0; l < layers; ++l) emit(dim * dim, false);
  for (uint64_t l = 0; l < layers; ++l) emit(kv * dim, false);
  for (uint64_t l = 0; l < layers; ++l) emit(kv * dim, false);
  for (uint64_t l = 0; l < layers; ++l) emit(dim * dim, false);
  emit(layers * dim, true);
  for (uint64_t l = 0; l < layers; ++l) emit(hidden * dim, false);
  for (uint64_t l = 0; l < layers; ++l) emit(dim * hidden, false);
  for (uint64_t l = 0; l < layers; ++l) emit(hidden * dim, false);
  emit(dim, true);
  emit(uint64_t(c.seq_len) * head, false);  // freq_cis: unused by readers
  if (!c.shared_classifier) emit(vocab * dim, false);
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return Error(Status::kIoError, "cannot write " + model_path);
  if (tokenizer_path.empty()) return Error::Ok();

  // Vocabulary: <unk>, <s>, </s>, 256 byte tokens, then letters, " " + letters, and pairs.
  std::vector<std::string> pieces = {"<unk>", "\n<s>\n", "\n</s>\n"};
  char hex[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(hex, sizeof(hex), "<0x%02X>", b);
    pieces.emplace_back(hex);
  }
  const std::string letters = " etaoinshrdlucmfwypvbgkjqxz.,ETAOINSHRDLUCMFWYPVBGKJQXZ0123456789";
  for (char ch : letters) pieces.emplace_back(1, ch);
  for (size_t i = 0; pieces.size() < vocab && i < letters.size() * letters.size(); ++i) {
    pieces.push_back(std::string(1, letters[i / letters.size()]) + letters[i % letters.size()]);
  }
  while (pieces.size() < vocab) pieces.push_back("<extra_" + std::to_string(pieces.size()) + ">");
  pieces.resize(vocab);
  f = std::fopen(tokenizer_path.c_str(), "wb");
  if (f == nullptr) return Error(Status::kIoError, "cannot create " + tokenizer_path);
  int32_t max_len = 0;
  for (const std::string& p : pieces) max_len = std::max<int32_t>(max_len, static_cast<int32_t>(p.size()));
  ok = std::fwrite(&max_len, 4, 1, f) == 1;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const float score = i < 259 ? 0.0f : -static_cast<float>(i);
    const int32_t len = static_cast<int32_t>(pieces[i].size());
    ok = ok && std::fwrite(&score, 4, 1, f) == 1 && std::fwrite(&len, 4, 1, f) == 1 &&
         std::fwrite(pieces[i].data(), 1, len, f) == static_cast<size_t>(len);
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return Error(Status::kIoError, "cannot write " + tokenizer_path);
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
