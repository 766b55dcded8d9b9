// t5: Hugging Face's T5ForConditionalGeneration (T5 v1.0 and v1.1, flan-t5): an encoder-decoder of
// pre-norm layers with T5's RMSNorm (no mean subtraction, no bias), relative position buckets
// (one table per stack, in its first block: bidirectional in the encoder, causal in the
// decoder; none in the cross-attention), attention scores not scaled, no biases anywhere, a
// feed-forward of ReLU (feed_forward_proj "relu", v1.0) or gated tanh GELU ("gated-gelu",
// v1.1), one shared embedding, and the decoder start id (the pad id). A tied classifier (v1.0)
// reads the decoder's output times d_model^-0.5: the scale is folded into its final norm.
#include <cmath>

#include <nlohmann/json.hpp>

#include "converter/hf_families.h"
#include "converter/hf_reader.h"
#include "converter/json_file.h"
#include "converter/stack.h"

namespace edgeformer {
namespace convert {
namespace {

using schema::TensorRole;

// One stack's architecture: T5's layer with or without cross-attention.
void T5Stack(schema::ArchitectureT* a, bool decoder, schema::Activation act, uint32_t buckets, uint32_t max_distance) {
  auto layer = std::make_unique<schema::LayerSpecT>();
  layer->norm = schema::NormKind::RMSNorm;
  layer->norm_placement = schema::NormPlacement::Pre;
  layer->mask = decoder ? schema::AttentionMask::Causal : schema::AttentionMask::Bidirectional;
  layer->position = schema::PositionKind::T5Relative;
  layer->activation = act;
  layer->cross_attention = decoder;
  a->norm = schema::NormKind::RMSNorm;
  a->activation = act;
  a->position = schema::PositionKind::T5Relative;
  a->stack = std::make_unique<schema::StackSpecT>();
  a->stack->layers.push_back(std::move(layer));
  a->stack->attention_scale = 1.0f;
  a->stack->relative_buckets = buckets;
  a->stack->relative_max_distance = max_distance;
  a->stack->relative_bidirectional = !decoder;
  a->stack->relative_shared = true;
  a->stack->classifier = decoder;
  a->stack->shared_embedding = !decoder;
}

}  // namespace

Error ConvertT5(const HfConfig& c, const std::string& config_path, const SafetensorsSet& st,
                const ConvertOptions& options, ModelData* model) {
  Result<nlohmann::json> read = ReadJsonFile(config_path, uint64_t{1} << 20);
  if (!read.ok()) return read.error();
  const nlohmann::json& j = read.value();
  uint32_t encoder_layers = 0, buckets = 32, max_distance = 128;
  int32_t start = 0;
  std::string proj = "relu";
  EF_RETURN_IF_ERROR(GuardJson(config_path, [&]() -> Error {
    EF_RETURN_IF_ERROR(JsonUint(j, "num_layers", kMaxConfigInt, config_path, &encoder_layers, /*required=*/true));
    EF_RETURN_IF_ERROR(JsonUint(j, "relative_attention_num_buckets", kMaxConfigInt, config_path, &buckets));
    EF_RETURN_IF_ERROR(JsonUint(j, "relative_attention_max_distance", kMaxConfigInt, config_path, &max_distance));
    proj = j.value("feed_forward_proj", proj);
    start = c.pad_token_id >= 0 ? c.pad_token_id : 0;
    return JsonInt(j, "decoder_start_token_id", 0, kMaxConfigInt, config_path, &start);
  }));
  if (proj != "relu" && proj != "gated-gelu") {
    return Error(Status::kUnsupported, config_path + ": feed_forward_proj '" + proj + "' (supported: relu, gated-gelu)");
  }
  const bool gated = proj == "gated-gelu";
  const schema::Activation act = gated ? schema::Activation::GeGLUTanh : schema::Activation::ReLU;
  schema::ArchitectureT& a = model->architecture;
  a.family = schema::ModelFamily::EncoderDecoder;
  a.tied_embeddings = c.tie_word_embeddings;
  a.bos_id = -1;
  a.decoder_start_ids = {start};
  T5Stack(&a, true, act, buckets, max_distance);
  std::unique_ptr<schema::ArchitectureT> e = EncoderArchitecture(a);
  e->n_layers = encoder_layers;
  T5Stack(e.get(), false, act, buckets, max_distance);
  a.encoder = std::move(e);

  const uint64_t dim = c.hidden_size, inner = uint64_t{c.num_attention_heads} * c.head_dim, ff = c.intermediate_size;
  const uint64_t vocab = c.vocab_size;
  Builder b(model, options);
  const Quant q = options.quant;
  Reader reader(st, options, 8 + (uint64_t{encoder_layers} + c.num_hidden_layers) * 14);
  {
    const std::string name = st.Find("shared.weight") != nullptr ? "shared.weight" : "decoder.embed_tokens.weight";
    EF_READ(shared, name, vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(shared), vocab, dim, options.embedding_quant);
  }
  // Self-attention (and, in the decoder, cross-attention) then the feed-forward, per block.
  auto attention = [&](const std::string& p, int32_t l, bool cross) -> Error {
    const std::string sub = cross ? "EncDecAttention." : "SelfAttention.";
    const TensorRole roles[4] = {cross ? TensorRole::CrossWq : TensorRole::Wq, cross ? TensorRole::CrossWk : TensorRole::Wk,
                                 cross ? TensorRole::CrossWv : TensorRole::Wv, cross ? TensorRole::CrossWo : TensorRole::Wo};
    const char* names[4] = {"q", "k", "v", "o"};
    for (int i = 0; i < 4; ++i) {
      const uint64_t rows = i == 3 ? dim : inner, cols = i == 3 ? inner : dim;
      EF_READ(w, p + sub + names[i] + ".weight", rows, cols);
      b.Matrix(std::string(cross ? "cross_w" : "w") + names[i], roles[i], l, std::move(w), rows, cols, q);
    }
    return Error::Ok();
  };
  auto feed_forward = [&](const std::string& p, int32_t l) -> Error {
    if (gated) {
      EF_READ(gate, p + "DenseReluDense.wi_0.weight", ff, dim);
      b.Matrix("w_gate", TensorRole::FfnGate, l, std::move(gate), ff, dim, q);
      EF_READ(up, p + "DenseReluDense.wi_1.weight", ff, dim);
      b.Matrix("w_up", TensorRole::FfnUp, l, std::move(up), ff, dim, q);
    } else {
      EF_READ(up, p + "DenseReluDense.wi.weight", ff, dim);
      b.Matrix("w_up", TensorRole::FfnUp, l, std::move(up), ff, dim, q);
    }
    EF_READ(down, p + "DenseReluDense.wo.weight", dim, ff);
    b.Matrix("w_down", TensorRole::FfnDown, l, std::move(down), dim, ff, q);
    return Error::Ok();
  };
  auto norm = [&](const std::string& name, TensorRole role, int32_t l, const char* as, float scale) -> Error {
    EF_READ(w, name, dim);
    for (float& v : w) v *= scale;
    b.Vector(as, role, l, std::move(w));
    return Error::Ok();
  };
  for (const bool decoder : {true, false}) {
    const std::string s = decoder ? "decoder." : "encoder.";
    const uint32_t layers = decoder ? c.num_hidden_layers : encoder_layers;
    b.SetStack(decoder ? 0 : 1);
    EF_READ(rel, s + "block.0.layer.0.SelfAttention.relative_attention_bias.weight", buckets, c.num_attention_heads);
    b.Matrix("relative_bias", TensorRole::RelativeBias, -1, std::move(rel), buckets, c.num_attention_heads, Quant::kNone);
    for (uint32_t i = 0; i < layers; ++i) {
      const int32_t l = static_cast<int32_t>(i);
      const std::string p = s + "block." + std::to_string(i) + ".layer.";
      EF_RETURN_IF_ERROR(norm(p + "0.layer_norm.weight", TensorRole::AttnNorm, l, "attn_norm", 1.0f));
      EF_RETURN_IF_ERROR(attention(p + "0.", l, false));
      if (decoder) {
        EF_RETURN_IF_ERROR(norm(p + "1.layer_norm.weight", TensorRole::CrossAttnNorm, l, "cross_norm", 1.0f));
        EF_RETURN_IF_ERROR(attention(p + "1.", l, true));
      }
      const std::string f = p + (decoder ? "2." : "1.");
      EF_RETURN_IF_ERROR(norm(f + "layer_norm.weight", TensorRole::FfnNorm, l, "ffn_norm", 1.0f));
      EF_RETURN_IF_ERROR(feed_forward(f, l));
    }
    // The tied classifier's input is scaled by d_model^-0.5 (T5 v1.0): folded into the norm.
    const float scale = decoder && c.tie_word_embeddings ? 1.0f / std::sqrt(static_cast<float>(dim)) : 1.0f;
    EF_RETURN_IF_ERROR(norm(s + "final_layer_norm.weight", TensorRole::FinalNorm, -1, "final_norm", scale));
    if (decoder && !c.tie_word_embeddings) {
      b.SetStack(0);
      EF_READ(head, "lm_head.weight", vocab, dim);
      b.Matrix("classifier", TensorRole::Classifier, -1, std::move(head), vocab, dim, options.embedding_quant);
    }
  }
  EF_RETURN_IF_ERROR(b.status());
  reader.Done(options.output);
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
