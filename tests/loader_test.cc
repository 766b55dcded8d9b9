// The loader refuses malformed, truncated and hostile model files with a status and a message,
// and never crashes (the sanitizer build runs these too). Each case edits a valid file.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "model_generated.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

struct Outcome {
  edgeformer_status status;
  std::string message;
};

Outcome LoadBytes(const std::vector<uint8_t>& bytes, bool verify = false) {
  test::TempDir dir;
  const std::string path = dir.path("hostile.edgf");
  test::WriteFile(path, bytes);
  edgeformer_model_params p = edgeformer_model_default_params();
  p.verify_checksums = verify;
  edgeformer_model* model = nullptr;
  const edgeformer_status st = edgeformer_model_load(path.c_str(), &p, &model);
  Outcome o{st, edgeformer_last_error()};
  if (st == EDGEFORMER_OK) {
    CHECK(model != nullptr);
    edgeformer_model_destroy(model);
  } else {
    CHECK(model == nullptr);
  }
  return o;
}

// A valid int8 model file, and a way to edit its header in place.
struct Fixture {
  test::TempDir dir;
  std::vector<uint8_t> bytes;
  Fixture() { bytes = test::ReadFile(test::MakeSyntheticModel(dir, convert::Quant::kInt8)); }
  schema::Model* header(std::vector<uint8_t>& b) { return schema::GetMutableSizePrefixedModel(b.data()); }
  // Copies the file, applies `edit` to the copy's header and loads it.
  Outcome Edit(const std::function<void(schema::Model*, std::vector<uint8_t>&)>& edit, bool verify = false) {
    std::vector<uint8_t> copy = bytes;
    edit(header(copy), copy);
    return LoadBytes(copy, verify);
  }
  const schema::Tensor* find(const std::string& name) {
    for (const schema::Tensor* t : *header(bytes)->tensors()) {
      if (t->name()->str() == name) return t;
    }
    FAIL("no tensor " << name);
    return nullptr;
  }
};

schema::Tensor* Tensor(schema::Model* m, const std::string& name) {
  for (flatbuffers::uoffset_t i = 0; i < m->tensors()->size(); ++i) {
    schema::Tensor* t = m->mutable_tensors()->GetMutableObject(i);
    if (t->name()->str() == name) return t;
  }
  return nullptr;
}

void ExpectRefused(const Outcome& o, edgeformer_status status, const std::string& needle) {
  INFO("message: " << o.message);
  CHECK(o.status == status);
  CHECK(o.message.find(needle) != std::string::npos);
}

// Resident memory of this process, from /proc/self/status (0 when unknown).
uint64_t ResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

std::vector<float> PrefillLogits(edgeformer_model* model) {
  edgeformer_session* s = nullptr;
  REQUIRE(edgeformer_session_create(model, nullptr, &s) == EDGEFORMER_OK);
  const int32_t prompt[4] = {1, 20, 30, 40};
  REQUIRE(edgeformer_session_prefill(s, prompt, 4) == EDGEFORMER_OK);
  const float* l = nullptr;
  size_t n = 0;
  REQUIRE(edgeformer_session_logits(s, &l, &n) == EDGEFORMER_OK);
  std::vector<float> out(l, l + n);
  edgeformer_session_destroy(s);
  return out;
}

}  // namespace

TEST_CASE("a valid file loads, and loads from memory too") {
  Fixture f;
  CHECK(LoadBytes(f.bytes, /*verify=*/true).status == EDGEFORMER_OK);
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load_from_memory(f.bytes.data(), f.bytes.size(), nullptr, &model) == EDGEFORMER_OK);
  edgeformer_model_info info;
  REQUIRE(edgeformer_model_get_info(model, &info) == EDGEFORMER_OK);
  CHECK(info.n_kv_heads == 2);
  CHECK(std::string(info.weight_type) == "int8");
  CHECK(std::string(edgeformer_model_weights(model)) == "embedding f32; attention int8; ffn int8; classifier tied");
  edgeformer_model_destroy(model);
  CHECK(std::string(edgeformer_model_weights(nullptr)).empty());
}

