#include "converter/synthetic.h"

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "converter/builder.h"
#include "converter/writer.h"
#include "model/config.h"
#include "model/format.h"
#include "model/tensor_roles.h"

namespace edgeformer {
namespace convert {

Error WriteSyntheticStack(const schema::ArchitectureT& architecture, const schema::TokenizerT* tokenizer, uint64_t seed,
                          Quant quant, const std::string& path) {
  if (architecture.stack == nullptr) return Error(Status::kInvalidArgument, "the architecture states no stack");
  ModelData model;
  model.producer = "edgeformer synthetic stack";
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Architecture::Pack(fbb, &architecture));
  ModelConfig c;
  EF_RETURN_IF_ERROR(ResolveConfig(flatbuffers::GetRoot<schema::Architecture>(fbb.GetBufferPointer()), kFormatVersion, &c));
  const std::unique_ptr<schema::ArchitectureT> resolved(flatbuffers::GetRoot<schema::Architecture>(fbb.GetBufferPointer())->UnPack());
  model.architecture = std::move(*resolved);
  model.has_tokenizer = tokenizer != nullptr;
  if (tokenizer != nullptr) model.tokenizer = *tokenizer;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  ConvertOptions options;
  options.output = path;
  Builder b(&model, options);
  const ModelConfig* stacks[2] = {&c, c.encoder.get()};
  for (uint8_t stack = 0; stack < 2 && stacks[stack] != nullptr; ++stack) {
    const ModelConfig& sc = *stacks[stack];
    b.SetStack(stack);
    ForEachRole([&](const TensorRoleInfo& info) {
      for (uint32_t l = 0; l < (info.per_layer ? sc.n_layers : 1); ++l) {
        const LayerConfig* lc = info.per_layer ? &sc.layers[l] : nullptr;
        if (info.need(sc, lc) != Need::kRequired) continue;
        const ExpectedShape e = info.shape(sc);
        const int32_t layer = info.per_layer ? static_cast<int32_t>(l) : -1;
        const uint64_t rows = e.rows == 0 ? 1 : e.rows;
        // Norm weights near 1, biases and tables small, matrices variance-preserving.
        using R = schema::TensorRole;
        const bool norm = info.role == R::AttnNorm || info.role == R::FfnNorm || info.role == R::FinalNorm ||
                          info.role == R::EmbedNorm || info.role == R::MlmNorm || info.role == R::CrossAttnNorm;
        const float scale = e.rows == 0 ? 0.1f : info.matrix ? 1.0f / std::sqrt(static_cast<float>(e.cols)) : 0.3f;
        std::vector<float> values(rows * e.cols);
        for (float& v : values) v = (norm ? 1.0f : 0.0f) + scale * normal(rng);
        if (e.rows == 0) {
          b.Vector(info.name, info.role, layer, std::move(values));
        } else {
          b.Matrix(info.name, info.role, layer, std::move(values), e.rows, e.cols, info.matrix ? quant : Quant::kNone);
        }
      }
    });
  }
  EF_RETURN_IF_ERROR(b.status());
  return WriteModelFile(model, path);
}

schema::ArchitectureT SyntheticEncoderDecoder(uint32_t dim, uint32_t hidden, uint32_t layers, uint32_t heads,
                                              uint32_t vocab, uint32_t max_len) {
  auto stack = [&](schema::ModelFamily family, schema::ArchitectureT* a) {
    a->family = family;
    a->n_layers = layers;
    a->dim = dim;
    a->hidden_dim = hidden;
    a->n_heads = heads;
    a->n_kv_heads = heads;
    a->head_dim = dim / heads;
    a->vocab_size = vocab;
    a->max_seq_len = max_len;
    a->norm = schema::NormKind::LayerNorm;
    a->activation = schema::Activation::GELU;
    a->position = schema::PositionKind::Sinusoidal;
    a->attention_bias = true;
    a->mlp_bias = true;
    auto layer = std::make_unique<schema::LayerSpecT>();
    layer->norm = schema::NormKind::LayerNorm;
    layer->norm_placement = schema::NormPlacement::Post;
    layer->mask = family == schema::ModelFamily::EncoderOnly ? schema::AttentionMask::Bidirectional
                                                             : schema::AttentionMask::Causal;
    layer->position = schema::PositionKind::None;
    layer->activation = schema::Activation::GELU;
    layer->attention_bias = true;
    layer->mlp_bias = true;
    layer->cross_attention = family == schema::ModelFamily::EncoderDecoder;
    a->stack = std::make_unique<schema::StackSpecT>();
    a->stack->layers.push_back(std::move(layer));
    a->stack->embedding_positions = schema::PositionKind::Sinusoidal;
    a->stack->embedding_scale = std::sqrt(static_cast<float>(dim));
    a->stack->final_norm = false;
  };
  schema::ArchitectureT a;
  stack(schema::ModelFamily::EncoderDecoder, &a);
  a.tied_embeddings = true;
  a.eos_id = 1;
  a.decoder_start_ids = {0};
  auto e = std::make_unique<schema::ArchitectureT>();
  stack(schema::ModelFamily::EncoderOnly, e.get());
  e->stack->classifier = false;
  e->stack->shared_embedding = true;
  a.encoder = std::move(e);
  return a;
}

}  // namespace convert
}  // namespace edgeformer
