// GGUF files (llama.cpp's format) to an edgeformer model file. Architecture "llama" with the
// "llama" (SentencePiece-style) or "gpt2" (byte-level BPE: Llama 3, Qwen2 style) tokenizer. GGUF stores q and k in the adjacent-pair rotary layout,
// as edgeformer does, so no permutation is needed. F32, F16 and Q8_0 tensors are read; Q8_0
// (blocks of 32 with an f16 scale) is dequantized and quantized again per output channel, which
// adds a second, smaller rounding.
#include <algorithm>
#include <cstdio>

#include "converter/builder.h"
#include "converter/stack.h"
#include "converter/convert.h"
#include "converter/gguf.h"
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

// The token id stored at `key`, or -1 when absent, not a number, or outside the vocabulary.
int32_t TokenId(const GgufFile& g, const char* key, uint32_t vocab) {
  const GgufValue* v = g.Find(key);
  return v != nullptr && v->type != GgufValue::kString && v->type != GgufValue::kArray && v->number >= 0 &&
                 v->number < vocab
             ? static_cast<int32_t>(v->number)
             : -1;
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
  if (types != nullptr && (types->type != GgufValue::kArray || types->numbers.size() != tokens->texts.size())) {
    return Error(Status::kInvalidModel, g.path() + ": tokenizer.ggml.token_type must have one number per token");
  }
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
  if (types != nullptr && (types->type != GgufValue::kArray || types->numbers.size() != vocab)) {
    return Error(Status::kInvalidModel, g.path() + ": tokenizer.ggml.token_type must have one number per token");
  }
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

}  // namespace

Error ConvertGguf(const ConvertOptions& options) {
  Result<std::unique_ptr<GgufFile>> open = GgufFile::Open(options.checkpoint);
  if (!open.ok()) return open.error();
  const GgufFile& g = *open.value();
  Result<std::string> arch = g.String("general.architecture");
  if (!arch.ok()) return arch.error();
  if (arch.value() != "llama") {
    return Error(Status::kUnsupported, g.path() + ": architecture '" + arch.value() + "' is not supported yet (llama is)");
  }
  if (g.Tensor("rope_freqs.weight") != nullptr || g.Find("llama.rope.scaling.type") != nullptr) {
    return Error(Status::kUnsupported, g.path() + ": rope scaling in GGUF files is not supported yet");
  }
  uint64_t v[6];
  const char* keys[] = {"llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                        "llama.attention.head_count", "llama.context_length", "llama.attention.head_count"};
  for (int i = 0; i < 5; ++i) {
    Result<uint64_t> r = g.Uint(keys[i]);
    if (!r.ok()) return r.error();
    v[i] = r.value();
  }
  v[5] = v[3];
  if (g.Find("llama.attention.head_count_kv") != nullptr) {
    Result<uint64_t> r = g.Uint("llama.attention.head_count_kv");
    if (!r.ok()) return r.error();
    v[5] = r.value();
  }
  const uint64_t dim = v[0], layers = v[1], hidden = v[2], heads = v[3], context = v[4], kv_heads = v[5];
  if (heads == 0 || kv_heads == 0 || dim % heads != 0 || heads % kv_heads != 0 || dim == 0 || layers == 0) {
    return Error(Status::kInvalidModel, g.path() + ": inconsistent head counts or sizes");
  }
  const uint64_t hd = dim / heads;
  Result<double> eps = NumberOr(g, "llama.attention.layer_norm_rms_epsilon", 1e-5);
  Result<double> theta = NumberOr(g, "llama.rope.freq_base", 10000.0);
  Result<double> rot = NumberOr(g, "llama.rope.dimension_count", static_cast<double>(hd));
  if (!eps.ok()) return eps.error();
  if (!theta.ok()) return theta.error();
  if (!rot.ok()) return rot.error();
  if (rot.value() != static_cast<double>(hd)) {
    return Error(Status::kUnsupported, g.path() + ": partial rotary (rope.dimension_count != head size)");
  }
  const GgufTensor* embd = g.Tensor("token_embd.weight");
  if (embd == nullptr || embd->dims.size() != 2 || embd->dims[0] != dim) {
    return Error(Status::kInvalidModel, g.path() + ": token_embd.weight is missing or not [vocab][dim]");
  }
  const uint64_t vocab = embd->dims[1];
  if (vocab > (1u << 24)) return Error(Status::kInvalidModel, g.path() + ": vocabulary too large");

  ModelData model;
  model.producer = "edgeformer-convert (GGUF llama)";
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
  a.activation = schema::Activation::SwiGLU;
  a.position = schema::PositionKind::Rotary;
  a.rope_theta = static_cast<float>(theta.value());
  a.rotary_dim = a.head_dim;
  a.tied_embeddings = g.Tensor("output.weight") == nullptr;
  SetDecoderStack(&a);
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

  const uint64_t q_dim = dim, kv_dim = hd * kv_heads;
  Builder b(&model, options.report);
  const Quant q = options.quant;
  Progress progress(options.progress, 3 + 9 * layers - (a.tied_embeddings ? 1 : 0));
  auto read = [&](const std::string& name, uint64_t rows, uint64_t cols) {
    progress.Next();
    return g.ReadF32(name, rows, cols);
  };
#define EF_READ(var, name, rows, cols)                      \
  Result<std::vector<float>> var##_read = read(name, rows, cols); \
  if (!var##_read.ok()) return var##_read.error();          \
  std::vector<float> var = var##_read.take()
  {
    EF_READ(embed, "token_embd.weight", vocab, dim);
    b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, std::move(embed), vocab, dim, options.embedding_quant);
  }
  for (uint64_t l = 0; l < layers; ++l) {
    const int32_t L = static_cast<int32_t>(l);
    const std::string p = "blk." + std::to_string(l) + ".";
    EF_READ(attn_norm, p + "attn_norm.weight", 1, dim);
    b.Vector("attn_norm", TensorRole::AttnNorm, L, std::move(attn_norm));
    EF_READ(wq, p + "attn_q.weight", q_dim, dim);
    b.Matrix("wq", TensorRole::Wq, L, std::move(wq), q_dim, dim, q);
    EF_READ(wk, p + "attn_k.weight", kv_dim, dim);
    b.Matrix("wk", TensorRole::Wk, L, std::move(wk), kv_dim, dim, q);
    EF_READ(wv, p + "attn_v.weight", kv_dim, dim);
    b.Matrix("wv", TensorRole::Wv, L, std::move(wv), kv_dim, dim, q);
    EF_READ(wo, p + "attn_output.weight", dim, q_dim);
    b.Matrix("wo", TensorRole::Wo, L, std::move(wo), dim, q_dim, q);
    EF_READ(ffn_norm, p + "ffn_norm.weight", 1, dim);
    b.Vector("ffn_norm", TensorRole::FfnNorm, L, std::move(ffn_norm));
    EF_READ(gate, p + "ffn_gate.weight", hidden, dim);
    b.Matrix("w_gate", TensorRole::FfnGate, L, std::move(gate), hidden, dim, q);
    EF_READ(down, p + "ffn_down.weight", dim, hidden);
    b.Matrix("w_down", TensorRole::FfnDown, L, std::move(down), dim, hidden, q);
    EF_READ(up, p + "ffn_up.weight", hidden, dim);
    b.Matrix("w_up", TensorRole::FfnUp, L, std::move(up), hidden, dim, q);
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