TEST_CASE("an empty file, a missing file, and a file that is not a model") {
  ExpectRefused(LoadBytes({}), EDGEFORMER_INVALID_MODEL, "empty");
  edgeformer_model* model = nullptr;
  CHECK(edgeformer_model_load("/nonexistent/model.edgf", nullptr, &model) == EDGEFORMER_IO_ERROR);
  CHECK(std::string(edgeformer_last_error()).find("cannot open") != std::string::npos);
  std::vector<uint8_t> text(200, 'x');
  ExpectRefused(LoadBytes(text), EDGEFORMER_INVALID_MODEL, "file identifier");
}

TEST_CASE("a wrong file identifier") {
  Fixture f;
  std::vector<uint8_t> b = f.bytes;
  b[8] = 'X';  // bytes 8..11 hold "EDGF" in a size-prefixed buffer
  ExpectRefused(LoadBytes(b), EDGEFORMER_INVALID_MODEL, "file identifier");
}

TEST_CASE("truncated files, cut at ten points, are refused") {
  Fixture f;
  uint32_t header = 0;
  std::memcpy(&header, f.bytes.data(), 4);
  const size_t cuts[] = {1, 4, 11, 12, header / 2, header, header + 4, f.bytes.size() / 2, f.bytes.size() - 64,
                         f.bytes.size() - 1};
  for (size_t cut : cuts) {
    INFO("cut at " << cut << " of " << f.bytes.size());
    const Outcome o = LoadBytes(std::vector<uint8_t>(f.bytes.begin(), f.bytes.begin() + cut));
    CHECK(o.status == EDGEFORMER_INVALID_MODEL);
    CHECK_FALSE(o.message.empty());
  }
}

TEST_CASE("a file longer than its header says") {
  Fixture f;
  std::vector<uint8_t> b = f.bytes;
  b.resize(b.size() + 100, 0);
  ExpectRefused(LoadBytes(b), EDGEFORMER_INVALID_MODEL, "but its header says");
}

TEST_CASE("a header that fails FlatBuffer verification") {
  Fixture f;
  std::vector<uint8_t> b = f.bytes;
  // Point the root table far outside the buffer.
  const uint32_t bad_root = 0x7fffff00;
  std::memcpy(b.data() + 4, &bad_root, 4);
  ExpectRefused(LoadBytes(b), EDGEFORMER_INVALID_MODEL, "FlatBuffer verification failed");
}

TEST_CASE("an offset past the end of the file") {
  Fixture f;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>& b) {
    const_cast<schema::Segment*>(Tensor(m, "layers.0.wq")->data())->mutate_offset(b.size() + 64);
  }),
                EDGEFORMER_INVALID_MODEL, "past the end of the file");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    const_cast<schema::Segment*>(Tensor(m, "layers.1.w_up")->scales())->mutate_size(~uint64_t{0} - 8);
  }),
                EDGEFORMER_INVALID_MODEL, "past the end of the file");
}

TEST_CASE("an offset that is not aligned") {
  Fixture f;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    auto* seg = const_cast<schema::Segment*>(Tensor(m, "layers.0.wo")->data());
    seg->mutate_offset(seg->offset() + 1);
  }),
                EDGEFORMER_INVALID_MODEL, "not a multiple of 64");
}

TEST_CASE("overlapping tensors") {
  Fixture f;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    // wk and wv of a layer have the same shape; make them share bytes.
    const uint64_t wk = Tensor(m, "layers.0.wk")->data()->offset();
    const_cast<schema::Segment*>(Tensor(m, "layers.0.wv")->data())->mutate_offset(wk);
  }),
                EDGEFORMER_INVALID_MODEL, "overlaps");
}

