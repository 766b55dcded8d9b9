// Hugging Face `config.json`: the architecture of a checkpoint. Read with nlohmann::json; every
// value is checked for type and range, and errors name the file and the key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace edgeformer {
namespace convert {

// The hyper-parameters under Llama's names; GPT-2's own keys (n_embd, n_layer, ...) are read
// into the same fields.
struct HfConfig {
  std::string model_type;  // "llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3_text", "gpt2",
                           // "bert", "bloom", "edgeformer"
  uint32_t hidden_size = 0;
  uint32_t intermediate_size = 0;
  uint32_t num_hidden_layers = 0;
  uint32_t num_attention_heads = 0;
  uint32_t num_key_value_heads = 0;  // defaults to num_attention_heads
  uint32_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  uint32_t vocab_size = 0;
  uint32_t max_position_embeddings = 0;
  float norm_eps = 1e-6f;  // rms_norm_eps, or GPT-2's layer_norm_epsilon
  float rope_theta = 10000.0f;
  bool tie_word_embeddings = false;
  // rope_scaling: none, or "llama3" with its four parameters.
  bool rope_llama3 = false;
  float rope_factor = 1.0f, rope_low_freq_factor = 1.0f, rope_high_freq_factor = 4.0f;
  uint32_t rope_original_max_position = 0;
  int32_t bos_token_id = -1;
  int32_t eos_token_id = -1;  // the first, when the config lists several
  std::vector<int32_t> eos_token_ids;  // all of them (decoders of the Llama-style families)
  uint32_t type_vocab_size = 0;  // bert: token types
  int32_t pad_token_id = -1;
  std::string hidden_act;        // bert: "gelu" (erf), "gelu_new", "relu"
  bool attention_bias = false;   // qwen3: q/k/v (and o) biases, when the config asks for them
  uint32_t rotary_dim = 0;       // head_dim * partial_rotary_factor (phi3), else head_dim
  // rope_scaling "longrope" (Phi-3): per-pair factors, and the attention factor (Hugging Face's
  // default: sqrt(1 + ln(max / original) / ln(original)) when max > original, else 1).
  bool rope_longrope = false;
  std::vector<float> rope_short_factors, rope_long_factors;
  float rope_attention_factor = 1.0f;
  float rope_linear_factor = 0.0f;  // rope_scaling "linear" (0: none)
  // Sliding-window attention: the window (0: none, or one that covers max_position_embeddings)
  // and which layers use it (layer_types, or the family's pattern).
  uint32_t sliding_window = 0;
  std::vector<bool> sliding_layers;
  // Gemma 2 and 3: scores scaled by query_pre_attn_scalar^-0.5; soft-capping (0: none); the
  // local (sliding) layers' rotary base (Gemma 3; 0: the layers share rope_theta).
  float query_pre_attn_scalar = 0.0f;
  float attn_logit_softcapping = 0.0f, final_logit_softcapping = 0.0f;
  float rope_local_base_freq = 0.0f;
  bool gemma() const { return model_type == "gemma2" || model_type == "gemma3_text"; }
};

// Reads `path`. Refuses model types other than the supported ones (llama, mistral, qwen2, qwen3,
// phi3, gemma2, gemma3_text, gpt2, bert, bloom, edgeformer) with a message that lists them. For "edgeformer" only the dimensions are read here
// (converter/convert_generic.cc reads the stack).
Result<HfConfig> ReadHfConfig(const std::string& path);

// Adds generation_config.json's eos_token_id (one id or a list; what Hugging Face's generate()
// stops at) to *ids, when the file exists; a malformed one is an error naming it.
Error ReadGenerationEos(const std::string& path, std::vector<int32_t>* ids);

}  // namespace convert
}  // namespace edgeformer
