// Hugging Face BLOOM checkpoints: [transformer.]word_embeddings, word_embeddings_layernorm,
// h.N.{input_layernorm, self_attention.{query_key_value, dense}, post_attention_layernorm,
// mlp.{dense_h_to_4h, dense_4h_to_h}}, ln_f; the classifier is tied to the word embeddings.
// Pre-norm LayerNorms, ALiBi positions, GELU with the tanh approximation, biases everywhere.
// query_key_value is fused per head: its output rows are, for each head, the head's q, k and v
// rows (view(n_heads, 3, head_dim)); they are split here.
#include "converter/hf_families.h"
#include "converter/hf_reader.h"
#include "converter/stack.h"

namespace edgeformer {
namespace convert {

using schema::TensorRole;

Error ConvertBloom(const HfConfig& c, const SafetensorsSet& st, const ConvertOptions& options, ModelData* model) {
  const uint64_t dim = c.hidden_size, hidden = c.intermediate_size, vocab = c.vocab_size;
  const uint64_t heads = c.num_attention_heads, hd = c.head_dim;
  const std::string t = st.Find("transformer.word_embeddings.weight") != nullptr ? "transformer." : "";
  schema::ArchitectureT& a = model->architecture;
  a.family = schema::ModelFamily::DecoderOnly;
  a.norm = schema::NormKind::LayerNorm;
  a.activation = schema::Activation::GELUTanh;
  a.position = schema::PositionKind::ALiBi;
  a.tied_embeddings = true;
  a.attention_bias = true;
  a.mlp_bias = true;
  auto layer = std::make_unique<schema::LayerSpecT>();
  layer->norm = schema::NormKind::LayerNorm;
  layer->norm_placement = schema::NormPlacement::Pre;
  layer->mask = schema::AttentionMask::Causal;
  layer->position = schema::PositionKind::ALiBi;
  layer->activation = schema::Activation::GELUTanh;
  layer->attention_bias = true;
  layer->mlp_bias = true;
  auto s = std::make_unique<schema::StackSpecT>();
  s->layers.push_back(std::move(layer));
  s->embedding_positions = schema::PositionKind::None;
  s->embedding_norm = true;
  s->final_norm = true;
  s->classifier = true;
  a.stack = std::move(s);

  Builder b(model, options);
  const Quant q = options.quant;
  Reader reader(st, options, 5 + 12 * uint64_t{c.num_hidden_layers});
  {
    EF_READ(word, t + "word_embeddings.weight", vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(word), vocab, dim, options.embedding_quant);
    EF_READ(norm, t + "word_embeddings_layernorm.weight", dim);
    b.Vector("embed_norm", TensorRole::EmbedNorm, -1, std::move(norm));
    EF_READ(norm_b, t + "word_embeddings_layernorm.bias", dim);
    b.Vector("embed_norm_bias", TensorRole::EmbedNormBias, -1, std::move(norm_b));
  }
  for (uint32_t l = 0; l < c.num_hidden_layers; ++l) {
    const int32_t L = static_cast<int32_t>(l);
    const std::string p = t + "h." + std::to_string(l) + ".";
    EF_READ(ln1, p + "input_layernorm.weight", dim);
    b.Vector("attn_norm", TensorRole::AttnNorm, L, std::move(ln1));
    EF_READ(ln1_b, p + "input_layernorm.bias", dim);
    b.Vector("attn_norm_bias", TensorRole::AttnNormBias, L, std::move(ln1_b));
    EF_READ(qkv, p + "self_attention.query_key_value.weight", 3 * dim, dim);
    EF_READ(qkv_b, p + "self_attention.query_key_value.bias", 3 * dim);
    // Rows of head h: q at h*3*hd, k at h*3*hd + hd, v at h*3*hd + 2*hd.
    auto part = [&](const std::vector<float>& w, uint64_t which, uint64_t cols) {
      std::vector<float> out;
      out.reserve(dim * cols);
      for (uint64_t h = 0; h < heads; ++h) {
        const auto first = w.begin() + static_cast<long>((h * 3 + which) * hd * cols);
        out.insert(out.end(), first, first + static_cast<long>(hd * cols));
      }
      return out;
    };
    const TensorRole roles[3][2] = {{TensorRole::Wq, TensorRole::Bq}, {TensorRole::Wk, TensorRole::Bk},
                                    {TensorRole::Wv, TensorRole::Bv}};
    const char* names[3][2] = {{"wq", "bq"}, {"wk", "bk"}, {"wv", "bv"}};
    for (uint64_t which = 0; which < 3; ++which) {
      b.Matrix(names[which][0], roles[which][0], L, part(qkv, which, dim), dim, dim, q);
      b.Vector(names[which][1], roles[which][1], L, part(qkv_b, which, 1));
    }
    EF_READ(dense, p + "self_attention.dense.weight", dim, dim);
    b.Matrix("wo", TensorRole::Wo, L, std::move(dense), dim, dim, q);
    EF_READ(dense_b, p + "self_attention.dense.bias", dim);
    b.Vector("bo", TensorRole::Bo, L, std::move(dense_b));
    EF_READ(ln2, p + "post_attention_layernorm.weight", dim);
    b.Vector("ffn_norm", TensorRole::FfnNorm, L, std::move(ln2));
    EF_READ(ln2_b, p + "post_attention_layernorm.bias", dim);
    b.Vector("ffn_norm_bias", TensorRole::FfnNormBias, L, std::move(ln2_b));
    EF_READ(up, p + "mlp.dense_h_to_4h.weight", hidden, dim);
    b.Matrix("w_up", TensorRole::FfnUp, L, std::move(up), hidden, dim, q);
    EF_READ(up_b, p + "mlp.dense_h_to_4h.bias", hidden);
    b.Vector("b_up", TensorRole::FfnUpBias, L, std::move(up_b));
    EF_READ(down, p + "mlp.dense_4h_to_h.weight", dim, hidden);
    b.Matrix("w_down", TensorRole::FfnDown, L, std::move(down), dim, hidden, q);
    EF_READ(down_b, p + "mlp.dense_4h_to_h.bias", dim);
    b.Vector("b_down", TensorRole::FfnDownBias, L, std::move(down_b));
  }
  EF_READ(lnf, t + "ln_f.weight", dim);
  b.Vector("final_norm", TensorRole::FinalNorm, -1, std::move(lnf));
  EF_READ(lnf_b, t + "ln_f.bias", dim);
  b.Vector("final_norm_bias", TensorRole::FinalNormBias, -1, std::move(lnf_b));
  EF_RETURN_IF_ERROR(b.status());
  reader.Done(options.output);
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