TEST_CASE("a tensor whose size disagrees with its shape and dtype") {
  Fixture f;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    auto* seg = const_cast<schema::Segment*>(Tensor(m, "layers.1.w_gate")->data());
    seg->mutate_size(seg->size() - 1);
  }),
                EDGEFORMER_INVALID_MODEL, "its shape and type need");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    Tensor(m, "layers.1.w_gate")->mutable_shape()->Mutate(0, 97);
  }),
                EDGEFORMER_INVALID_MODEL, "disagrees with the architecture");
}

// The verifier checks a vector's length field for 4-byte alignment only: moving a shape's start 4
// bytes on (onto its first value's low half, rewritten as the length 2) still verifies, with the
// 8-byte dimensions at 4 mod 8. The loader must refuse it before reading them.
TEST_CASE("a tensor whose shape's 8-byte values are misaligned") {
  Fixture f;
  const schema::Tensor* t = Tensor(f.header(f.bytes), "layers.1.w_gate");
  const uint8_t* base = f.bytes.data();
  const size_t field =
      static_cast<size_t>(reinterpret_cast<const flatbuffers::Table*>(t)->GetAddressOf(schema::Tensor::VT_SHAPE) - base);
  const size_t vec = static_cast<size_t>(reinterpret_cast<const uint8_t*>(t->shape()) - base);
  REQUIRE(vec % 8 == 4);  // a length field, then 8-aligned values
  std::vector<uint8_t> moved = f.bytes;
  uint32_t offset = 0, length = 2;
  std::memcpy(&offset, moved.data() + field, 4);
  offset += 4;
  std::memcpy(moved.data() + field, &offset, 4);
  std::memcpy(moved.data() + vec + 4, &length, 4);
  uint32_t header = 0;
  std::memcpy(&header, moved.data(), 4);
  flatbuffers::Verifier verifier(moved.data(), header + 4);
  REQUIRE(schema::VerifySizePrefixedModelBuffer(verifier));  // what makes this case: it verifies
  ExpectRefused(LoadBytes(moved), EDGEFORMER_INVALID_MODEL, "the shape's values are misaligned");
}

TEST_CASE("a tokenizer id out of range") {
  Fixture f;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) { m->mutable_tokenizer()->mutate_eos_id(300); }),
                EDGEFORMER_INVALID_MODEL, "EOS id 300 is out of range");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) { m->mutable_architecture()->mutate_bos_id(-7); }),
                EDGEFORMER_INVALID_MODEL, "BOS id -7 is out of range");
}

