// GGUF files (llama.cpp's format) to an edgeformer model file. Architectures "llama" (Llama,
// Mistral, SmolLM; Llama 3.1's rope_freqs), "qwen2" (q/k/v biases), "qwen3" (q/k norms), "phi3"
// (fused attn_qkv and gate+up in ffn_up, partial rotary, LongRoPE factors), "gemma2" and "gemma3" (sandwich
// norms stored as 1 + w, soft-caps, local and global layers as llama.cpp decides them), with the
// "llama" (SentencePiece-style) or "gpt2" (byte-level BPE: Llama 3, Qwen2 style) tokenizer.
// "llama" files store q and k in the adjacent-pair rotary layout, as edgeformer does; the others
// in halves (NEOX), reordered here. F32, F16 and Q8_0 tensors are read; Q8_0
// (blocks of 32 with an f16 scale) is dequantized and quantized again per output channel, which
// adds a second, smaller rounding.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "converter/builder.h"
#include "converter/stack.h"
#include "converter/convert.h"
#include "converter/gguf.h"
#include "converter/reshape.h"
#include "converter/hf_tokenizer.h"
#include "converter/token_text.h"
#include "converter/writer.h"

namespace edgeformer {
namespace convert {
namespace {

using schema::TensorRole;

// Optional number: the default when the key is absent.
Result<double> NumberOr(const GgufFile& g, const std::string& key, double fallback) {
  return g.Find(key) == nullptr ? Result<double>(fallback) : g.Number(key);
}

// `v` for an error message: %g, so 1e30 and nan print short.
std::string FormatNumber(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}

// The token id stored at `key`, or -1 when absent, not a number, or outside the vocabulary.
int32_t TokenId(const GgufFile& g, const char* key, uint32_t vocab) {
  const GgufValue* v = g.Find(key);
  return v != nullptr && v->type != GgufValue::kString && v->type != GgufValue::kArray && v->number >= 0 &&
                 v->number < vocab
             ? static_cast<int32_t>(v->number)
             : -1;
}

// tokenizer.ggml.token_type, when the file has it: one of llama.cpp's token types (integers 0 to
// 6) per token, all checked before any is used.
Error CheckTokenTypes(const GgufFile& g, const GgufValue* types, size_t n_tokens) {
  if (types == nullptr) return Error::Ok();
  if (types->type != GgufValue::kArray || types->numbers.size() != n_tokens) {
    return Error(Status::kInvalidModel, g.path() + ": tokenizer.ggml.token_type must have one number per token");
  }
  for (size_t i = 0; i < n_tokens; ++i) {
    const double t = types->numbers[i];
    if (!(t >= 0 && t <= 6) || t != std::floor(t)) {
      return Error(Status::kInvalidModel, g.path() + ": tokenizer.ggml.token_type of token " + std::to_string(i) +
                                              " is " + std::to_string(t) + ", not a token type (an integer 0 to 6)");
    }
  }
  return Error::Ok();
}

// GGUF's "gpt2" tokenizer: byte-level BPE with merges, the split named by tokenizer.ggml.pre.
Error FillByteLevelTokenizer(const GgufFile& g, uint32_t vocab, ModelData* model) {
  const GgufValue* tokens = g.Find("tokenizer.ggml.tokens");
  const GgufValue* types = g.Find("tokenizer.ggml.token_type");
  const GgufValue* merges = g.Find("tokenizer.ggml.merges");
  if (tokens == nullptr || tokens->type != GgufValue::kArray || tokens->element_type != GgufValue::kString ||
      tokens->texts.size() > vocab) {
    return Error(Status::kInvalidModel, g.path() + ": tokenizer.ggml.tokens must be at most " + std::to_string(vocab) +
                                            " strings");
  }
  if (merges == nullptr || merges->type != GgufValue::kArray || merges->element_type != GgufValue::kString) {
    return Error(Status::kInvalidModel, g.path() + ": a gpt2 tokenizer needs tokenizer.ggml.merges (strings)");
  }
  EF_RETURN_IF_ERROR(CheckTokenTypes(g, types, tokens->texts.size()));
  const GgufValue* pre_value = g.Find("tokenizer.ggml.pre");
  const std::string pre_name = pre_value != nullptr && pre_value->type == GgufValue::kString ? pre_value->text : "default";
  schema::Pretokenizer pre;
  if (pre_name == "default" || pre_name == "gpt-2" || pre_name == "gpt2") {
    pre = schema::Pretokenizer::GPT2;
  } else if (pre_name == "llama-bpe" || pre_name == "llama3") {
    pre = schema::Pretokenizer::Llama3;
  } else if (pre_name == "qwen2") {
    pre = schema::Pretokenizer::Qwen2;
  } else {
    return Error(Status::kUnsupported, g.path() + ": tokenizer.ggml.pre '" + pre_name +
                                           "' is not supported (default/gpt-2, llama-bpe, qwen2 are)");
  }
  ByteLevelVocab v;
  v.texts.assign(vocab, std::string());
  v.raw.assign(vocab, false);
  v.types.assign(vocab, schema::TokenType::Control);
  for (size_t i = 0; i < tokens->texts.size(); ++i) {
    // llama.cpp's token types: 1 normal, 3 control, 4 user defined (raw text), 5 unused.
    const int type = types != nullptr ? static_cast<int>(types->numbers[i]) : 1;
    v.texts[i] = tokens->texts[i];
    v.raw[i] = type != 1;
    v.types[i] = type == 1 || type == 4 ? schema::TokenType::Normal : schema::TokenType::Control;
  }
  for (const std::string& m : merges->texts) {
    v.merges.emplace_back();
    if (!SplitMerge(m, &v.merges.back())) {
      return Error(Status::kInvalidModel, g.path() + ": merge '" + m + "' is not two tokens");
    }
  }
  schema::TokenizerT& t = model->tokenizer;
  EF_RETURN_IF_ERROR(BuildByteLevelTokenizer(g.path(), v, pre, &t));
  auto id = [&](const char* key) { return TokenId(g, key, vocab); };
  const GgufValue* add_bos = g.Find("tokenizer.ggml.add_bos_token");
  t.bos_id = add_bos != nullptr && add_bos->number != 0 ? id("tokenizer.ggml.bos_token_id") : -1;
  t.eos_id = id("tokenizer.ggml.eos_token_id");
  model->has_tokenizer = true;
  return Error::Ok();
}

Error FillTokenizer(const GgufFile& g, uint32_t vocab, ModelData* model) {
  Result<std::string> kind = g.String("tokenizer.ggml.model");
  if (!kind.ok()) return kind.error();
  if (kind.value() == "gpt2") return FillByteLevelTokenizer(g, vocab, model);
  if (kind.value() != "llama") {
    return Error(Status::kUnsupported, g.path() + ": tokenizer model '" + kind.value() +
                                           "' is not supported (llama and gpt2 are)");
  }
  const GgufValue* tokens = g.Find("tokenizer.ggml.tokens");
  const GgufValue* scores = g.Find("tokenizer.ggml.scores");
  const GgufValue* types = g.Find("tokenizer.ggml.token_type");
  if (tokens == nullptr || tokens->type != GgufValue::kArray || tokens->element_type != GgufValue::kString ||
      tokens->texts.size() != vocab) {
    return Error(Status::kInvalidModel, g.path() + ": tokenizer.ggml.tokens must be " + std::to_string(vocab) +
                                            " strings, one per row of token_embd");
  }
  if (scores != nullptr && (scores->type != GgufValue::kArray || scores->numbers.size() != vocab)) {
    return Error(Status::kInvalidModel, g.path() + ": tokenizer.ggml.scores must have one number per token");
  }
  EF_RETURN_IF_ERROR(CheckTokenTypes(g, types, vocab));
  schema::TokenizerT& t = model->tokenizer;
  t.kind = schema::TokenizerKind::ScoredBPE;
  auto id = [&](const char* key) { return TokenId(g, key, vocab); };
  t.bos_id = id("tokenizer.ggml.bos_token_id");
  t.eos_id = id("tokenizer.ggml.eos_token_id");
  t.unk_id = id("tokenizer.ggml.unknown_token_id");
  const GgufValue* prefix = g.Find("tokenizer.ggml.add_space_prefix");
  t.add_dummy_prefix = prefix == nullptr || prefix->number != 0;
  t.strip_space_after_bos = t.add_dummy_prefix;
  t.piece_offsets.push_back(0);
  for (uint32_t i = 0; i < vocab; ++i) {
    const std::string piece = SpaceMarksToSpaces(tokens->texts[i]);
    // llama.cpp's token types: 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte.
    const int type = types != nullptr ? static_cast<int>(types->numbers[i]) : 1;
    schema::TokenType tt = schema::TokenType::Normal;
    uint8_t byte_value = 0;
    if (type == 2) {
      tt = schema::TokenType::Unknown;
    } else if (type == 3 || type == 5) {
      tt = schema::TokenType::Control;
    } else if (type == 6) {
      if (!ParseByteToken(piece, &byte_value)) {
        return Error(Status::kInvalidModel, g.path() + ": byte token " + std::to_string(i) + " is not <0xHH>");
      }
      tt = schema::TokenType::Byte;
    }
    t.piece_data.insert(t.piece_data.end(), piece.begin(), piece.end());
    t.piece_offsets.push_back(static_cast<uint32_t>(t.piece_data.size()));
    t.scores.push_back(scores != nullptr ? static_cast<float>(scores->numbers[i]) : 0.0f);
    t.types.push_back(tt);
    t.byte_values.push_back(byte_value);
  }
  model->has_tokenizer = true;
  return Error::Ok();
}

// Per-frequency rotary factors: frequency i divided by factor i. Llama 3.1's rope_freqs (its
// "llama3" scaling, precomputed) or Phi-3's LongRoPE (rope_factors_short and _long, the long ones
// for a context past the original, cos and sin scaled by the attention factor). Both become
// RopeScaling.LongRoPE; rope_freqs with the same factors either way and no attention factor.
Error ReadRopeFactors(const GgufFile& g, const std::string& k, uint64_t rd, uint64_t context,
                      schema::ArchitectureT* a) {
  const bool freqs = g.Tensor("rope_freqs.weight") != nullptr;
  const bool longrope = g.Tensor("rope_factors_long.weight") != nullptr || g.Tensor("rope_factors_short.weight") != nullptr;
  if (!freqs && !longrope) return Error::Ok();
  if (freqs && longrope) return Error(Status::kInvalidModel, g.path() + ": both rope_freqs and rope_factors");
  auto factors = [&](const char* name, std::vector<float>* out) -> Error {
    Result<std::vector<float>> read = g.ReadF32(name, 1, rd / 2);
    if (!read.ok()) return read.error();
    for (float f : read.value()) {
      if (!(f > 0.0f) || !std::isfinite(f)) return Error(Status::kInvalidModel, g.path() + ": " + name + " holds a value that is not > 0");
    }
    *out = read.take();
    return Error::Ok();
  };
  a->rope_scaling = schema::RopeScaling::LongRoPE;
  if (freqs) {
    EF_RETURN_IF_ERROR(factors("rope_freqs.weight", &a->rope_short_factors));
    a->rope_long_factors = a->rope_short_factors;
    a->rope_attention_factor = 1.0f;
    a->rope_original_max_seq_len = static_cast<uint32_t>(context);
    return Error::Ok();
  }
  EF_RETURN_IF_ERROR(factors("rope_factors_short.weight", &a->rope_short_factors));
  EF_RETURN_IF_ERROR(factors("rope_factors_long.weight", &a->rope_long_factors));
  Result<uint64_t> original = g.Uint(k + "rope.scaling.original_context_length");
  if (!original.ok()) return original.error();
  if (original.value() == 0 || original.value() > context) {
    return Error(Status::kInvalidModel, g.path() + ": rope.scaling.original_context_length must be in [1, context]");
  }
  a->rope_original_max_seq_len = static_cast<uint32_t>(original.value());
  // Hugging Face's default when the file states none: sqrt(1 + ln(context / original) / ln(original)).
  const double ratio = static_cast<double>(context) / static_cast<double>(original.value());
  const double fallback =
      ratio <= 1.0 ? 1.0 : std::sqrt(1.0 + std::log(ratio) / std::log(static_cast<double>(original.value())));
  Result<double> attn = NumberOr(g, k + "rope.scaling.attn_factor", fallback);
  if (!attn.ok()) return attn.error();
  if (!(attn.value() > 0.0) || !std::isfinite(attn.value())) {
    return Error(Status::kInvalidModel, g.path() + ": rope.scaling.attn_factor must be > 0");
  }
  a->rope_attention_factor = static_cast<float>(attn.value());
  return Error::Ok();
}

}  // namespace

Error ConvertGguf(const ConvertOptions& options) {
  Result<std::unique_ptr<GgufFile>> open = GgufFile::Open(options.checkpoint);
  if (!open.ok()) return open.error();
  const GgufFile& g = *open.value();
  Result<std::string> arch_read = g.String("general.architecture");
  if (!arch_read.ok()) return arch_read.error();
  const std::string arch = arch_read.value();
  const bool qwen2 = arch == "qwen2", qwen3 = arch == "qwen3", gemma2 = arch == "gemma2", gemma3 = arch == "gemma3";
  const bool gemma = gemma2 || gemma3, phi3 = arch == "phi3";
  if (arch != "llama" && !qwen2 && !qwen3 && !gemma && !phi3) {
    return Error(Status::kUnsupported, g.path() + ": architecture '" + arch +
                                           "' is not supported yet (llama, qwen2, qwen3, phi3, gemma2 and gemma3 are)");
  }
  const std::string k = arch + ".";  // the architecture's keys
  float linear_factor = 0.0f;
  if (const GgufValue* scaling = g.Find(k + "rope.scaling.type")) {
    const std::string type = scaling->type == GgufValue::kString ? scaling->text : "?";
    if (type == "linear") {
      Result<double> factor = NumberOr(g, k + "rope.scaling.factor", 1.0);
      if (!factor.ok()) return factor.error();
      if (!(factor.value() >= 1.0 && factor.value() <= 1e6)) {
        return Error(Status::kInvalidModel, g.path() + ": rope.scaling.factor must be in [1, 1e6]");
      }
      linear_factor = static_cast<float>(factor.value());
    } else if (type != "none") {
      return Error(Status::kUnsupported, g.path() + ": rope scaling '" + type + "' is not supported yet (linear is)");
    }
  }
  uint64_t v[6];
  const std::string keys[] = {k + "embedding_length", k + "block_count", k + "feed_forward_length",
                              k + "attention.head_count", k + "context_length"};
  for (int i = 0; i < 5; ++i) {
    Result<uint64_t> r = g.Uint(keys[i]);
    if (!r.ok()) return r.error();
    v[i] = r.value();
  }
  v[5] = v[3];
  if (g.Find(k + "attention.head_count_kv") != nullptr) {
    Result<uint64_t> r = g.Uint(k + "attention.head_count_kv");
    if (!r.ok()) return r.error();
    v[5] = r.value();
  }
  const uint64_t dim = v[0], layers = v[1], hidden = v[2], heads = v[3], context = v[4], kv_heads = v[5];
  if (heads == 0 || kv_heads == 0 || heads % kv_heads != 0 || dim == 0 || layers == 0 || layers > 1024 ||
      (dim % heads != 0 && g.Find(k + "attention.key_length") == nullptr)) {
    return Error(Status::kInvalidModel, g.path() + ": inconsistent head counts or sizes");
  }
  Result<double> key_length = NumberOr(g, k + "attention.key_length", static_cast<double>(dim / heads));
  if (!key_length.ok()) return key_length.error();
  // Range and integrality are checked on the double (NaN fails them) before it is cast.
  const double kl = key_length.value();
  if (!(kl >= 2.0 && kl <= 65536.0) || kl != std::floor(kl) || static_cast<uint64_t>(kl) % 2 != 0) {
    return Error(Status::kInvalidModel,
                 g.path() + ": attention.key_length must be an even head size in [2, 65536], not " + FormatNumber(kl));
  }
  const uint64_t hd = static_cast<uint64_t>(kl);
  Result<double> eps = NumberOr(g, k + "attention.layer_norm_rms_epsilon", 1e-5);
  Result<double> theta = NumberOr(g, k + "rope.freq_base", 10000.0);
  Result<double> rot = NumberOr(g, k + "rope.dimension_count", static_cast<double>(hd));
  Result<double> window = NumberOr(g, k + "attention.sliding_window", 0.0);
  Result<double> attn_cap = NumberOr(g, k + "attn_logit_softcapping", 0.0);
  Result<double> final_cap = NumberOr(g, k + "final_logit_softcapping", 0.0);
  // llama.cpp's Gemma rules where the file is silent: local layers every layer but each 2nd
  // (Gemma 2) or 6th (Gemma 3), Gemma 3's local rotary base 10000.
  Result<double> pattern = NumberOr(g, k + "attention.sliding_window_pattern", gemma2 ? 2.0 : 6.0);
  Result<double> local_theta = NumberOr(g, k + "rope.freq_base_swa", 10000.0);
  for (const Result<double>* r : {&eps, &theta, &rot, &window, &attn_cap, &final_cap, &pattern, &local_theta}) {
    if (!r->ok()) return r->error();
  }
  const double rot_dims = rot.value();  // checked like key_length before the cast
  if (!(rot_dims >= 2.0 && rot_dims <= static_cast<double>(hd)) || rot_dims != std::floor(rot_dims) ||
      static_cast<uint64_t>(rot_dims) % 2 != 0) {
    return Error(Status::kInvalidModel, g.path() + ": rope.dimension_count must be even and at most the head size (" +
                                            std::to_string(hd) + "), not " + FormatNumber(rot_dims));
  }
  const uint64_t rd = static_cast<uint64_t>(rot_dims);
  if (rd != hd && arch == "llama") {
    return Error(Status::kUnsupported, g.path() + ": partial rotary in a llama file (rope.dimension_count != head size)");
  }
  if (!(window.value() >= 0.0 && window.value() <= 16777216.0) || !(pattern.value() >= 1.0 && pattern.value() <= 1024.0)) {
    return Error(Status::kInvalidModel, g.path() + ": attention.sliding_window or its pattern is out of range");
  }
  const GgufTensor* embd = g.Tensor("token_embd.weight");
  if (embd == nullptr || embd->dims.size() != 2 || embd->dims[0] != dim) {
    return Error(Status::kInvalidModel, g.path() + ": token_embd.weight is missing or not [vocab][dim]");
  }
  const uint64_t vocab = embd->dims[1];
  if (vocab > (1u << 24)) return Error(Status::kInvalidModel, g.path() + ": vocabulary too large");

  ModelData model;
  model.producer = "edgeformer-convert (GGUF " + arch + ")";
  schema::ArchitectureT& a = model.architecture;
  a.family = schema::ModelFamily::DecoderOnly;
  a.n_layers = static_cast<uint32_t>(layers);
  a.dim = static_cast<uint32_t>(dim);
  a.hidden_dim = static_cast<uint32_t>(hidden);
  a.n_heads = static_cast<uint32_t>(heads);
  a.n_kv_heads = static_cast<uint32_t>(kv_heads);
  a.head_dim = static_cast<uint32_t>(hd);
  a.vocab_size = static_cast<uint32_t>(vocab);
  a.max_seq_len = static_cast<uint32_t>(context);
  a.norm = schema::NormKind::RMSNorm;
  a.norm_eps = static_cast<float>(eps.value());
  a.activation = gemma ? schema::Activation::GeGLUTanh : schema::Activation::SwiGLU;
  a.position = schema::PositionKind::Rotary;
  a.rope_theta = static_cast<float>(theta.value());
  a.rotary_dim = static_cast<uint32_t>(rd);
  EF_RETURN_IF_ERROR(ReadRopeFactors(g, k, rd, context, &a));
  if (linear_factor > 0.0f) {
    a.rope_scaling = schema::RopeScaling::Linear;
    a.rope_scaling_factor = linear_factor;
  }
  a.tied_embeddings = g.Tensor("output.weight") == nullptr;
  a.attention_bias = qwen2;
  SetDecoderStack(&a);
  a.stack->layers[0]->qk_norm = qwen3 || gemma3;
  if (phi3 && window.value() > 0.0 && window.value() < static_cast<double>(context)) {
    // Phi-3's window covers every layer, as its Hugging Face modelling runs it (llama.cpp leaves
    // it off).
    a.stack->layers[0]->sliding_window = static_cast<uint32_t>(window.value());
  }
  if (gemma) {
    // Gemma as llama.cpp runs it: the file's norms already hold 1 + w; queries scaled by
    // 1/sqrt(head size), or 1/sqrt(dim / heads) for the 27B models (46 and 62 layers), which
    // is what their query_pre_attn_scalar says.
    schema::StackSpecT& st = *a.stack;
    st.layers[0]->norm_placement = schema::NormPlacement::Sandwich;
    st.embedding_scale = std::sqrt(static_cast<float>(dim));
    const bool big = (gemma2 && layers == 46) || (gemma3 && layers == 62);
    st.attention_scale = 1.0f / std::sqrt(static_cast<float>(big ? dim / heads : hd));
    st.attention_softcap = static_cast<float>(attn_cap.value());
    st.logit_softcap = static_cast<float>(final_cap.value());
    const uint32_t w = static_cast<uint32_t>(window.value()), n = static_cast<uint32_t>(pattern.value());
    if (w > 0) {
      const schema::LayerSpecT base = *st.layers[0];
      st.layers.clear();
      for (uint32_t l = 0; l < a.n_layers; ++l) {
        auto layer = std::make_unique<schema::LayerSpecT>(base);
        if (l % n < n - 1) {  // llama.cpp's set_swa_pattern
          layer->sliding_window = w < a.max_seq_len ? w : 0;
          layer->rope_theta = gemma3 ? static_cast<float>(local_theta.value()) : 0.0f;
        }
        st.layers.push_back(std::move(layer));
      }
    }
  }
  if (options.tokenizer_from_checkpoint) {
    EF_RETURN_IF_ERROR(FillTokenizer(g, a.vocab_size, &model));
    const GgufValue* chat = g.Find("tokenizer.chat_template");
    if (chat != nullptr && chat->type == GgufValue::kString) {
      if (chat->text.size() > kMaxChatTemplateBytes) {
        return Error(Status::kInvalidModel, g.path() + ": tokenizer.chat_template is longer than 1 MiB");
      }
      model.tokenizer.chat_template = chat->text;
    }
    // The template's bos_token and eos_token: the texts of the ids GGUF names.
    const GgufValue* tokens = g.Find("tokenizer.ggml.tokens");
    for (const auto& [key, target] : {std::pair<const char*, std::string*>{"tokenizer.ggml.bos_token_id", &model.tokenizer.chat_bos_token},
                                      {"tokenizer.ggml.eos_token_id", &model.tokenizer.chat_eos_token}}) {
      const GgufValue* id = g.Find(key);
      if (id != nullptr && tokens != nullptr && id->type != GgufValue::kString && id->number >= 0 &&
          id->number < static_cast<double>(tokens->texts.size())) {
        *target = tokens->texts[static_cast<size_t>(id->number)];
      }
    }
    a.bos_id = model.tokenizer.bos_id;
    a.eos_id = model.tokenizer.eos_id;
    // llama.cpp's end-of-turn and end-of-message ids also end generation.
    for (const char* key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
      const int32_t end = TokenId(g, key, a.vocab_size);
      if (end >= 0 && end != a.eos_id && std::find(a.end_ids.begin(), a.end_ids.end(), end) == a.end_ids.end()) {
        a.end_ids.push_back(end);
      }
    }
  } else {
    model.has_tokenizer = false;
  }

  // llama.cpp stores q and k of "llama" models in edgeformer's adjacent-pair layout; the others
  // (NEOX rotary) in halves, which are reordered here as for Hugging Face checkpoints.
  const bool halves = arch != "llama";
  const uint64_t q_dim = hd * heads, kv_dim = hd * kv_heads;
  auto pairs = [&](std::vector<float> w, uint64_t n_heads, uint64_t cols) {
    return halves ? HalvesToPairs(w, n_heads, hd, rd, cols) : w;
  };
  Builder b(&model, options);
  const Quant q = options.quant;
  const uint64_t per_layer =
      (phi3 ? 6 : 9) + (qwen2 ? 3 : 0) + (a.stack->layers[0]->qk_norm ? 2 : 0) + (gemma ? 2 : 0);
  Progress progress(options.progress, 3 + per_layer * layers - (a.tied_embeddings ? 1 : 0));
  // Reads a tensor as f32; a quantized one is named on the report lines of what is made of it.
  auto read = [&](const std::string& name, uint64_t rows, uint64_t cols) {
    progress.Next();
    const std::string type = g.TypeName(name);
    b.SetSource(type == "F32" || type == "F16" || type == "BF16" ? "" : type);
    return g.ReadF32(name, rows, cols);
  };
#define EF_READ(var, name, rows, cols)                      \
  Result<std::vector<float>> var##_read = read(name, rows, cols); \
  if (!var##_read.ok()) return var##_read.error();          \
  std::vector<float> var = var##_read.take()
  // A layer matrix: Q4_0 kept exactly (values and scales as the file has them, rows reordered like
  // q's and k's when `heads` > 0) when int4 in groups of 32 is asked for; else read as f32 and
  // quantized as asked.
  auto layer_matrix = [&](const std::string& file_name, const char* name, TensorRole role, int32_t layer,
                          uint64_t rows, uint64_t cols, uint64_t n_heads) -> Error {
    if (q == Quant::kInt4 && options.group_size == 32) {
      std::vector<int8_t> values;
      std::vector<uint16_t> scales;
      Result<bool> exact = g.ReadQ4_0(file_name, rows, cols, &values, &scales);
      if (!exact.ok()) return exact.error();
      if (exact.value()) {
        progress.Next();
        if (n_heads > 0 && halves) {
          values = HalvesToPairs(values, n_heads, hd, rd, cols);
          scales = HalvesToPairs(scales, n_heads, hd, rd, cols / 32);
        }
        b.SetSource("Q4_0, kept");
        b.Int4Matrix(name, role, layer, values, scales, rows, cols);
        return Error::Ok();
      }
    }
    Result<std::vector<float>> w = read(file_name, rows, cols);
    if (!w.ok()) return w.error();
    b.Matrix(name, role, layer, n_heads > 0 ? pairs(w.take(), n_heads, cols) : w.take(), rows, cols, q);
    return Error::Ok();
  };
  {
    EF_READ(embed, "token_embd.weight", vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(embed), vocab, dim, options.embedding_quant);
  }
  for (uint64_t l = 0; l < layers; ++l) {
    const int32_t L = static_cast<int32_t>(l);
    const std::string p = "blk." + std::to_string(l) + ".";
    EF_READ(attn_norm, p + "attn_norm.weight", 1, dim);
    b.Vector("attn_norm", TensorRole::AttnNorm, L, std::move(attn_norm));
    if (phi3) {  // attn_qkv: rows q, then k, then v
      EF_READ(qkv, p + "attn_qkv.weight", q_dim + 2 * kv_dim, dim);
      b.Matrix("wq", TensorRole::Wq, L, pairs(Rows(qkv, 0, q_dim, dim), heads, dim), q_dim, dim, q);
      b.Matrix("wk", TensorRole::Wk, L, pairs(Rows(qkv, q_dim, kv_dim, dim), kv_heads, dim), kv_dim, dim, q);
      b.Matrix("wv", TensorRole::Wv, L, Rows(qkv, q_dim + kv_dim, kv_dim, dim), kv_dim, dim, q);
    } else {
      EF_RETURN_IF_ERROR(layer_matrix(p + "attn_q.weight", "wq", TensorRole::Wq, L, q_dim, dim, heads));
      EF_RETURN_IF_ERROR(layer_matrix(p + "attn_k.weight", "wk", TensorRole::Wk, L, kv_dim, dim, kv_heads));
      EF_RETURN_IF_ERROR(layer_matrix(p + "attn_v.weight", "wv", TensorRole::Wv, L, kv_dim, dim, 0));
    }
    if (qwen2) {
      EF_READ(bq, p + "attn_q.bias", 1, q_dim);
      b.Vector("bq", TensorRole::Bq, L, pairs(std::move(bq), heads, 1));
      EF_READ(bk, p + "attn_k.bias", 1, kv_dim);
      b.Vector("bk", TensorRole::Bk, L, pairs(std::move(bk), kv_heads, 1));
      EF_READ(bv, p + "attn_v.bias", 1, kv_dim);
      b.Vector("bv", TensorRole::Bv, L, std::move(bv));
    }
    if (a.stack->layers[0]->qk_norm) {
      EF_READ(q_norm, p + "attn_q_norm.weight", 1, hd);
      b.Vector("q_norm", TensorRole::AttnQNorm, L, pairs(std::move(q_norm), 1, 1));
      EF_READ(k_norm, p + "attn_k_norm.weight", 1, hd);
      b.Vector("k_norm", TensorRole::AttnKNorm, L, pairs(std::move(k_norm), 1, 1));
    }
    EF_RETURN_IF_ERROR(layer_matrix(p + "attn_output.weight", "wo", TensorRole::Wo, L, dim, q_dim, 0));
    if (gemma) {
      EF_READ(post_attn_norm, p + "post_attention_norm.weight", 1, dim);
      b.Vector("post_attn_norm", TensorRole::PostAttnNorm, L, std::move(post_attn_norm));
      EF_READ(post_ffn_norm, p + "post_ffw_norm.weight", 1, dim);
      b.Vector("post_ffn_norm", TensorRole::PostFfnNorm, L, std::move(post_ffn_norm));
    }
    EF_READ(ffn_norm, p + "ffn_norm.weight", 1, dim);
    b.Vector("ffn_norm", TensorRole::FfnNorm, L, std::move(ffn_norm));
    if (phi3) {  // ffn_up: the gate's rows, then the up projection's
      EF_READ(gate_up, p + "ffn_up.weight", 2 * hidden, dim);
      b.Matrix("w_gate", TensorRole::FfnGate, L, Rows(gate_up, 0, hidden, dim), hidden, dim, q);
      b.Matrix("w_up", TensorRole::FfnUp, L, Rows(gate_up, hidden, hidden, dim), hidden, dim, q);
    } else {
      EF_RETURN_IF_ERROR(layer_matrix(p + "ffn_gate.weight", "w_gate", TensorRole::FfnGate, L, hidden, dim, 0));
      EF_RETURN_IF_ERROR(layer_matrix(p + "ffn_up.weight", "w_up", TensorRole::FfnUp, L, hidden, dim, 0));
    }
    EF_RETURN_IF_ERROR(layer_matrix(p + "ffn_down.weight", "w_down", TensorRole::FfnDown, L, dim, hidden, 0));
  }
  {
    EF_READ(norm, "output_norm.weight", 1, dim);
    b.Vector("final_norm", TensorRole::FinalNorm, -1, std::move(norm));
  }
  if (!a.tied_embeddings) {
    EF_READ(head, "output.weight", vocab, dim);
    b.Matrix("classifier", TensorRole::Classifier, -1, std::move(head), vocab, dim, options.embedding_quant);
  }
#undef EF_READ
  EF_RETURN_IF_ERROR(b.status());
  progress.Done(options.output);
  return WriteModelFile(model, options.output);
}

}  // namespace convert
}  // namespace edgeformer
