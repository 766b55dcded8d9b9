// Hugging Face checkpoints (config.json + safetensors) to an edgeformer model file.
//
// Llama family: the tensors are model.embed_tokens, model.layers.N.{input_layernorm,
// self_attn.{q,k,v,o}_proj, post_attention_layernorm, mlp.{gate,up,down}_proj}, model.norm and
// lm_head (absent when tie_word_embeddings). HF rotates the two halves of each head (dim i pairs
// with i + head_dim / 2); edgeformer rotates adjacent pairs (2i, 2i + 1) with the same
// frequency, so the rows of q_proj and k_proj are permuted once here: q.k is unchanged because
// both sides get the same permutation, and v/o are untouched.
#include <cstdio>

#include "converter/builder.h"
#include "converter/convert.h"
#include "converter/hf_config.h"
#include "converter/safetensors.h"
#include "converter/writer.h"

namespace edgeformer {
namespace convert {
namespace {

using schema::TensorRole;

// Rows of each head reordered from the half-split rotary layout to adjacent pairs.
std::vector<float> HalvesToPairs(const std::vector<float>& w, uint64_t heads, uint64_t head_dim, uint64_t cols) {
  std::vector<float> out(w.size());
  const uint64_t half = head_dim / 2;
  for (uint64_t h = 0; h < heads; ++h) {
    for (uint64_t i = 0; i < half; ++i) {
      const float* first = &w[(h * head_dim + i) * cols];
      const float* second = &w[(h * head_dim + i + half) * cols];
      std::copy(first, first + cols, &out[(h * head_dim + 2 * i) * cols]);
      std::copy(second, second + cols, &out[(h * head_dim + 2 * i + 1) * cols]);
    }
  }
  return out;
}

}  // namespace

Error ConvertHf(const ConvertOptions& options) {
  const std::string& dir = options.checkpoint;
  const std::string config_path = JoinPath(dir, "config.json");
  Result<HfConfig> read_config = ReadHfConfig(config_path);
  if (!read_config.ok()) return read_config.error();
  const HfConfig& c = read_config.value();
  if (c.head_dim % 2 != 0) return Error(Status::kUnsupported, config_path + ": head_dim must be even for rotary positions");
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return Error(Status::kInvalidModel, config_path + ": num_attention_heads is not a multiple of num_key_value_heads");
  }
  Result<std::unique_ptr<SafetensorsSet>> open = SafetensorsSet::OpenDir(dir);
  if (!open.ok()) return open.error();
  const SafetensorsSet& st = *open.value();

  ModelData model;
  model.producer = "edgeformer-convert (Hugging Face " + c.model_type + ")";
  schema::ArchitectureT& a = model.architecture;
  a.family = schema::ModelFamily::DecoderOnly;
  a.n_layers = c.num_hidden_layers;
  a.dim = c.hidden_size;
  a.hidden_dim = c.intermediate_size;
  a.n_heads = c.num_attention_heads;
  a.n_kv_heads = c.num_key_value_heads;
  a.head_dim = c.head_dim;
  a.vocab_size = c.vocab_size;
  a.max_seq_len = c.max_position_embeddings;
  a.norm = schema::NormKind::RMSNorm;
  a.norm_eps = c.rms_norm_eps;
  a.activation = schema::Activation::SwiGLU;
  a.position = schema::PositionKind::Rotary;
  a.rope_theta = c.rope_theta;
  a.rotary_dim = c.head_dim;
  if (c.rope_llama3) {
    a.rope_scaling = schema::RopeScaling::Llama3;
    a.rope_scaling_factor = c.rope_factor;
    a.rope_low_freq_factor = c.rope_low_freq_factor;
    a.rope_high_freq_factor = c.rope_high_freq_factor;
    a.rope_original_max_seq_len = c.rope_original_max_position;
  }
  a.tied_embeddings = c.tie_word_embeddings || st.Find("lm_head.weight") == nullptr;
  a.bos_id = c.bos_token_id;
  a.eos_id = c.eos_token_id;
  model.has_tokenizer = false;  // tokenizer.json is not converted yet: token ids only