TEST_CASE("inconsistent or absurd architecture values") {
  Fixture f;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) { m->mutable_architecture()->mutate_n_kv_heads(3); }),
                EDGEFORMER_INVALID_MODEL, "not a multiple of n_kv_heads");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) { m->mutable_architecture()->mutate_dim(0xFFFFFFFF); }),
                EDGEFORMER_INVALID_MODEL, "dim = 4294967295 is outside");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) { m->mutable_architecture()->mutate_vocab_size(301); }),
                EDGEFORMER_INVALID_MODEL, "disagree with the vocabulary size");
  ExpectRefused(
      f.Edit([](schema::Model* m, std::vector<uint8_t>&) { m->mutable_architecture()->mutate_norm_eps(-1.0f); }),
      EDGEFORMER_INVALID_MODEL, "norm_eps");
  // The stack is what runs (format version 4): its layer spec, its embedding and head.
  auto layer0 = [](schema::Model* m) {
    return m->mutable_architecture()->mutable_stack()->mutable_layers()->GetMutableObject(0);
  };
  // LayerNorm is supported, but needs the norm biases this Llama-style file lacks.
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) { layer0(m)->mutate_norm(schema::NormKind::LayerNorm); }),
                EDGEFORMER_INVALID_MODEL, "missing final_norm_bias");
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) {
    layer0(m)->mutate_norm(static_cast<schema::NormKind>(7));
  }),
                EDGEFORMER_UNSUPPORTED, "norm 7 is not known");
  // GELU is supported, but not gated: this file's gate matrices are then refused.
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) {
    layer0(m)->mutate_activation(schema::Activation::GELU);
  }),
                EDGEFORMER_INVALID_MODEL, "the architecture has no w_gate in this layer");
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) {
    layer0(m)->mutate_activation(static_cast<schema::Activation>(42));
  }),
                EDGEFORMER_UNSUPPORTED, "activation 42 is not known");
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) { layer0(m)->mutate_attention_bias(true); }),
                EDGEFORMER_INVALID_MODEL, "missing bq in layer 0");
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) { layer0(m)->mutate_rotary_dim(7); }),
                EDGEFORMER_INVALID_MODEL, "rotary_dim 7 must be even");
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) {
    layer0(m)->mutate_mask(schema::AttentionMask::Bidirectional);
  }),
                EDGEFORMER_INVALID_MODEL, "a decoder cannot attend bidirectionally");
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) {
    layer0(m)->mutate_mask(schema::AttentionMask::PrefixLM);
  }),
                EDGEFORMER_INVALID_MODEL, "a PrefixLM mask needs prefix_len > 0");
  ExpectRefused(f.Edit([&](schema::Model* m, std::vector<uint8_t>&) {
    layer0(m)->mutate_position(schema::PositionKind::T5Relative);
  }),
                EDGEFORMER_INVALID_MODEL, "T5 relative positions need relative_buckets > 0");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    m->mutable_architecture()->mutable_stack()->mutate_embedding_positions(schema::PositionKind::Learned);
  }),
                EDGEFORMER_INVALID_MODEL, "missing position_embedding");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    m->mutable_architecture()->mutable_stack()->mutate_embedding_positions(schema::PositionKind::Rotary);
  }),
                EDGEFORMER_UNSUPPORTED, "embedding positions 0 are not known");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    m->mutable_architecture()->mutable_stack()->mutate_embedding_scale(NAN);
  }),
                EDGEFORMER_INVALID_MODEL, "embedding_scale must be > 0");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    m->mutable_architecture()->mutable_stack()->mutate_classifier(false);
  }),
                EDGEFORMER_INVALID_MODEL, "a decoder needs a classifier");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    m->mutable_architecture()->mutable_stack()->mutate_token_types(2);
  }),
                EDGEFORMER_INVALID_MODEL, "missing token_type_embedding");
  // Version 3 files (no stack) are run from the Architecture's own fields: the same model here.
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    m->mutate_format_version(3);
    m->mutable_architecture()->mutate_norm(schema::NormKind::LayerNorm);
  }),
                EDGEFORMER_INVALID_MODEL, "missing final_norm_bias");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    m->mutate_format_version(3);
    m->mutable_architecture()->mutate_activation(schema::Activation::GELU);
  }),
                EDGEFORMER_UNSUPPORTED, "in a version 2 or 3 file");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    m->mutate_format_version(3);
    m->mutable_architecture()->mutate_family(schema::ModelFamily::EncoderOnly);
  }),
                EDGEFORMER_INVALID_MODEL, "an encoder needs a version 4 file");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) { m->mutate_format_version(99); }),
                EDGEFORMER_UNSUPPORTED, "format version 99");
}

TEST_CASE("a NaN scale and a corrupted weight") {
  Fixture f;
  const uint64_t scales = f.find("layers.0.wq")->scales()->offset();
  ExpectRefused(f.Edit([&](schema::Model*, std::vector<uint8_t>& b) {
    const float nan = NAN;
    std::memcpy(b.data() + scales + 8, &nan, 4);
  }),
                EDGEFORMER_INVALID_MODEL, "scale of row 2 is not a finite");
  const uint64_t data = f.find("layers.1.wv")->data()->offset();
  const auto flip = [&](schema::Model*, std::vector<uint8_t>& b) { b[data + 5] ^= 0x40; };
  CHECK(f.Edit(flip).status == EDGEFORMER_OK);  // undetectable without hashing
  ExpectRefused(f.Edit(flip, /*verify=*/true), EDGEFORMER_INVALID_MODEL, "checksum mismatch");
}

