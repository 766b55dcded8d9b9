// bart and marian: Hugging Face's BartForConditionalGeneration and MarianMTModel (OPUS-MT), the
// original Transformer's encoder-decoder: post-norm LayerNorm layers with biases (self-attention,
// then in the decoder cross-attention, then fc1 -> activation -> fc2, each followed by its norm),
// a tied classifier with final_logits_bias. A forced_bos_token_id (BART-large-CNN) is generated
// first by transformers' generate(): it becomes the second decoder start id, counted as generated
// by beam search; forced_eos_token_id ends a beam at the maximum length.
//   BART: learned positions whose first two rows are an offset (position p reads row p + 2: those
//         two rows are dropped), an embedding LayerNorm, erf GELU, decoder start = EOS.
//   Marian: fixed sinusoidal positions with sines in the first half of the dims and cosines in
//         the second (computed here in double and stored as a position table), embeddings scaled
//         by sqrt(d_model), SiLU ("swish"), the pad id as the decoder start, and the pad id never
//         generated (its generation config's bad_words_ids); separate source and target
//         vocabularies when share_encoder_decoder_embeddings is false.
// mBART's pre-norm layout (normalize_before, add_final_layer_norm) is refused.
#include <algorithm>
#include <cstdint>
#include <cmath>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "converter/hf_families.h"
#include "converter/hf_reader.h"
#include "converter/json_file.h"
#include "converter/spm_model.h"
#include "converter/stack.h"

