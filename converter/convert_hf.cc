// Hugging Face checkpoints (config.json + safetensors) to an edgeformer model file.
//
// llama, mistral, qwen2 and qwen3: model.embed_tokens, model.layers.N.{input_layernorm,
// self_attn.{q,k,v,o}_proj (qwen2: with q/k/v biases; qwen3: with q_norm and k_norm, RMSNorms of
// each head's q and k), post_attention_layernorm, mlp.{gate,up,down}_proj}, model.norm and
// lm_head (absent when tied). HF rotates the two halves of each head (dim i pairs with
// i + head_dim / 2); edgeformer rotates adjacent pairs (2i, 2i + 1) with the same frequency, so
// the rows of q_proj and k_proj (and their biases) are permuted once here: q.k is unchanged
// because both sides get the same permutation, and v/o are untouched.
//
// gemma2 and gemma3_text: the same names, plus post_attention_layernorm and
// post_feedforward_layernorm after each block and pre_feedforward_layernorm before the
// feed-forward (the sandwich: input_layernorm -> attention -> post_attention_layernorm -> + x ->
// pre_feedforward_layernorm -> GeGLU -> post_feedforward_layernorm -> + x); every norm (and
// Gemma 3's q_norm and k_norm) scales by (1 + w), so 1 is added here; the embedding is scaled by
// sqrt(hidden_size) and tied.
//
// gpt2: [transformer.]wte, wpe, h.N.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj},
// ln_f; the classifier is tied to wte. Its linear layers are Conv1D, stored [in][out]: they are
// transposed here, and c_attn is split into q, k and v.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "converter/builder.h"
#include "converter/stack.h"
#include "converter/convert.h"
#include "converter/hf_config.h"
#include "converter/hf_families.h"
#include "converter/hf_reader.h"
#include "converter/reshape.h"
#include "converter/hf_tokenizer.h"
#include "converter/spm_model.h"
#include "converter/safetensors.h"
#include "converter/writer.h"