TEST_CASE("int8 weights in a layout the kernels cannot read") {
  Fixture f;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    Tensor(m, "layers.0.wq")->mutate_layout(schema::WeightLayout::RowMajor);
  }),
                EDGEFORMER_UNSUPPORTED, "must use the Blocked16x4 layout");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    Tensor(m, "layers.0.wq")->mutate_layout(static_cast<schema::WeightLayout>(77));
  }),
                EDGEFORMER_UNSUPPORTED, "weight layout 77 is not supported");
}

TEST_CASE("f16 weights: row-major matrices only, with segments of two bytes a value") {
  test::TempDir dir;
  const std::vector<uint8_t> f16 = test::ReadFile(test::MakeSyntheticModel(dir, convert::Quant::kF16));
  CHECK(LoadBytes(f16, /*verify=*/true).status == EDGEFORMER_OK);
  Fixture f;
  f.bytes = f16;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    auto* seg = const_cast<schema::Segment*>(Tensor(m, "layers.0.wq")->data());
    seg->mutate_size(seg->size() / 2);  // the size of one byte a value
  }),
                EDGEFORMER_INVALID_MODEL, "its shape and type need");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    Tensor(m, "layers.0.wq")->mutate_layout(schema::WeightLayout::Blocked16x4);
  }),
                EDGEFORMER_UNSUPPORTED, "f16 tensors must be row-major");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    Tensor(m, "final_norm")->mutate_dtype(schema::DType::F16);
  }),
                EDGEFORMER_UNSUPPORTED, "this tensor must be f32");
}

TEST_CASE("a duplicated or missing tensor") {
  Fixture f;
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) {
    Tensor(m, "layers.1.wq")->mutate_layer(0);
  }),
                EDGEFORMER_INVALID_MODEL, "a second tensor with the same role, layer and stack");
  ExpectRefused(f.Edit([](schema::Model* m, std::vector<uint8_t>&) { Tensor(m, "layers.1.wq")->mutate_layer(9); }),
                EDGEFORMER_INVALID_MODEL, "layer 9 is out of range");
}

