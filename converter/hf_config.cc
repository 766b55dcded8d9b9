#include "converter/hf_config.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "converter/json_file.h"
#include "core/mapped_file.h"

namespace edgeformer {
namespace convert {
namespace {

constexpr uint32_t kMaxValue = 1u << 24;

class Reader {
 public:
  Reader(const nlohmann::json& j, const std::string& path) : j_(j), path_(path) {}

  Error Uint(const char* key, uint32_t* out, bool required, uint32_t min = 1) const {
    if (!j_.contains(key) || j_[key].is_null()) {
      return required ? Bad(std::string("has no ") + key) : Error::Ok();
    }
    const nlohmann::json& v = j_[key];
    if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > kMaxValue) {
      return Bad(std::string(key) + " must be an integer in [" + std::to_string(min) + ", " +
                 std::to_string(kMaxValue) + "], not " + v.dump());
    }
    *out = static_cast<uint32_t>(v.get<int64_t>());
    return Error::Ok();
  }

  Error Float(const char* key, float* out) const {
    if (!j_.contains(key) || j_[key].is_null()) return Error::Ok();
    const nlohmann::json& v = j_[key];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || !(v.get<double>() > 0.0)) {
      return Bad(std::string(key) + " must be a positive number, not " + v.dump());
    }
    *out = static_cast<float>(v.get<double>());
    return Error::Ok();
  }

  // A token id, or the first of a list of them.
  Error TokenId(const char* key, int32_t* out) const {
    if (!j_.contains(key) || j_[key].is_null()) return Error::Ok();
    nlohmann::json v = j_[key];
    if (v.is_array() && !v.empty()) v = v[0];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxValue) {
      return Bad(std::string(key) + " must be a token id (or a list of them), not " + j_[key].dump());
    }
    *out = static_cast<int32_t>(v.get<int64_t>());
    return Error::Ok();
  }

  // Every id of a token id or a list of them (none when absent).
  Error TokenIds(const char* key, std::vector<int32_t>* out) const {
    if (!j_.contains(key) || j_[key].is_null()) return Error::Ok();
    const nlohmann::json list = j_[key].is_array() ? j_[key] : nlohmann::json::array({j_[key]});
    if (list.size() > 64) return Bad(std::string(key) + " lists more than 64 ids");
    for (const nlohmann::json& v : list) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxValue) {
        return Bad(std::string(key) + " must be a token id (or a list of them), not " + j_[key].dump());
      }
      out->push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    return Error::Ok();
  }

  Error Bad(const std::string& what) const { return Error(Status::kInvalidModel, path_ + ": " + what); }

 private:
  const nlohmann::json& j_;
  const std::string& path_;
};

}  // namespace