namespace edgeformer {
namespace convert {
namespace {

using schema::TensorRole;

Error ConvertLlamaTensors(const HfConfig& c, const SafetensorsSet& st, const ConvertOptions& options, bool biases,
                          bool qk_norm, bool tied, ModelData* model) {
  const uint64_t dim = c.hidden_size, hidden = c.intermediate_size, hd = c.head_dim, vocab = c.vocab_size;
  const uint64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads, q_dim = hd * nh, kv_dim = hd * nkv;
  const uint64_t rd = c.rotary_dim;
  const bool fused = c.model_type == "phi3";  // qkv_proj and gate_up_proj
  const bool gemma = c.gemma();
  Builder b(model, options);
  const Quant q = options.quant;
  Reader reader(st, options,
                3 + ((fused ? 6 : 9) + (biases ? 3 : 0) + (qk_norm ? 2 : 0) + (gemma ? 2 : 0)) *
                        uint64_t{c.num_hidden_layers} -
                    (tied ? 1 : 0));
  // Gemma's norms scale by (1 + w): the file holds 1 + w (in f32, as Hugging Face computes it).
  auto norm = [gemma](std::vector<float> w) {
    if (gemma) {
      for (float& v : w) v = 1.0f + v;
    }
    return w;
  };
  {
    EF_READ(embed, "model.embed_tokens.weight", vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(embed), vocab, dim, options.embedding_quant);
  }
  for (uint32_t l = 0; l < c.num_hidden_layers; ++l) {
    const int32_t L = static_cast<int32_t>(l);
    const std::string p = "model.layers." + std::to_string(l) + ".";
    EF_READ(attn_norm, p + "input_layernorm.weight", dim);
    b.Vector("attn_norm", TensorRole::AttnNorm, L, norm(std::move(attn_norm)));
    std::vector<float> wq, wk, wv;
    if (fused) {  // Phi-3: rows q, then k, then v
      EF_READ(qkv, p + "self_attn.qkv_proj.weight", q_dim + 2 * kv_dim, dim);
      wq = Rows(qkv, 0, q_dim, dim);
      wk = Rows(qkv, q_dim, kv_dim, dim);
      wv = Rows(qkv, q_dim + kv_dim, kv_dim, dim);
    } else {
      EF_READ(q_rows, p + "self_attn.q_proj.weight", q_dim, dim);
      EF_READ(k_rows, p + "self_attn.k_proj.weight", kv_dim, dim);
      EF_READ(v_rows, p + "self_attn.v_proj.weight", kv_dim, dim);
      wq = std::move(q_rows), wk = std::move(k_rows), wv = std::move(v_rows);
    }
    b.Matrix("wq", TensorRole::Wq, L, HalvesToPairs(wq, nh, hd, rd, dim), q_dim, dim, q);
    b.Matrix("wk", TensorRole::Wk, L, HalvesToPairs(wk, nkv, hd, rd, dim), kv_dim, dim, q);
    b.Matrix("wv", TensorRole::Wv, L, std::move(wv), kv_dim, dim, q);
    if (biases) {
      EF_READ(bq, p + "self_attn.q_proj.bias", q_dim);
      b.Vector("bq", TensorRole::Bq, L, HalvesToPairs(bq, nh, hd, rd, 1));
      EF_READ(bk, p + "self_attn.k_proj.bias", kv_dim);
      b.Vector("bk", TensorRole::Bk, L, HalvesToPairs(bk, nkv, hd, rd, 1));
      EF_READ(bv, p + "self_attn.v_proj.bias", kv_dim);
      b.Vector("bv", TensorRole::Bv, L, std::move(bv));
    }
    if (qk_norm) {  // scales of a head's dims: permuted as its rows are
      EF_READ(q_norm, p + "self_attn.q_norm.weight", hd);
      b.Vector("q_norm", TensorRole::AttnQNorm, L, norm(HalvesToPairs(q_norm, 1, hd, rd, 1)));
      EF_READ(k_norm, p + "self_attn.k_norm.weight", hd);
      b.Vector("k_norm", TensorRole::AttnKNorm, L, norm(HalvesToPairs(k_norm, 1, hd, rd, 1)));
    }
    EF_READ(wo, p + "self_attn.o_proj.weight", dim, q_dim);
    b.Matrix("wo", TensorRole::Wo, L, std::move(wo), dim, q_dim, q);
    if (gemma) {
      EF_READ(post_attn_norm, p + "post_attention_layernorm.weight", dim);
      b.Vector("post_attn_norm", TensorRole::PostAttnNorm, L, norm(std::move(post_attn_norm)));
      EF_READ(ffn_norm, p + "pre_feedforward_layernorm.weight", dim);
      b.Vector("ffn_norm", TensorRole::FfnNorm, L, norm(std::move(ffn_norm)));
      EF_READ(post_ffn_norm, p + "post_feedforward_layernorm.weight", dim);
      b.Vector("post_ffn_norm", TensorRole::PostFfnNorm, L, norm(std::move(post_ffn_norm)));
    } else {
      EF_READ(ffn_norm, p + "post_attention_layernorm.weight", dim);
      b.Vector("ffn_norm", TensorRole::FfnNorm, L, std::move(ffn_norm));
    }
    std::vector<float> gate, up;
    if (fused) {  // Phi-3: the gate's rows, then the up projection's
      EF_READ(gate_up, p + "mlp.gate_up_proj.weight", 2 * hidden, dim);
      gate = Rows(gate_up, 0, hidden, dim);
      up = Rows(gate_up, hidden, hidden, dim);
    } else {
      EF_READ(gate_rows, p + "mlp.gate_proj.weight", hidden, dim);
      EF_READ(up_rows, p + "mlp.up_proj.weight", hidden, dim);
      gate = std::move(gate_rows), up = std::move(up_rows);
    }
    b.Matrix("w_gate", TensorRole::FfnGate, L, std::move(gate), hidden, dim, q);
    EF_READ(down, p + "mlp.down_proj.weight", dim, hidden);
    b.Matrix("w_down", TensorRole::FfnDown, L, std::move(down), dim, hidden, q);
    b.Matrix("w_up", TensorRole::FfnUp, L, std::move(up), hidden, dim, q);
  }
  {
    EF_READ(final, "model.norm.weight", dim);
    b.Vector("final_norm", TensorRole::FinalNorm, -1, norm(std::move(final)));
  }
  if (!tied) {
    EF_READ(head, "lm_head.weight", vocab, dim);
    b.Matrix("classifier", TensorRole::Classifier, -1, std::move(head), vocab, dim, options.embedding_quant);
  }
  EF_RETURN_IF_ERROR(b.status());
  reader.Done(options.output);
  return Error::Ok();
}

// One layer spec per layer when some layers attend through a window (and, Gemma 3, rotate with
// their own base).
void SetSlidingLayers(const HfConfig& c, schema::StackSpecT* stack) {
  if (c.sliding_layers.empty()) return;
  const schema::LayerSpecT base = *stack->layers[0];
  stack->layers.clear();
  for (uint32_t l = 0; l < c.num_hidden_layers; ++l) {
    auto layer = std::make_unique<schema::LayerSpecT>(base);
    if (c.sliding_layers[l]) {
      layer->sliding_window = c.sliding_window;
      layer->rope_theta = c.rope_local_base_freq;
    }
    stack->layers.push_back(std::move(layer));
  }
}

Error ConvertGpt2Tensors(const HfConfig& c, const SafetensorsSet& st, const ConvertOptions& options,
                         ModelData* model) {
  const uint64_t dim = c.hidden_size, hidden = c.intermediate_size, vocab = c.vocab_size;
  const uint64_t positions = c.max_position_embeddings;
  // Hugging Face's GPT2LMHeadModel prefixes "transformer."; the original checkpoints do not.
  const std::string t = st.Find("transformer.wte.weight") != nullptr ? "transformer." : "";
  Builder b(model, options);
  const Quant q = options.quant;
  Reader reader(st, options, 4 + 12 * uint64_t{c.num_hidden_layers});
  {
    EF_READ(wte, t + "wte.weight", vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(wte), vocab, dim, options.embedding_quant);
    EF_READ(wpe, t + "wpe.weight", positions, dim);
    b.Matrix("position_embedding", TensorRole::PositionEmbedding, -1, std::move(wpe), positions, dim, Quant::kNone);
  }
  for (uint32_t l = 0; l < c.num_hidden_layers; ++l) {
    const int32_t L = static_cast<int32_t>(l);
    const std::string p = t + "h." + std::to_string(l) + ".";
    EF_READ(ln1, p + "ln_1.weight", dim);
    b.Vector("attn_norm", TensorRole::AttnNorm, L, std::move(ln1));
    EF_READ(ln1_b, p + "ln_1.bias", dim);
    b.Vector("attn_norm_bias", TensorRole::AttnNormBias, L, std::move(ln1_b));
    EF_READ(c_attn, p + "attn.c_attn.weight", dim, 3 * dim);
    const std::vector<float> qkv = Transpose(c_attn, dim, 3 * dim);  // [3 dim][dim]: q, k, v rows
    b.Matrix("wq", TensorRole::Wq, L, Rows(qkv, 0, dim, dim), dim, dim, q);
    b.Matrix("wk", TensorRole::Wk, L, Rows(qkv, dim, dim, dim), dim, dim, q);
    b.Matrix("wv", TensorRole::Wv, L, Rows(qkv, 2 * dim, dim, dim), dim, dim, q);
    EF_READ(c_attn_b, p + "attn.c_attn.bias", 3 * dim);
    b.Vector("bq", TensorRole::Bq, L, Rows(c_attn_b, 0, dim, 1));
    b.Vector("bk", TensorRole::Bk, L, Rows(c_attn_b, dim, dim, 1));
    b.Vector("bv", TensorRole::Bv, L, Rows(c_attn_b, 2 * dim, dim, 1));
    EF_READ(c_proj, p + "attn.c_proj.weight", dim, dim);
    b.Matrix("wo", TensorRole::Wo, L, Transpose(c_proj, dim, dim), dim, dim, q);
    EF_READ(c_proj_b, p + "attn.c_proj.bias", dim);
    b.Vector("bo", TensorRole::Bo, L, std::move(c_proj_b));
    EF_READ(ln2, p + "ln_2.weight", dim);
    b.Vector("ffn_norm", TensorRole::FfnNorm, L, std::move(ln2));
    EF_READ(ln2_b, p + "ln_2.bias", dim);
    b.Vector("ffn_norm_bias", TensorRole::FfnNormBias, L, std::move(ln2_b));
    EF_READ(fc, p + "mlp.c_fc.weight", dim, hidden);
    b.Matrix("w_up", TensorRole::FfnUp, L, Transpose(fc, dim, hidden), hidden, dim, q);
    EF_READ(fc_b, p + "mlp.c_fc.bias", hidden);
    b.Vector("b_up", TensorRole::FfnUpBias, L, std::move(fc_b));
    EF_READ(proj, p + "mlp.c_proj.weight", hidden, dim);
    b.Matrix("w_down", TensorRole::FfnDown, L, Transpose(proj, hidden, dim), dim, hidden, q);
    EF_READ(proj_b, p + "mlp.c_proj.bias", dim);
    b.Vector("b_down", TensorRole::FfnDownBias, L, std::move(proj_b));
  }
  EF_READ(lnf, t + "ln_f.weight", dim);
  b.Vector("final_norm", TensorRole::FinalNorm, -1, std::move(lnf));
  EF_READ(lnf_b, t + "ln_f.bias", dim);
  b.Vector("final_norm_bias", TensorRole::FinalNormBias, -1, std::move(lnf_b));
  EF_RETURN_IF_ERROR(b.status());
  reader.Done(options.output);
  return Error::Ok();
}

}  // namespace

Error ConvertHf(const ConvertOptions& options) {
  const std::string& dir = options.checkpoint;
  const std::string config_path = JoinPath(dir, "config.json");
  Result<HfConfig> read_config = ReadHfConfig(config_path);
  if (!read_config.ok()) return read_config.error();
  const HfConfig& c = read_config.value();
  const bool gpt2 = c.model_type == "gpt2";
  const bool rotary = c.model_type == "llama" || c.model_type == "mistral" || c.model_type == "qwen2" ||
                      c.model_type == "qwen3" || c.model_type == "phi3" || c.gemma();
  if (rotary && c.head_dim % 2 != 0) {
    return Error(Status::kUnsupported, config_path + ": head_dim must be even for rotary positions");
  }
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
  a.norm_eps = c.norm_eps;
  a.bos_id = c.bos_token_id;
  a.eos_id = c.eos_token_id;
  // Every id config.json and generation_config.json list as EOS ends generation (Llama 3.1's
  // <|eot_id|>, Gemma's <end_of_turn>): those besides eos_id go to end_ids.
  std::vector<int32_t> ends = c.eos_token_ids;
  EF_RETURN_IF_ERROR(ReadGenerationEos(JoinPath(dir, "generation_config.json"), &ends));
  for (int32_t id : ends) {
    if (id == a.eos_id || static_cast<uint32_t>(id) >= c.vocab_size) continue;
    if (std::find(a.end_ids.begin(), a.end_ids.end(), id) == a.end_ids.end() && a.end_ids.size() < 16) {
      a.end_ids.push_back(id);
    }
  }
  // tokenizer.json, unless the caller asked for a model that takes token ids only.
  const std::string tokenizer_path = JoinPath(dir, "tokenizer.json");
  model.has_tokenizer = options.tokenizer_from_checkpoint;
  // Without tokenizer.json: Marian's source.spm + target.spm + vocab.json (read by ConvertBart),
  // or a SentencePiece model (T5's spiece.model).
  const bool marian_spm = c.model_type == "marian" && PathExists(JoinPath(dir, "source.spm"));
  const std::string spiece_path = JoinPath(dir, "spiece.model");
  const bool spiece = !marian_spm && PathExists(spiece_path);
  if (model.has_tokenizer && PathExists(tokenizer_path)) {
    EF_RETURN_IF_ERROR(ReadHfTokenizer(tokenizer_path, c.vocab_size, &model.tokenizer));
    EF_RETURN_IF_ERROR(ReadChatTemplate(dir, &model.tokenizer.chat_template, &model.tokenizer.chat_bos_token,
                                        &model.tokenizer.chat_eos_token));
    if (c.eos_token_id >= 0) model.tokenizer.eos_id = c.eos_token_id;
    if (model.tokenizer.kind == schema::TokenizerKind::WordPiece) {
      // BERT's CLS and SEP are what its tokenizer puts around a text.
      a.bos_id = model.tokenizer.bos_id;
      a.eos_id = model.tokenizer.eos_id;
    }
  } else if (model.has_tokenizer && spiece) {
    Result<SpmModel> spm = ReadSpmModel(spiece_path);
    if (!spm.ok()) return spm.error();
    EF_RETURN_IF_ERROR(BuildSpmTokenizer(spiece_path, spm.value(), c.vocab_size, nullptr, true, &model.tokenizer));
    if (c.model_type == "t5") {
      // T5Tokenizer's 100 sentinels after the pieces, <extra_id_0> last: special tokens.
      const uint32_t pieces = static_cast<uint32_t>(spm.value().pieces.size());
      const uint32_t extra = std::min<uint32_t>(100, c.vocab_size - pieces);
      for (uint32_t n = 0; n < extra; ++n) {
        auto a = std::make_unique<schema::AddedTokenT>();
        a->id = static_cast<int32_t>(pieces + extra - 1 - n);
        a->special = true;
        a->content = "<extra_id_" + std::to_string(n) + ">";
        model.tokenizer.added_tokens.push_back(std::move(a));
      }
    }
  } else if (model.has_tokenizer && !marian_spm) {
    return Error(Status::kIoError, tokenizer_path + ": cannot open; a model without a tokenizer takes token ids only, "
                                                    "convert it with --no-tokenizer if that is what you want");
  }
  if (c.model_type == "bert") {
    EF_RETURN_IF_ERROR(ConvertBert(c, dir, st, options, &model));
  } else if (c.model_type == "bloom") {
    EF_RETURN_IF_ERROR(ConvertBloom(c, st, options, &model));
  } else if (c.model_type == "edgeformer") {
    EF_RETURN_IF_ERROR(ConvertGeneric(c, config_path, st, options, &model));
  } else if (c.model_type == "t5") {
    EF_RETURN_IF_ERROR(ConvertT5(c, config_path, st, options, &model));
  } else if (c.model_type == "bart" || c.model_type == "marian") {
    EF_RETURN_IF_ERROR(ConvertBart(c, config_path, st, options, &model));
  } else if (gpt2) {
    a.norm = schema::NormKind::LayerNorm;
    a.activation = schema::Activation::GELUTanh;
    a.position = schema::PositionKind::Learned;
    a.tied_embeddings = true;
    a.attention_bias = true;
    a.mlp_bias = true;
    SetDecoderStack(&a);
    EF_RETURN_IF_ERROR(ConvertGpt2Tensors(c, st, options, &model));
  } else {
    a.norm = schema::NormKind::RMSNorm;
    a.activation = c.gemma() ? schema::Activation::GeGLUTanh : schema::Activation::SwiGLU;
    a.position = schema::PositionKind::Rotary;
    a.rope_theta = c.rope_theta;
    a.rotary_dim = c.rotary_dim;
    if (c.rope_longrope) {
      a.rope_scaling = schema::RopeScaling::LongRoPE;
      a.rope_short_factors = c.rope_short_factors;
      a.rope_long_factors = c.rope_long_factors;
      a.rope_attention_factor = c.rope_attention_factor;
      a.rope_original_max_seq_len = c.rope_original_max_position;
    }
    if (c.rope_llama3) {
      a.rope_scaling = schema::RopeScaling::Llama3;
      a.rope_scaling_factor = c.rope_factor;
      a.rope_low_freq_factor = c.rope_low_freq_factor;
      a.rope_high_freq_factor = c.rope_high_freq_factor;
      a.rope_original_max_seq_len = c.rope_original_max_position;
    }
    if (c.rope_linear_factor > 0.0f) {
      a.rope_scaling = schema::RopeScaling::Linear;
      a.rope_scaling_factor = c.rope_linear_factor;
    }
    a.tied_embeddings = c.tie_word_embeddings || c.gemma() || st.Find("lm_head.weight") == nullptr;
    a.attention_bias = c.model_type == "qwen2";  // q, k and v biases (no o bias)
    SetDecoderStack(&a);
    const bool qk_norm = c.model_type == "qwen3" || c.model_type == "gemma3_text";
    a.stack->layers[0]->qk_norm = qk_norm;
    if (c.gemma()) {
      schema::StackSpecT& stack = *a.stack;
      stack.layers[0]->norm_placement = schema::NormPlacement::Sandwich;
      stack.embedding_scale = std::sqrt(static_cast<float>(c.hidden_size));
      stack.attention_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.query_pre_attn_scalar)));
      stack.attention_softcap = c.attn_logit_softcapping;
      stack.logit_softcap = c.final_logit_softcapping;
    }
    SetSlidingLayers(c, a.stack.get());
    EF_RETURN_IF_ERROR(ConvertLlamaTensors(c, st, options, a.attention_bias, qk_norm, a.tied_embeddings, &model));
  }
  return WriteModelFile(model, options.output);
}

}  // namespace convert
}  // namespace edgeformer