TEST_CASE("the converter refuses inconsistent checkpoints and tokenizers") {
  test::TempDir dir;
  const convert::Llama2cConfig c = convert::Llama2cShape(32, 40, 1, 2, 2, 260, 16);
  const std::string bin = dir.path("m.bin"), tok = dir.path("t.bin");
  REQUIRE(convert::WriteSyntheticLlama2c(c, 3, bin, tok).ok());
  std::vector<uint8_t> ckpt = test::ReadFile(bin);
  convert::ConvertOptions o;
  o.checkpoint = dir.path("cut.bin");
  o.tokenizer = tok;
  o.output = dir.path("out.edgf");
  test::WriteFile(o.checkpoint, std::vector<uint8_t>(ckpt.begin(), ckpt.end() - 4));
  Error err = convert::ConvertLlama2c(o);
  CHECK(err.status() == Status::kInvalidModel);
  CHECK(err.message().find("but its header") != std::string::npos);
  CHECK(err.message().find("truncated") != std::string::npos);

  std::vector<uint8_t> bad = ckpt;
  const int32_t heads = 3;  // dim 32 is not a multiple of 3
  std::memcpy(bad.data() + 12, &heads, 4);
  test::WriteFile(o.checkpoint, bad);
  err = convert::ConvertLlama2c(o);
  CHECK(err.message().find("not a multiple of n_heads") != std::string::npos);

  // A tokenizer with fewer tokens than the model's vocabulary.
  o.checkpoint = bin;
  std::vector<uint8_t> t = test::ReadFile(tok);
  o.tokenizer = dir.path("short.tok");
  test::WriteFile(o.tokenizer, std::vector<uint8_t>(t.begin(), t.begin() + t.size() / 2));
  err = convert::ConvertLlama2c(o);
  CHECK(err.status() == Status::kInvalidModel);
  CHECK(err.message().find("wrong tokenizer for this model?") != std::string::npos);

  // Header fields that are zero, negative, huge (products that would overflow 32 or 64 bits
  // unchecked) or INT32_MIN (whose negation overflows): each refused by name.
  const struct {
    int field;
    int32_t value;
    const char* message;
  } headers[] = {
      {0, 0, "header field dim = 0 is outside"},
      {1, -40, "header field hidden_dim = -40 is outside"},
      {2, 0, "header field n_layers = 0 is outside"},
      {0, 1 << 30, "header field dim = 1073741824 is outside"},
      {1, INT32_MAX, "header field hidden_dim = 2147483647 is outside"},
      {4, 4, "header field n_kv_heads = 4 is outside [1, 2]"},
      {5, INT32_MIN, "header field vocab_size = 0 is outside"},
      {5, 100, "bytes but its header (dim 32, hidden 40, layers 1, heads 2/2, vocab 100"},
      {6, -1, "header field seq_len = -1 is outside"},
  };
  for (const auto& h : headers) {
    bad = ckpt;
    std::memcpy(bad.data() + 4 * h.field, &h.value, 4);
    test::WriteFile(o.checkpoint = dir.path("header.bin"), bad);
    o.tokenizer = tok;
    err = convert::ConvertLlama2c(o);
    INFO(err.message());
    CHECK(err.status() == Status::kInvalidModel);
    CHECK(err.message().find(h.message) != std::string::npos);
  }

  // A weight past the f16 range, stored as f16: refused, not turned into infinity.
  o.tokenizer = tok;
  bad = ckpt;
  const float huge = 70000.0f;
  std::memcpy(bad.data() + 28 + 4 * 5, &huge, 4);  // the 28-byte header, then the token embedding
  o.checkpoint = dir.path("huge.bin");
  test::WriteFile(o.checkpoint, bad);
  o.quant = convert::Quant::kF16;
  o.embedding_quant = convert::Quant::kF16;
  err = convert::ConvertLlama2c(o);
  CHECK(err.status() == Status::kInvalidArgument);
  CHECK(err.message().find("tensor 'token_embedding': value 70000") != std::string::npos);
  CHECK(err.message().find("past the f16 range") != std::string::npos);
  CHECK_FALSE(std::ifstream(o.output).good());
  o.embedding_quant = convert::Quant::kNone;  // f32 embedding: fine
  CHECK(convert::ConvertLlama2c(o).ok());
}

