// Hugging Face BERT checkpoints (BertModel, BertForMaskedLM, sentence-transformers' MiniLM and
// the like): [bert.]embeddings.{word,position,token_type}_embeddings, embeddings.LayerNorm,
// encoder.layer.N.{attention.self.{query,key,value}, attention.output.{dense,LayerNorm},
// intermediate.dense, output.{dense,LayerNorm}}, pooler.dense, cls.predictions.{transform.{dense,
// LayerNorm}, bias} (the decoder is tied to the word embeddings). Every linear layer has a bias;
// LayerNorms are post-norm (x = LN(x + f(x))), weight/bias or the old gamma/beta.
#include <nlohmann/json.hpp>

#include "converter/hf_families.h"
#include "converter/hf_reader.h"
#include "converter/json_file.h"
#include "converter/stack.h"

namespace edgeformer {
namespace convert {
namespace {

using schema::TensorRole;

// The sentence-transformers pooling next to the checkpoint (1_Pooling/config.json, modules.json),
// if any.
Error ReadSentenceTransformersPooling(const std::string& dir, schema::StackSpecT* s) {
  const std::string pooling_path = JoinPath(dir, "1_Pooling/config.json");
  if (!PathExists(pooling_path)) return Error::Ok();
  Result<nlohmann::json> read = ReadJsonFile(pooling_path, uint64_t{1} << 16);
  if (!read.ok()) return read.error();
  const nlohmann::json& j = read.value();
  auto on = [&](const char* key) { return j.is_object() && j.value(key, false) == true; };
  if (on("pooling_mode_max_tokens") || on("pooling_mode_mean_sqrt_len_tokens") || on("pooling_mode_weightedmean_tokens")) {
    return Error(Status::kUnsupported, pooling_path + ": only CLS, mean and last-token pooling are supported");
  }
  s->pooling = on("pooling_mode_cls_token")     ? schema::Pooling::CLS
               : on("pooling_mode_mean_tokens") ? schema::Pooling::Mean
               : on("pooling_mode_lasttoken")   ? schema::Pooling::Last
                                                : s->pooling;
  const std::string modules_path = JoinPath(dir, "modules.json");
  if (PathExists(modules_path)) {
    Result<nlohmann::json> modules = ReadJsonFile(modules_path, uint64_t{1} << 16);
    if (!modules.ok()) return modules.error();
    s->normalize = modules.value().dump().find("sentence_transformers.models.Normalize") != std::string::npos;
  }
  return Error::Ok();
}

}  // namespace

Error ConvertBert(const HfConfig& c, const std::string& dir, const SafetensorsSet& st, const ConvertOptions& options,
                  ModelData* model) {
  const uint64_t dim = c.hidden_size, hidden = c.intermediate_size, vocab = c.vocab_size;
  const uint64_t positions = c.max_position_embeddings, types = c.type_vocab_size;
  // BertModel has no prefix; BertForMaskedLM and friends put it under "bert.".
  const std::string p = st.Find("bert.embeddings.word_embeddings.weight") != nullptr ? "bert." : "";
  // LayerNorm weights are weight/bias, or gamma/beta in old checkpoints.
  auto ln = [&](const std::string& prefix, bool weight) {
    const std::string modern = prefix + (weight ? ".weight" : ".bias");
    return st.Find(modern) != nullptr ? modern : prefix + (weight ? ".gamma" : ".beta");
  };
  const bool pooler = st.Find(p + "pooler.dense.weight") != nullptr;
  const bool mlm = st.Find("cls.predictions.transform.dense.weight") != nullptr;

  schema::ArchitectureT& a = model->architecture;
  a.family = schema::ModelFamily::EncoderOnly;
  a.norm = schema::NormKind::LayerNorm;
  a.activation = c.hidden_act == "relu"   ? schema::Activation::ReLU
                 : c.hidden_act == "gelu" ? schema::Activation::GELU
                                          : schema::Activation::GELUTanh;
  a.position = schema::PositionKind::Learned;
  a.tied_embeddings = true;
  a.attention_bias = true;
  a.mlp_bias = true;
  auto layer = std::make_unique<schema::LayerSpecT>();
  layer->norm = schema::NormKind::LayerNorm;
  layer->norm_placement = schema::NormPlacement::Post;
  layer->mask = schema::AttentionMask::Bidirectional;
  layer->position = schema::PositionKind::None;
  layer->activation = a.activation;
  layer->attention_bias = true;
  layer->mlp_bias = true;
  auto s = std::make_unique<schema::StackSpecT>();
  s->layers.push_back(std::move(layer));
  s->embedding_positions = schema::PositionKind::Learned;
  s->token_types = static_cast<uint32_t>(types);
  s->embedding_norm = true;
  s->final_norm = false;
  s->pooler = pooler;
  s->mlm_head = mlm;
  s->mlm_activation = a.activation;
  s->classifier = mlm;
  s->pooling = pooler ? schema::Pooling::Pooler : schema::Pooling::CLS;
  EF_RETURN_IF_ERROR(ReadSentenceTransformersPooling(dir, s.get()));
  a.stack = std::move(s);

  Builder b(model, options);
  const Quant q = options.quant;
  Reader reader(st, options, 5 + (types > 0) + 16 * uint64_t{c.num_hidden_layers} + (pooler ? 2 : 0) + (mlm ? 5 : 0));
  {
    EF_READ(word, p + "embeddings.word_embeddings.weight", vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(word), vocab, dim, options.embedding_quant);
    EF_READ(position, p + "embeddings.position_embeddings.weight", positions, dim);
    b.Matrix("position_embedding", TensorRole::PositionEmbedding, -1, std::move(position), positions, dim, Quant::kNone);
    if (types > 0) {
      EF_READ(type, p + "embeddings.token_type_embeddings.weight", types, dim);
      b.Matrix("token_type_embedding", TensorRole::TokenTypeEmbedding, -1, std::move(type), types, dim, Quant::kNone);
    }
    EF_READ(norm, ln(p + "embeddings.LayerNorm", true), dim);
    b.Vector("embed_norm", TensorRole::EmbedNorm, -1, std::move(norm));
    EF_READ(norm_b, ln(p + "embeddings.LayerNorm", false), dim);
    b.Vector("embed_norm_bias", TensorRole::EmbedNormBias, -1, std::move(norm_b));
  }
  for (uint32_t l = 0; l < c.num_hidden_layers; ++l) {
    const int32_t L = static_cast<int32_t>(l);
    const std::string e = p + "encoder.layer." + std::to_string(l) + ".";
    struct Linear {
      const char* name;
      TensorRole w, bias;
      const char* wname;
      const char* bname;
      uint64_t rows, cols;
    } linears[] = {
        {"attention.self.query", TensorRole::Wq, TensorRole::Bq, "wq", "bq", dim, dim},
        {"attention.self.key", TensorRole::Wk, TensorRole::Bk, "wk", "bk", dim, dim},
        {"attention.self.value", TensorRole::Wv, TensorRole::Bv, "wv", "bv", dim, dim},
        {"attention.output.dense", TensorRole::Wo, TensorRole::Bo, "wo", "bo", dim, dim},
        {"intermediate.dense", TensorRole::FfnUp, TensorRole::FfnUpBias, "w_up", "b_up", hidden, dim},
        {"output.dense", TensorRole::FfnDown, TensorRole::FfnDownBias, "w_down", "b_down", dim, hidden},
    };
    for (const Linear& li : linears) {
      EF_READ(w, e + li.name + ".weight", li.rows, li.cols);
      b.Matrix(li.wname, li.w, L, std::move(w), li.rows, li.cols, q);
      EF_READ(bias, e + li.name + ".bias", li.rows);
      b.Vector(li.bname, li.bias, L, std::move(bias));
    }
    EF_READ(attn_norm, ln(e + "attention.output.LayerNorm", true), dim);
    b.Vector("attn_norm", TensorRole::AttnNorm, L, std::move(attn_norm));
    EF_READ(attn_norm_b, ln(e + "attention.output.LayerNorm", false), dim);
    b.Vector("attn_norm_bias", TensorRole::AttnNormBias, L, std::move(attn_norm_b));
    EF_READ(ffn_norm, ln(e + "output.LayerNorm", true), dim);
    b.Vector("ffn_norm", TensorRole::FfnNorm, L, std::move(ffn_norm));
    EF_READ(ffn_norm_b, ln(e + "output.LayerNorm", false), dim);
    b.Vector("ffn_norm_bias", TensorRole::FfnNormBias, L, std::move(ffn_norm_b));
  }
  if (pooler) {
    EF_READ(dense, p + "pooler.dense.weight", dim, dim);
    b.Matrix("pooler_dense", TensorRole::PoolerDense, -1, std::move(dense), dim, dim, q);
    EF_READ(bias, p + "pooler.dense.bias", dim);
    b.Vector("pooler_bias", TensorRole::PoolerBias, -1, std::move(bias));
  }
  if (mlm) {
    EF_READ(dense, "cls.predictions.transform.dense.weight", dim, dim);
    b.Matrix("mlm_dense", TensorRole::MlmDense, -1, std::move(dense), dim, dim, q);
    EF_READ(dense_b, "cls.predictions.transform.dense.bias", dim);
    b.Vector("mlm_dense_bias", TensorRole::MlmDenseBias, -1, std::move(dense_b));
    EF_READ(norm, ln("cls.predictions.transform.LayerNorm", true), dim);
    b.Vector("mlm_norm", TensorRole::MlmNorm, -1, std::move(norm));
    EF_READ(norm_b, ln("cls.predictions.transform.LayerNorm", false), dim);
    b.Vector("mlm_norm_bias", TensorRole::MlmNormBias, -1, std::move(norm_b));
    EF_READ(bias, "cls.predictions.bias", vocab);
    b.Vector("classifier_bias", TensorRole::ClassifierBias, -1, std::move(bias));
  }
  EF_RETURN_IF_ERROR(b.status());
  reader.Done(options.output);
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