namespace edgeformer {
namespace convert {
namespace {

using schema::TensorRole;

struct BartShape {
  uint32_t layers, ffn, heads;
};

void BartStack(schema::ArchitectureT* a, bool decoder, schema::Activation act, float scale, bool embed_norm,
               bool shared) {
  auto layer = std::make_unique<schema::LayerSpecT>();
  layer->norm = schema::NormKind::LayerNorm;
  layer->norm_placement = schema::NormPlacement::Post;
  layer->mask = decoder ? schema::AttentionMask::Causal : schema::AttentionMask::Bidirectional;
  layer->position = schema::PositionKind::None;
  layer->activation = act;
  layer->attention_bias = true;
  layer->mlp_bias = true;
  layer->cross_attention = decoder;
  a->norm = schema::NormKind::LayerNorm;
  a->activation = act;
  a->position = schema::PositionKind::Learned;
  a->attention_bias = true;
  a->mlp_bias = true;
  a->stack = std::make_unique<schema::StackSpecT>();
  a->stack->layers.push_back(std::move(layer));
  a->stack->embedding_positions = schema::PositionKind::Learned;
  a->stack->embedding_scale = scale;
  a->stack->embedding_norm = embed_norm;
  a->stack->final_norm = false;
  a->stack->classifier = decoder;
  a->stack->shared_embedding = !decoder && shared;
}

// Marian's sinusoidal table [positions][dim]: sin(p / 10000^(2j / dim)) at column j < dim / 2,
// the cosine of the same angle at column dim / 2 + j.
std::vector<float> SinusoidHalves(uint64_t positions, uint64_t dim) {
  std::vector<float> t(positions * dim);
  const uint64_t half = dim / 2;
  for (uint64_t p = 0; p < positions; ++p) {
    for (uint64_t j = 0; j < half; ++j) {
      const double angle = static_cast<double>(p) / std::pow(10000.0, 2.0 * static_cast<double>(j) / static_cast<double>(dim));
      t[p * dim + j] = static_cast<float>(std::sin(angle));
      t[p * dim + half + j] = static_cast<float>(std::cos(angle));
    }
  }
  return t;
}

}  // namespace

Error ConvertBart(const HfConfig& c, const std::string& config_path, const SafetensorsSet& st,
                  const ConvertOptions& options, ModelData* model) {
  const bool marian = c.model_type == "marian";
  Result<nlohmann::json> read = ReadJsonFile(config_path, uint64_t{1} << 20);
  if (!read.ok()) return read.error();
  const nlohmann::json& j = read.value();
  BartShape enc{};
  std::string act_name;
  bool scale_embedding = false, shared = true, pre_norm = false;
  int32_t start = -1, forced_bos = -1, forced_eos = -1;
  uint32_t source_vocab = 0;
  EF_RETURN_IF_ERROR(GuardJson(config_path, [&]() -> Error {
    EF_RETURN_IF_ERROR(JsonUint(j, "encoder_layers", kMaxConfigInt, config_path, &enc.layers, /*required=*/true));
    EF_RETURN_IF_ERROR(JsonUint(j, "encoder_ffn_dim", kMaxConfigInt, config_path, &enc.ffn, /*required=*/true));
    EF_RETURN_IF_ERROR(
        JsonUint(j, "encoder_attention_heads", kMaxConfigInt, config_path, &enc.heads, /*required=*/true));
    EF_RETURN_IF_ERROR(JsonUint(j, "vocab_size", kMaxConfigInt, config_path, &source_vocab, /*required=*/true));
    act_name = j.value("activation_function", std::string("gelu"));  // transformers' defaults
    scale_embedding = j.value("scale_embedding", false);
    shared = j.value("share_encoder_decoder_embeddings", true);
    pre_norm = j.value("normalize_before", false) || j.value("add_final_layer_norm", false);
    // Token ids, or -1 for none.
    EF_RETURN_IF_ERROR(JsonInt(j, "decoder_start_token_id", -1, kMaxConfigInt, config_path, &start));
    EF_RETURN_IF_ERROR(JsonInt(j, "forced_bos_token_id", -1, kMaxConfigInt, config_path, &forced_bos));
    EF_RETURN_IF_ERROR(JsonInt(j, "forced_eos_token_id", -1, kMaxConfigInt, config_path, &forced_eos));
    return Error::Ok();
  }));
  if (pre_norm) {
    return Error(Status::kUnsupported, config_path + ": normalize_before / add_final_layer_norm (mBART's pre-norm "
                                                     "layout) is not supported");
  }
  schema::Activation act;
  if (act_name == "gelu") {
    act = schema::Activation::GELU;
  } else if (act_name == "gelu_new" || act_name == "gelu_pytorch_tanh") {
    act = schema::Activation::GELUTanh;
  } else if (act_name == "relu") {
    act = schema::Activation::ReLU;
  } else if (act_name == "swish" || act_name == "silu") {
    act = schema::Activation::SiLU;
  } else {
    return Error(Status::kUnsupported, config_path + ": activation_function '" + act_name +
                                           "' (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, swish, silu)");
  }
  if (start < 0) start = marian ? c.pad_token_id : c.eos_token_id;
  if (start < 0) return Error(Status::kInvalidModel, config_path + ": no decoder_start_token_id");
  if (shared && source_vocab != c.vocab_size) {
    return Error(Status::kInvalidModel, config_path + ": shared embeddings need vocab_size == decoder_vocab_size");
  }
  const std::string p = st.Find("model.shared.weight") != nullptr || st.Find("model.decoder.embed_tokens.weight") != nullptr
                            ? "model."
                            : "";
  const bool embed_norm = st.Find(p + "encoder.layernorm_embedding.weight") != nullptr;
  const float scale = scale_embedding ? std::sqrt(static_cast<float>(c.hidden_size)) : 1.0f;

  schema::ArchitectureT& a = model->architecture;
  a.family = schema::ModelFamily::EncoderDecoder;
  a.tied_embeddings = c.tie_word_embeddings;
  // generate()'s forced first token (BART-large-CNN's BOS) follows the start id; BOS does not
  // end a target (only EOS does, as in transformers).
  a.decoder_start_ids = {start};
  if (forced_bos >= 0) {
    a.decoder_start_ids.push_back(forced_bos);
    a.forced_start_ids = 1;
  }
  a.forced_eos_id = forced_eos;
  a.bos_id = -1;
  if (marian && c.pad_token_id >= 0) a.suppress_ids = {c.pad_token_id};
  BartStack(&a, true, act, scale, embed_norm, shared);
  std::unique_ptr<schema::ArchitectureT> e = EncoderArchitecture(a);
  e->n_layers = enc.layers;
  e->hidden_dim = enc.ffn;
  e->n_heads = enc.heads;
  e->n_kv_heads = enc.heads;
  e->head_dim = enc.heads != 0 ? a.dim / enc.heads : 0;
  e->vocab_size = source_vocab;
  BartStack(e.get(), false, act, scale, embed_norm, shared);
  a.encoder = std::move(e);
  const std::string dir = config_path.substr(0, config_path.find_last_of('/') + 1);
  if (marian && model->has_tokenizer && PathExists(JoinPath(dir, "source.spm")) &&
      !PathExists(JoinPath(dir, "tokenizer.json"))) {
    EF_RETURN_IF_ERROR(ReadMarianTokenizers(dir, source_vocab, c.vocab_size, shared, model));
  }

  const uint64_t dim = c.hidden_size, positions = c.max_position_embeddings, vocab = c.vocab_size;
  Builder b(model, options);
  const Quant q = options.quant;
  Reader reader(st, options, 8 + (uint64_t{enc.layers} + c.num_hidden_layers) * 26);
  {
    const std::string name = st.Find(p + "shared.weight") != nullptr ? p + "shared.weight" : p + "decoder.embed_tokens.weight";
    EF_READ(emb, name, vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(emb), vocab, dim, options.embedding_quant);
  }
  auto vector = [&](const std::string& name, uint64_t n, TensorRole role, int32_t l, const char* as) -> Error {
    EF_READ(v, name, n);
    b.Vector(as, role, l, std::move(v));
    return Error::Ok();
  };
  auto attention = [&](const std::string& at, int32_t l, bool cross, uint64_t q_dim) -> Error {
    const char* names[4] = {"q_proj", "k_proj", "v_proj", "out_proj"};
    const TensorRole w_roles[4] = {cross ? TensorRole::CrossWq : TensorRole::Wq, cross ? TensorRole::CrossWk : TensorRole::Wk,
                                   cross ? TensorRole::CrossWv : TensorRole::Wv, cross ? TensorRole::CrossWo : TensorRole::Wo};
    const TensorRole b_roles[4] = {cross ? TensorRole::CrossBq : TensorRole::Bq, cross ? TensorRole::CrossBk : TensorRole::Bk,
                                   cross ? TensorRole::CrossBv : TensorRole::Bv, cross ? TensorRole::CrossBo : TensorRole::Bo};
    const char* w_as[4] = {"wq", "wk", "wv", "wo"};
    const char* b_as[4] = {"bq", "bk", "bv", "bo"};
    for (int i = 0; i < 4; ++i) {
      const uint64_t rows = i == 3 ? dim : q_dim, cols = i == 3 ? q_dim : dim;
      EF_READ(w, at + names[i] + ".weight", rows, cols);
      b.Matrix(std::string(cross ? "cross_" : "") + w_as[i], w_roles[i], l, std::move(w), rows, cols, q);
      EF_RETURN_IF_ERROR(vector(at + names[i] + ".bias", rows, b_roles[i], l,
                                (std::string(cross ? "cross_" : "") + b_as[i]).c_str()));
    }
    return Error::Ok();
  };
  auto norm = [&](const std::string& at, TensorRole w_role, TensorRole b_role, int32_t l, const char* as) -> Error {
    EF_RETURN_IF_ERROR(vector(at + ".weight", dim, w_role, l, as));
    return vector(at + ".bias", dim, b_role, l, (std::string(as) + "_bias").c_str());
  };
  for (const bool decoder : {true, false}) {
    const std::string s = p + (decoder ? "decoder." : "encoder.");
    const uint32_t layers = decoder ? c.num_hidden_layers : enc.layers;
    const uint64_t ffn = decoder ? c.intermediate_size : enc.ffn;
    b.SetStack(decoder ? 0 : 1);
    if (!decoder && !shared) {
      EF_READ(emb, s + "embed_tokens.weight", source_vocab, dim);
      b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(emb), source_vocab, dim,
               options.embedding_quant);
    }
    if (marian) {
      b.Matrix("position_embedding", TensorRole::PositionEmbedding, -1, SinusoidHalves(positions, dim), positions, dim,
               Quant::kNone);
    } else {
      EF_READ(pos, s + "embed_positions.weight", positions + 2, dim);
      b.Matrix("position_embedding", TensorRole::PositionEmbedding, -1, Rows(pos, 2, positions, dim), positions, dim,
               Quant::kNone);
    }
    if (embed_norm) {
      EF_RETURN_IF_ERROR(norm(s + "layernorm_embedding", TensorRole::EmbedNorm, TensorRole::EmbedNormBias, -1, "embed_norm"));
    }
    for (uint32_t i = 0; i < layers; ++i) {
      const int32_t l = static_cast<int32_t>(i);
      const std::string at = s + "layers." + std::to_string(i) + ".";
      const uint64_t q_dim = dim;
      EF_RETURN_IF_ERROR(attention(at + "self_attn.", l, false, q_dim));
      EF_RETURN_IF_ERROR(norm(at + "self_attn_layer_norm", TensorRole::AttnNorm, TensorRole::AttnNormBias, l, "attn_norm"));
      if (decoder) {
        EF_RETURN_IF_ERROR(attention(at + "encoder_attn.", l, true, q_dim));
        EF_RETURN_IF_ERROR(
            norm(at + "encoder_attn_layer_norm", TensorRole::CrossAttnNorm, TensorRole::CrossAttnNormBias, l, "cross_norm"));
      }
      EF_READ(fc1, at + "fc1.weight", ffn, dim);
      b.Matrix("w_up", TensorRole::FfnUp, l, std::move(fc1), ffn, dim, q);
      EF_RETURN_IF_ERROR(vector(at + "fc1.bias", ffn, TensorRole::FfnUpBias, l, "b_up"));
      EF_READ(fc2, at + "fc2.weight", dim, ffn);
      b.Matrix("w_down", TensorRole::FfnDown, l, std::move(fc2), dim, ffn, q);
      EF_RETURN_IF_ERROR(vector(at + "fc2.bias", dim, TensorRole::FfnDownBias, l, "b_down"));
      EF_RETURN_IF_ERROR(norm(at + "final_layer_norm", TensorRole::FfnNorm, TensorRole::FfnNormBias, l, "ffn_norm"));
    }
    if (decoder) {
      if (!c.tie_word_embeddings) {
        EF_READ(head, "lm_head.weight", vocab, dim);
        b.Matrix("classifier", TensorRole::Classifier, -1, std::move(head), vocab, dim, options.embedding_quant);
      }
      if (st.Find("final_logits_bias") != nullptr) {
        EF_READ(bias, "final_logits_bias", 1, vocab);
        b.Vector("classifier_bias", TensorRole::ClassifierBias, -1, std::move(bias));
      }
    }
  }
  EF_RETURN_IF_ERROR(b.status());
  reader.Done(options.output);
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