TEST_CASE("a model file larger than memory: mapped, validated and run without reading it whole") {
  test::TempDir dir;
  const std::vector<uint8_t> bytes = test::ReadFile(test::MakeSyntheticModel(dir, convert::Quant::kInt8));
  // The same model with its weights moved 64 GiB further into the file: the gap is a hole (a
  // sparse file), so the file is larger than this machine's memory but costs no disk.
  constexpr uint64_t kShift = uint64_t{64} << 30;
  std::vector<uint8_t> header = bytes;
  schema::Model* m = schema::GetMutableSizePrefixedModel(header.data());
  struct Moved {
    uint64_t from, to, size;
  };
  std::vector<Moved> moved;
  uint64_t first = bytes.size();
  for (flatbuffers::uoffset_t i = 0; i < m->tensors()->size(); ++i) {
    schema::Tensor* t = m->mutable_tensors()->GetMutableObject(i);
    for (const schema::Segment* seg : {t->data(), t->scales(), t->row_sums()}) {
      if (seg == nullptr || seg->size() == 0) continue;
      moved.push_back({seg->offset(), seg->offset() + kShift, seg->size()});
      first = std::min<uint64_t>(first, seg->offset());
      const_cast<schema::Segment*>(seg)->mutate_offset(seg->offset() + kShift);
    }
  }
  uint64_t end = 0;
  for (const Moved& s : moved) end = std::max(end, s.to + s.size);
  REQUIRE(m->mutate_file_size(end));
  const std::string path = dir.path("sparse.edgf");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  bool written = std::fwrite(header.data(), 1, first, f) == first;
  for (const Moved& s : moved) {
    written = written && fseeko(f, static_cast<off_t>(s.to), SEEK_SET) == 0 &&
              std::fwrite(bytes.data() + s.from, 1, s.size, f) == s.size;
  }
  written = std::fclose(f) == 0 && written;
  if (!written) {
    MESSAGE("skipped: this file system cannot hold a 64 GiB sparse file");
    return;
  }
  edgeformer_model* original = nullptr;
  edgeformer_model* big = nullptr;
  if (sizeof(size_t) < 8) {  // wasm32: a clear refusal, not a wrapped size
    CHECK(edgeformer_model_load(path.c_str(), nullptr, &big) == EDGEFORMER_IO_ERROR);
    CHECK(big == nullptr);
    CHECK(std::string(edgeformer_last_error()).find("more than this 32-bit build can address") != std::string::npos);
    return;
  }
  REQUIRE(edgeformer_model_load_from_memory(bytes.data(), bytes.size(), nullptr, &original) == EDGEFORMER_OK);
  const uint64_t before = ResidentBytes();
  edgeformer_model_params p = edgeformer_model_default_params();
  p.verify_checksums = 1;  // reads every tensor, still not the hole
  const edgeformer_status loaded = edgeformer_model_load(path.c_str(), &p, &big);
  INFO(std::string(edgeformer_last_error()));
  REQUIRE(loaded == EDGEFORMER_OK);
  edgeformer_model_info info;
  REQUIRE(edgeformer_model_get_info(big, &info) == EDGEFORMER_OK);
  CHECK(info.file_bytes > kShift);
  CHECK(PrefillLogits(big) == PrefillLogits(original));
  const uint64_t after = ResidentBytes();
  MESSAGE("resident memory grew by " << (after - before) / 1024 << " KiB for a " << info.file_bytes / (1u << 20)
                                     << " MiB model file");
  // Natively a few hundred KiB; qemu-user's page bookkeeping for the mapping adds about 400 MB.
  // Either is far below reading the file (64 GiB).
  CHECK(after - before < info.file_bytes / 64);
  // A budget smaller than the file refuses it, before anything is read.
  p.memory_budget = uint64_t{1} << 30;
  edgeformer_model* refused = nullptr;
  CHECK(edgeformer_model_load(path.c_str(), &p, &refused) == EDGEFORMER_OUT_OF_MEMORY);
  edgeformer_model_destroy(big);
  edgeformer_model_destroy(original);
}

}  // namespace edgeformer

namespace edgeformer {

TEST_CASE("a version 3 file runs as the pre-norm causal decoder its Architecture fields state") {
  Fixture f;
  std::vector<uint8_t> v3 = f.bytes;
  schema::GetMutableSizePrefixedModel(v3.data())->mutate_format_version(3);
  edgeformer_model* a = nullptr;
  edgeformer_model* b = nullptr;
  REQUIRE(edgeformer_model_load_from_memory(f.bytes.data(), f.bytes.size(), nullptr, &a) == EDGEFORMER_OK);
  REQUIRE(edgeformer_model_load_from_memory(v3.data(), v3.size(), nullptr, &b) == EDGEFORMER_OK);
  const std::vector<float> la = PrefillLogits(a), lb = PrefillLogits(b);
  REQUIRE(la.size() == lb.size());
  CHECK(std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)) == 0);
  edgeformer_model_destroy(a);
  edgeformer_model_destroy(b);
}

}  // namespace edgeformer