  const uint64_t dim = c.hidden_size, hidden = c.intermediate_size, hd = c.head_dim, vocab = c.vocab_size;
  const uint64_t q_dim = hd * c.num_attention_heads, kv_dim = hd * c.num_key_value_heads;
  Builder b(&model, options.report);
  const Quant q = options.quant;
  const uint64_t total = 3 + 9 * uint64_t{c.num_hidden_layers};
  uint64_t done = 0;
  // Reads a tensor as f32 with the shape the config implies, and reports progress.
  auto read = [&](const std::string& name, std::vector<uint64_t> shape) -> Result<std::vector<float>> {
    if (options.progress != nullptr) {
      std::fprintf(options.progress, "\rreading tensor %llu of %llu", static_cast<unsigned long long>(++done),
                   static_cast<unsigned long long>(total));
      std::fflush(options.progress);
    }
    return st.ReadF32(name, shape);
  };
#define EF_READ(var, name, ...)                                      \
  Result<std::vector<float>> var##_read = read(name, {__VA_ARGS__}); \
  if (!var##_read.ok()) return var##_read.error();                   \
  std::vector<float> var = var##_read.take()

  {
    EF_READ(embed, "model.embed_tokens.weight", vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(embed), vocab, dim, options.embedding_quant);
  }
  for (uint32_t l = 0; l < c.num_hidden_layers; ++l) {
    const int32_t L = static_cast<int32_t>(l);
    const std::string p = "model.layers." + std::to_string(l) + ".";
    EF_READ(attn_norm, p + "input_layernorm.weight", dim);
    b.Vector("attn_norm", TensorRole::AttnNorm, L, std::move(attn_norm));
    EF_READ(wq, p + "self_attn.q_proj.weight", q_dim, dim);
    b.Matrix("wq", TensorRole::Wq, L, HalvesToPairs(wq, c.num_attention_heads, hd, dim), q_dim, dim, q);
    EF_READ(wk, p + "self_attn.k_proj.weight", kv_dim, dim);
    b.Matrix("wk", TensorRole::Wk, L, HalvesToPairs(wk, c.num_key_value_heads, hd, dim), kv_dim, dim, q);
    EF_READ(wv, p + "self_attn.v_proj.weight", kv_dim, dim);
    b.Matrix("wv", TensorRole::Wv, L, std::move(wv), kv_dim, dim, q);
    EF_READ(wo, p + "self_attn.o_proj.weight", dim, q_dim);
    b.Matrix("wo", TensorRole::Wo, L, std::move(wo), dim, q_dim, q);
    EF_READ(ffn_norm, p + "post_attention_layernorm.weight", dim);
    b.Vector("ffn_norm", TensorRole::FfnNorm, L, std::move(ffn_norm));
    EF_READ(gate, p + "mlp.gate_proj.weight", hidden, dim);
    b.Matrix("w_gate", TensorRole::FfnGate, L, std::move(gate), hidden, dim, q);
    EF_READ(down, p + "mlp.down_proj.weight", dim, hidden);
    b.Matrix("w_down", TensorRole::FfnDown, L, std::move(down), dim, hidden, q);
    EF_READ(up, p + "mlp.up_proj.weight", hidden, dim);
    b.Matrix("w_up", TensorRole::FfnUp, L, std::move(up), hidden, dim, q);
  }
  {
    EF_READ(norm, "model.norm.weight", dim);
    b.Vector("final_norm", TensorRole::FinalNorm, -1, std::move(norm));
  }
  if (!a.tied_embeddings) {
    EF_READ(head, "lm_head.weight", vocab, dim);
    b.Matrix("classifier", TensorRole::Classifier, -1, std::move(head), vocab, dim, options.embedding_quant);
  }
#undef EF_READ
  if (options.progress != nullptr) std::fprintf(options.progress, "\rread %llu tensors; writing %s\n",
                                                static_cast<unsigned long long>(done), options.output.c_str());
  return WriteModelFile(model, options.output);
}

}  // namespace convert
}  // namespace edgeformer
