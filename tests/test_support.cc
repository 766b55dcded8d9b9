#include "tests/test_support.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "converter/synthetic.h"
#include "platforms/isa.h"

namespace edgeformer {
namespace test {

std::string SharedDir() {
  const char* env = std::getenv("EDGEFORMER_SHARED");
  return env != nullptr && *env != '\0' ? env : EDGEFORMER_SHARED_DIR_DEFAULT;
}

std::string SharedFile(const std::string& relative) {
  const std::string path = SharedDir() + "/" + relative;
  if (std::filesystem::exists(path)) return path;
  const char* env = std::getenv("EDGEFORMER_REQUIRE_SHARED");
  const bool required = env != nullptr ? std::string(env) == "1" : EDGEFORMER_REQUIRE_SHARED_DEFAULT;
  if (required) FAIL("required shared file is missing: " << path);
  MESSAGE("skipping: " << path << " is missing");
  return "";
}

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "edgeformer-test-XXXXXX").string();
  REQUIRE(::mkdtemp(templ.data()) != nullptr);
  dir_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

LoadedModel::LoadedModel(const std::string& path, const char* isa, edgeformer_kv_type kv, uint32_t max_batch,
                         uint32_t max_beams) {
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  REQUIRE(edgeformer_model_get_info(model, &info) == EDGEFORMER_OK);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_isa = isa;
  p.kv_type = kv;
  p.max_batch = max_batch;
  p.max_beams = max_beams;
  p.backend = EDGEFORMER_BACKEND_NATIVE;
  const edgeformer_status st = edgeformer_session_create(model, &p, &session);
  INFO(edgeformer_last_error());
  REQUIRE(st == EDGEFORMER_OK);
}

LoadedModel::~LoadedModel() {
  edgeformer_session_destroy(session);
  edgeformer_model_destroy(model);
}

double WorstRowDifference(const std::vector<float>& want, const std::vector<float>& have, size_t row) {
  REQUIRE(want.size() == have.size());
  double worst = 0.0;
  for (size_t r = 0; r * row < want.size(); ++r) {
    float scale = 0.0f, diff = 0.0f;
    for (size_t i = r * row; i < (r + 1) * row; ++i) {
      scale = std::max(scale, std::fabs(want[i]));
      diff = std::max(diff, std::fabs(want[i] - have[i]));
    }
    worst = std::max(worst, static_cast<double>(diff / std::max(scale, 1e-6f)));
  }
  return worst;
}

double Cosine(const float* a, const float* b, size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += double{a[i]} * b[i];
    aa += double{a[i]} * a[i];
    bb += double{b[i]} * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<std::string> CpuIsaNames() {
  std::vector<std::string> names{"reference"};
  for (Isa isa : BuildIsas()) {
    if (CpuSupports(isa) && isa != Isa::reference) names.push_back(IsaName(isa));
  }
  return names;
}

edgeformer_generate_params Greedy(uint32_t max_tokens) {
  edgeformer_generate_params g = edgeformer_generate_default_params();
  g.max_tokens = max_tokens;
  g.sampler.temperature = 0.0f;
  g.stop_at_end_of_text = 0;
  return g;
}

std::string Convert(const TempDir& dir, const std::string& checkpoint, const std::string& tokenizer,
                    convert::Quant quant, const std::string& name) {
  convert::ConvertOptions o;
  o.checkpoint = checkpoint;
  o.tokenizer = tokenizer;
  o.output = dir.path(name + ".edgf");
  o.quant = quant;
  o.embedding_quant = quant == convert::Quant::kF16 ? convert::Quant::kF16 : convert::Quant::kNone;
  const Error err = convert::ConvertLlama2c(o);
  INFO(err.message());
  REQUIRE(err.ok());
  return o.output;
}

std::string ConvertFortunes(const TempDir& dir, convert::Quant quant) {
  const std::string checkpoint = SharedFile("models/fortunes2M/model.bin");
  const std::string tokenizer = checkpoint.empty() ? "" : SharedFile("models/fortunes2M/tokenizer.bin");
  if (checkpoint.empty() || tokenizer.empty()) return "";
  return Convert(dir, checkpoint, tokenizer, quant, "fortunes2M");
}

std::string MakeSyntheticEncoder(const TempDir& dir, convert::Quant quant, const std::string& name) {
  schema::ArchitectureT a;
  a.family = schema::ModelFamily::EncoderOnly;
  a.n_layers = 2;
  a.dim = 48;
  a.hidden_dim = 96;
  a.n_heads = 4;
  a.n_kv_heads = 4;
  a.head_dim = 12;
  a.vocab_size = 300;
  a.max_seq_len = 64;
  a.norm = schema::NormKind::LayerNorm;
  a.norm_eps = 1e-12f;
  a.activation = schema::Activation::GELU;
  a.position = schema::PositionKind::Learned;
  a.tied_embeddings = true;
  auto layer = std::make_unique<schema::LayerSpecT>();
  layer->norm = schema::NormKind::LayerNorm;
  layer->norm_placement = schema::NormPlacement::Post;
  layer->mask = schema::AttentionMask::Bidirectional;
  layer->position = schema::PositionKind::None;
  layer->activation = schema::Activation::GELU;
  layer->attention_bias = true;
  layer->mlp_bias = true;
  a.stack = std::make_unique<schema::StackSpecT>();
  a.stack->layers.push_back(std::move(layer));
  a.stack->embedding_positions = schema::PositionKind::Learned;
  a.stack->token_types = 2;
  a.stack->embedding_norm = true;
  a.stack->final_norm = false;
  a.stack->pooler = true;
  a.stack->mlm_head = true;
  a.stack->classifier = true;
  a.stack->pooling = schema::Pooling::Mean;
  const std::string path = dir.path(name + ".edgf");
  const Error err = convert::WriteSyntheticStack(a, nullptr, 11, quant, path);
  INFO(err.message());
  REQUIRE(err.ok());
  return path;
}

std::vector<uint8_t> RepackHeader(const std::vector<uint8_t>& file, const std::function<void(schema::ModelT&)>& edit) {
  REQUIRE(file.size() >= 8);
  uint32_t header = 0;
  std::memcpy(&header, file.data(), 4);
  std::unique_ptr<schema::ModelT> m(schema::GetSizePrefixedModel(file.data())->UnPack());
  edit(*m);
  auto align64 = [](uint64_t n) { return (n + 63) / 64 * 64; };
  const uint64_t old_base = align64(uint64_t{header} + 4);
  REQUIRE(old_base <= file.size());
  const std::vector<uint8_t> weights(file.begin() + static_cast<std::ptrdiff_t>(old_base), file.end());
  uint64_t base = old_base;
  // Moving the segments can change the header's size (omitted defaults): a few passes settle it.
  for (int pass = 0; pass < 4; ++pass) {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.FinishSizePrefixed(schema::Model::Pack(fbb, m.get()), schema::ModelIdentifier());
    const uint64_t new_base = align64(fbb.GetSize());
    if (new_base == base) {
      std::vector<uint8_t> out(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
      out.resize(new_base, 0);
      out.insert(out.end(), weights.begin(), weights.end());
      return out;
    }
    for (auto& t : m->tensors) {
      for (std::unique_ptr<schema::Segment>* seg : {&t->data, &t->scales, &t->row_sums}) {
        if (*seg) *seg = std::make_unique<schema::Segment>((*seg)->offset() + new_base - base, (*seg)->size());
      }
    }
    m->file_size = m->file_size + new_base - base;
    base = new_base;
  }
  FAIL("the header's size did not settle");
  return {};
}

std::string MakeSyntheticEncoderDecoder(const TempDir& dir, convert::Quant quant, const std::string& name) {
  const schema::ArchitectureT a = convert::SyntheticEncoderDecoder(32, 64, 2, 4, 200, 48);
  const std::string path = dir.path(name + ".edgf");
  const Error err = convert::WriteSyntheticStack(a, nullptr, 13, quant, path);
  INFO(err.message());
  REQUIRE(err.ok());
  return path;
}

std::string MakeSyntheticModel(const TempDir& dir, convert::Quant quant, const std::string& name) {
  const convert::Llama2cConfig c = convert::Llama2cShape(64, 96, 2, 4, 2, 300, 48);
  const std::string bin = dir.path(name + ".bin"), tok = dir.path(name + ".tok");
  const Error err = convert::WriteSyntheticLlama2c(c, 7, bin, tok);
  INFO(err.message());
  REQUIRE(err.ok());
  return Convert(dir, bin, tok, quant, name);
}

Error PackedTokenizer::Init(const schema::TokenizerT& table, uint32_t vocab_size) {
  fbb.Finish(schema::Tokenizer::Pack(fbb, &table));
  return tok.Init(flatbuffers::GetRoot<schema::Tokenizer>(fbb.GetBufferPointer()), vocab_size);
}

}  // namespace test
}  // namespace edgeformer