namespace {

// Which layers attend through a sliding window, as Hugging Face decides it: layer_types when the
// config lists them; else Mistral and Phi-3 all layers, Qwen2/3 with use_sliding_window the layers
// from max_window_layers on, Gemma 2 the even layers, Gemma 3 all but every
// sliding_window_pattern-th. A window that covers max_position_embeddings changes nothing (0).
Error ReadSlidingWindow(const nlohmann::json& j, const Reader& r, HfConfig* c) {
  const bool qwen = c->model_type == "qwen2" || c->model_type == "qwen3";
  const bool used = c->model_type == "mistral" || c->model_type == "phi3" || c->gemma() ||
                    (qwen && j.value("use_sliding_window", false));
  const bool has_window = j.contains("sliding_window") && !j["sliding_window"].is_null();
  // Gemma's layer types also choose the rotary base, window or not.
  if (!used || (!has_window && !c->gemma())) return Error::Ok();
  uint32_t window = 0;
  EF_RETURN_IF_ERROR(r.Uint("sliding_window", &window, false));
  const uint32_t n = c->num_hidden_layers;
  std::vector<bool> layers(n, true);
  if (j.contains("layer_types") && !j["layer_types"].is_null()) {
    const nlohmann::json& types = j["layer_types"];
    if (!types.is_array() || types.size() != n) return r.Bad("layer_types must list num_hidden_layers types");
    for (uint32_t i = 0; i < n; ++i) {
      if (types[i] != "sliding_attention" && types[i] != "full_attention") {
        return Error(Status::kUnsupported, r.Bad("layer_types[" + std::to_string(i) + "] " + types[i].dump() +
                                                 " (supported: sliding_attention, full_attention)").message());
      }
      layers[i] = types[i] == "sliding_attention";
    }
  } else if (c->model_type == "gemma2") {
    for (uint32_t i = 0; i < n; ++i) layers[i] = i % 2 == 0;
  } else if (c->model_type == "gemma3_text") {
    uint32_t pattern = 6;
    EF_RETURN_IF_ERROR(r.Uint("sliding_window_pattern", &pattern, false));
    for (uint32_t i = 0; i < n; ++i) layers[i] = (i + 1) % pattern != 0;
  } else if (qwen) {
    uint32_t first = 28;
    EF_RETURN_IF_ERROR(r.Uint("max_window_layers", &first, false, 0));
    for (uint32_t i = 0; i < n; ++i) layers[i] = i >= first;
  }
  c->sliding_layers = layers;
  c->sliding_window = window < c->max_position_embeddings ? window : 0;
  return Error::Ok();
}

Result<HfConfig> ReadHfConfigUnchecked(const std::string& path) {
  Result<nlohmann::json> read = ReadJsonFile(path, uint64_t{1} << 20);  // real ones: about 1 KB
  if (!read.ok()) return read.error();
  const nlohmann::json& j = read.value();
  if (!j.is_object()) return Error(Status::kInvalidModel, path + ": not a JSON object");
  const Reader r(j, path);
  HfConfig c;
  if (!j.contains("model_type") || !j["model_type"].is_string()) return r.Bad("has no model_type");
  c.model_type = j["model_type"].get<std::string>();
  if (c.model_type == "gpt2") {
    EF_RETURN_IF_ERROR(r.Uint("n_embd", &c.hidden_size, true));
    EF_RETURN_IF_ERROR(r.Uint("n_layer", &c.num_hidden_layers, true));
    EF_RETURN_IF_ERROR(r.Uint("n_head", &c.num_attention_heads, true));
    EF_RETURN_IF_ERROR(r.Uint("vocab_size", &c.vocab_size, true));
    EF_RETURN_IF_ERROR(r.Uint("n_positions", &c.max_position_embeddings, true));
    if (c.hidden_size % c.num_attention_heads != 0) return r.Bad("n_embd is not a multiple of n_head");
    c.num_key_value_heads = c.num_attention_heads;
    c.head_dim = c.hidden_size / c.num_attention_heads;
    c.intermediate_size = 4 * c.hidden_size;
    EF_RETURN_IF_ERROR(r.Uint("n_inner", &c.intermediate_size, false));
    c.norm_eps = 1e-5f;
    EF_RETURN_IF_ERROR(r.Float("layer_norm_epsilon", &c.norm_eps));
    const std::string act = j.value("activation_function", std::string("gelu_new"));
    if (act != "gelu_new" && act != "gelu_pytorch_tanh") {
      return Error(Status::kUnsupported, path + ": activation_function '" + act +
                                             "' (the tanh approximations gelu_new and gelu_pytorch_tanh are supported)");
    }
    c.tie_word_embeddings = true;
    EF_RETURN_IF_ERROR(r.TokenId("bos_token_id", &c.bos_token_id));
    EF_RETURN_IF_ERROR(r.TokenId("eos_token_id", &c.eos_token_id));
    return c;
  }
  if (c.model_type == "bloom") {
    // BLOOM: n_embed (or hidden_size), n_layer, n_head, ALiBi positions (no maximum: seq_length,
    // else 2048, bounds the context).
    if (j.contains("n_embed")) {
      EF_RETURN_IF_ERROR(r.Uint("n_embed", &c.hidden_size, true));
    } else {
      EF_RETURN_IF_ERROR(r.Uint("hidden_size", &c.hidden_size, true));
    }
    EF_RETURN_IF_ERROR(r.Uint(j.contains("n_layer") ? "n_layer" : "num_hidden_layers", &c.num_hidden_layers, true));
    EF_RETURN_IF_ERROR(r.Uint(j.contains("n_head") ? "n_head" : "num_attention_heads", &c.num_attention_heads, true));
    EF_RETURN_IF_ERROR(r.Uint("vocab_size", &c.vocab_size, true));
    if (c.hidden_size % c.num_attention_heads != 0) return r.Bad("hidden size is not a multiple of the head count");
    c.num_key_value_heads = c.num_attention_heads;
    c.head_dim = c.hidden_size / c.num_attention_heads;
    c.intermediate_size = 4 * c.hidden_size;
    c.max_position_embeddings = 2048;
    EF_RETURN_IF_ERROR(r.Uint("seq_length", &c.max_position_embeddings, false));
    c.norm_eps = 1e-5f;
    EF_RETURN_IF_ERROR(r.Float("layer_norm_epsilon", &c.norm_eps));
    c.tie_word_embeddings = true;
    EF_RETURN_IF_ERROR(r.TokenId("bos_token_id", &c.bos_token_id));
    EF_RETURN_IF_ERROR(r.TokenId("eos_token_id", &c.eos_token_id));
    return c;
  }
  if (c.model_type == "bert") {
    EF_RETURN_IF_ERROR(r.Uint("hidden_size", &c.hidden_size, true));
    EF_RETURN_IF_ERROR(r.Uint("intermediate_size", &c.intermediate_size, true));
    EF_RETURN_IF_ERROR(r.Uint("num_hidden_layers", &c.num_hidden_layers, true));
    EF_RETURN_IF_ERROR(r.Uint("num_attention_heads", &c.num_attention_heads, true));
    EF_RETURN_IF_ERROR(r.Uint("vocab_size", &c.vocab_size, true));
    EF_RETURN_IF_ERROR(r.Uint("max_position_embeddings", &c.max_position_embeddings, true));
    c.type_vocab_size = 2;
    EF_RETURN_IF_ERROR(r.Uint("type_vocab_size", &c.type_vocab_size, false, 0));
    if (c.hidden_size % c.num_attention_heads != 0) return r.Bad("hidden_size is not a multiple of num_attention_heads");
    c.num_key_value_heads = c.num_attention_heads;
    c.head_dim = c.hidden_size / c.num_attention_heads;
    c.norm_eps = 1e-12f;
    EF_RETURN_IF_ERROR(r.Float("layer_norm_eps", &c.norm_eps));
    c.hidden_act = j.value("hidden_act", std::string("gelu"));
    if (c.hidden_act != "gelu" && c.hidden_act != "gelu_new" && c.hidden_act != "gelu_pytorch_tanh" &&
        c.hidden_act != "relu") {
      return Error(Status::kUnsupported, path + ": hidden_act '" + c.hidden_act +
                                             "' (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)");
    }
    if (j.contains("position_embedding_type") && j["position_embedding_type"] != "absolute") {
      return Error(Status::kUnsupported, path + ": position_embedding_type " + j["position_embedding_type"].dump() +
                                             " (supported: absolute)");
    }
    EF_RETURN_IF_ERROR(r.TokenId("pad_token_id", &c.pad_token_id));
    return c;
  }
  if (c.model_type == "bart" || c.model_type == "marian") {
    // The decoder's dimensions (convert_bart.cc reads the encoder's and the rest).
    EF_RETURN_IF_ERROR(r.Uint("d_model", &c.hidden_size, true));
    EF_RETURN_IF_ERROR(r.Uint("decoder_ffn_dim", &c.intermediate_size, true));
    EF_RETURN_IF_ERROR(r.Uint("decoder_layers", &c.num_hidden_layers, true));
    EF_RETURN_IF_ERROR(r.Uint("decoder_attention_heads", &c.num_attention_heads, true));
    EF_RETURN_IF_ERROR(r.Uint("vocab_size", &c.vocab_size, true));
    EF_RETURN_IF_ERROR(r.Uint("decoder_vocab_size", &c.vocab_size, false));
    EF_RETURN_IF_ERROR(r.Uint("max_position_embeddings", &c.max_position_embeddings, true));
    if (c.hidden_size % c.num_attention_heads != 0) return r.Bad("d_model is not a multiple of decoder_attention_heads");
    c.num_key_value_heads = c.num_attention_heads;
    c.head_dim = c.hidden_size / c.num_attention_heads;
    c.norm_eps = 1e-5f;  // torch.nn.LayerNorm's default, which BART and Marian use
    c.tie_word_embeddings = true;
    if (j.contains("tie_word_embeddings")) {
      if (!j["tie_word_embeddings"].is_boolean()) return r.Bad("tie_word_embeddings must be true or false");
      c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
    }
    EF_RETURN_IF_ERROR(r.TokenId("bos_token_id", &c.bos_token_id));
    EF_RETURN_IF_ERROR(r.TokenId("eos_token_id", &c.eos_token_id));
    EF_RETURN_IF_ERROR(r.TokenId("pad_token_id", &c.pad_token_id));
    return c;
  }
  if (c.model_type == "t5") {
    // The decoder's dimensions (convert_t5.cc reads the encoder's layer count and the rest).
    EF_RETURN_IF_ERROR(r.Uint("d_model", &c.hidden_size, true));
    EF_RETURN_IF_ERROR(r.Uint("d_ff", &c.intermediate_size, true));
    EF_RETURN_IF_ERROR(r.Uint("d_kv", &c.head_dim, true));
    EF_RETURN_IF_ERROR(r.Uint("num_heads", &c.num_attention_heads, true));
    EF_RETURN_IF_ERROR(r.Uint("num_layers", &c.num_hidden_layers, true));
    EF_RETURN_IF_ERROR(r.Uint("num_decoder_layers", &c.num_hidden_layers, false));
    EF_RETURN_IF_ERROR(r.Uint("vocab_size", &c.vocab_size, true));
    c.num_key_value_heads = c.num_attention_heads;
    // Relative positions have no maximum: n_positions (512 in T5's configs) bounds the context.
    c.max_position_embeddings = 512;
    EF_RETURN_IF_ERROR(r.Uint("n_positions", &c.max_position_embeddings, false));
    c.norm_eps = 1e-6f;
    EF_RETURN_IF_ERROR(r.Float("layer_norm_epsilon", &c.norm_eps));
    c.tie_word_embeddings = true;
    if (j.contains("tie_word_embeddings")) {
      if (!j["tie_word_embeddings"].is_boolean()) return r.Bad("tie_word_embeddings must be true or false");
      c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
    }
    c.eos_token_id = 1;
    EF_RETURN_IF_ERROR(r.TokenId("eos_token_id", &c.eos_token_id));
    c.pad_token_id = 0;
    EF_RETURN_IF_ERROR(r.TokenId("pad_token_id", &c.pad_token_id));
    return c;
  }
  if (c.model_type != "llama" && c.model_type != "mistral" && c.model_type != "qwen2" && c.model_type != "qwen3" &&
      c.model_type != "phi3" && !c.gemma() && c.model_type != "edgeformer") {
    return Error(Status::kUnsupported, path + ": model_type '" + c.model_type +
                                           "' is not supported (supported: llama, mistral, qwen2, qwen3, phi3, gemma2, "
                                           "gemma3_text, gpt2, bert, bloom, t5, bart, marian, edgeformer)");
  }
  EF_RETURN_IF_ERROR(r.Uint("hidden_size", &c.hidden_size, true));
  EF_RETURN_IF_ERROR(r.Uint("intermediate_size", &c.intermediate_size, true));
  EF_RETURN_IF_ERROR(r.Uint("num_hidden_layers", &c.num_hidden_layers, true));
  EF_RETURN_IF_ERROR(r.Uint("num_attention_heads", &c.num_attention_heads, true));
  c.num_key_value_heads = c.num_attention_heads;
  EF_RETURN_IF_ERROR(r.Uint("num_key_value_heads", &c.num_key_value_heads, false));
  EF_RETURN_IF_ERROR(r.Uint("vocab_size", &c.vocab_size, true));
  EF_RETURN_IF_ERROR(r.Uint("max_position_embeddings", &c.max_position_embeddings, true));
  if (c.hidden_size % c.num_attention_heads != 0 && !j.contains("head_dim")) {
    return r.Bad("hidden_size is not a multiple of num_attention_heads and no head_dim is given");
  }
  c.head_dim = c.hidden_size / c.num_attention_heads;
  EF_RETURN_IF_ERROR(r.Uint("head_dim", &c.head_dim, false));
  EF_RETURN_IF_ERROR(r.Float("rms_norm_eps", &c.norm_eps));
  EF_RETURN_IF_ERROR(r.Float("rope_theta", &c.rope_theta));
  if (j.contains("tie_word_embeddings")) {
    if (!j["tie_word_embeddings"].is_boolean()) return r.Bad("tie_word_embeddings must be true or false");
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  if (c.gemma()) {
    if (j.value("use_bidirectional_attention", false)) {
      return Error(Status::kUnsupported, path + ": use_bidirectional_attention true (an embedding model such as "
                                                "EmbeddingGemma; Gemma's decoder attends causally)");
    }
    // Gemma's GeGLU: hidden_activation (or, in older configs, hidden_act) is the tanh GELU.
    const nlohmann::json act = j.contains("hidden_activation") && !j["hidden_activation"].is_null()
                                   ? j["hidden_activation"]
                                   : j.value("hidden_act", nlohmann::json("gelu_pytorch_tanh"));
    if (act != "gelu_pytorch_tanh" && act != "gelu_new") {
      return Error(Status::kUnsupported,
                   path + ": hidden_activation " + act.dump() + " (supported: gelu_pytorch_tanh, gelu_new)");
    }
    c.query_pre_attn_scalar = static_cast<float>(c.head_dim);
    EF_RETURN_IF_ERROR(r.Float("query_pre_attn_scalar", &c.query_pre_attn_scalar));
    EF_RETURN_IF_ERROR(r.Float("attn_logit_softcapping", &c.attn_logit_softcapping));
    EF_RETURN_IF_ERROR(r.Float("final_logit_softcapping", &c.final_logit_softcapping));
    if (c.model_type == "gemma3_text") {
      c.rope_local_base_freq = 10000.0f;
      EF_RETURN_IF_ERROR(r.Float("rope_local_base_freq", &c.rope_local_base_freq));
    }
    if (j.value("attention_bias", false)) return Error(Status::kUnsupported, path + ": attention_bias true");
    if (j.contains("rope_parameters")) {
      return Error(Status::kUnsupported, path + ": rope_parameters (state rope_theta and rope_local_base_freq)");
    }
  } else if (c.model_type != "edgeformer" && j.contains("hidden_act") && j["hidden_act"] != "silu") {
    return Error(Status::kUnsupported, path + ": hidden_act " + j["hidden_act"].dump() + " (supported: silu)");
  }
  c.rotary_dim = c.head_dim;
  if (j.contains("partial_rotary_factor") && !j["partial_rotary_factor"].is_null()) {
    float factor = 1.0f;
    EF_RETURN_IF_ERROR(r.Float("partial_rotary_factor", &factor));
    if (!(factor > 0.0f && factor <= 1.0f)) return r.Bad("partial_rotary_factor must be in (0, 1]");
    c.rotary_dim = static_cast<uint32_t>(static_cast<float>(c.head_dim) * factor);  // Python's int()
    if (c.rotary_dim == 0 || c.rotary_dim % 2 != 0) return r.Bad("head_dim * partial_rotary_factor must be even and > 0");
  }
  const nlohmann::json scaling = j.contains("rope_scaling") ? j["rope_scaling"] : nlohmann::json();
  const nlohmann::json scaling_type =
      scaling.is_object() ? scaling.value("rope_type", scaling.value("type", nlohmann::json())) : nlohmann::json();
  if (scaling_type == "longrope" || scaling_type == "su") {
    const Reader rs(scaling, path);
    c.rope_longrope = true;
    uint32_t original = 0;
    EF_RETURN_IF_ERROR(r.Uint("original_max_position_embeddings", &original, false));
    EF_RETURN_IF_ERROR(rs.Uint("original_max_position_embeddings", &original, false));
    if (original == 0) return r.Bad("longrope needs original_max_position_embeddings");
    c.rope_original_max_position = original;
    for (const auto& [key, out] : {std::pair<const char*, std::vector<float>*>{"short_factor", &c.rope_short_factors},
                                   {"long_factor", &c.rope_long_factors}}) {
      if (!scaling.contains(key) || !scaling[key].is_array() || scaling[key].size() * 2 != c.rotary_dim) {
        return r.Bad(std::string("rope_scaling.") + key + " must list rotary_dim / 2 numbers");
      }
      for (const auto& v : scaling[key]) {
        if (!v.is_number() || !(v.get<double>() > 0.0) || !std::isfinite(v.get<double>())) {
          return r.Bad(std::string("rope_scaling.") + key + " holds a value that is not a number > 0");
        }
        out->push_back(v.get<float>());
      }
    }
    const double ratio = static_cast<double>(c.max_position_embeddings) / original;
    c.rope_attention_factor = ratio <= 1.0 ? 1.0f : static_cast<float>(std::sqrt(1.0 + std::log(ratio) / std::log(double(original))));
    if (scaling.contains("attention_factor") && !scaling["attention_factor"].is_null()) {
      EF_RETURN_IF_ERROR(rs.Float("attention_factor", &c.rope_attention_factor));
    }
  } else if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    const nlohmann::json& s = j["rope_scaling"];
    const nlohmann::json type = s.is_object() ? s.value("rope_type", s.value("type", nlohmann::json())) : nlohmann::json();
    if (type != "llama3" && type != "linear") {
      return Error(Status::kUnsupported,
                   path + ": rope_scaling " + s.dump() + " (supported: none, linear, llama3, longrope)");
    }
    const Reader rs(s, path);
    if (type == "linear") {
      c.rope_linear_factor = 1.0f;
      EF_RETURN_IF_ERROR(rs.Float("factor", &c.rope_linear_factor));
      if (!(c.rope_linear_factor >= 1.0f)) return r.Bad("rope_scaling: a linear factor must be >= 1");
    } else {
    c.rope_llama3 = true;
    EF_RETURN_IF_ERROR(rs.Float("factor", &c.rope_factor));
    EF_RETURN_IF_ERROR(rs.Float("low_freq_factor", &c.rope_low_freq_factor));
    EF_RETURN_IF_ERROR(rs.Float("high_freq_factor", &c.rope_high_freq_factor));
    EF_RETURN_IF_ERROR(rs.Uint("original_max_position_embeddings", &c.rope_original_max_position, true));
    if (!(c.rope_high_freq_factor > c.rope_low_freq_factor)) {
      return r.Bad("rope_scaling: high_freq_factor must exceed low_freq_factor");
    }
    }
  }
  if (c.model_type == "qwen3" && j.contains("attention_bias")) {
    if (!j["attention_bias"].is_boolean()) return r.Bad("attention_bias must be true or false");
    c.attention_bias = j["attention_bias"].get<bool>();
    if (c.attention_bias) return Error(Status::kUnsupported, path + ": attention_bias true (Qwen3 checkpoints have none)");
  }
  EF_RETURN_IF_ERROR(ReadSlidingWindow(j, r, &c));
  EF_RETURN_IF_ERROR(r.TokenId("bos_token_id", &c.bos_token_id));
  EF_RETURN_IF_ERROR(r.TokenId("eos_token_id", &c.eos_token_id));
  EF_RETURN_IF_ERROR(r.TokenIds("eos_token_id", &c.eos_token_ids));
  return c;
}

}  // namespace

Result<HfConfig> ReadHfConfig(const std::string& path) {
  return GuardJson(path, [&] { return ReadHfConfigUnchecked(path); });
}

Error ReadGenerationEos(const std::string& path, std::vector<int32_t>* ids) {
  if (!PathExists(path)) return Error::Ok();
  return GuardJson(path, [&]() -> Error {
    Result<nlohmann::json> read = ReadJsonFile(path, uint64_t{1} << 20);
    if (!read.ok()) return read.error();
    if (!read.value().is_object()) return Error(Status::kInvalidModel, path + ": not a JSON object");
    return Reader(read.value(), path).TokenIds("eos_token_id", ids);
  });
}

}  // namespace convert
}  // namespace edgeformer
