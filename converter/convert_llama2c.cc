#include <cinttypes>
#include <cmath>
#include <cstring>

#include "converter/builder.h"
#include "converter/stack.h"
#include "converter/convert.h"
#include "converter/llama2c.h"
#include "converter/token_text.h"
#include "converter/writer.h"

namespace edgeformer {
namespace convert {
namespace {

using schema::TensorRole;

// llama2.c's tokenizer.bin keeps SentencePiece's byte tokens as "<0xHH>" text and marks
// BOS/EOS only by position (ids 1 and 2); here they get explicit types.
void FillTokenizer(const std::vector<Llama2cToken>& tokens, schema::TokenizerT* t) {
  t->kind = schema::TokenizerKind::ScoredBPE;
  t->bos_id = tokens.size() > 1 ? 1 : -1;
  t->eos_id = tokens.size() > 2 ? 2 : -1;
  t->unk_id = tokens.size() > 0 ? 0 : -1;
  t->add_dummy_prefix = true;
  t->strip_space_after_bos = true;
  t->piece_offsets.push_back(0);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& piece = tokens[i].piece;
    schema::TokenType type = schema::TokenType::Normal;
    uint8_t byte_value = 0;
    if (static_cast<int32_t>(i) == t->bos_id || static_cast<int32_t>(i) == t->eos_id) {
      type = schema::TokenType::Control;
    } else if (static_cast<int32_t>(i) == t->unk_id) {
      type = schema::TokenType::Unknown;
    } else if (ParseByteToken(piece, &byte_value)) {
      type = schema::TokenType::Byte;
    }
    t->piece_data.insert(t->piece_data.end(), piece.begin(), piece.end());
    t->piece_offsets.push_back(static_cast<uint32_t>(t->piece_data.size()));
    t->scores.push_back(tokens[i].score);
    t->types.push_back(type);
    t->byte_values.push_back(byte_value);
  }
}

}  // namespace

Error ConvertLlama2c(const ConvertOptions& options) {
  Result<Llama2cCheckpoint> read = ReadLlama2cCheckpoint(options.checkpoint);
  if (!read.ok()) return read.error();
  const Llama2cCheckpoint& ck = read.value();
  const Llama2cConfig& c = ck.config;
  std::vector<Llama2cToken> tokens;
  if (!options.tokenizer.empty()) {
    Result<std::vector<Llama2cToken>> read_tokens = ReadLlama2cTokenizer(options.tokenizer, c.vocab_size);
    if (!read_tokens.ok()) return read_tokens.error();
    tokens = read_tokens.take();
  }

  ModelData model;
  model.producer = "edgeformer-convert (llama2.c checkpoint)";
  schema::ArchitectureT& a = model.architecture;
  a.family = schema::ModelFamily::DecoderOnly;
  a.n_layers = c.n_layers;
  a.dim = c.dim;
  a.hidden_dim = c.hidden_dim;
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = c.dim / c.n_heads;
  a.vocab_size = c.vocab_size;
  a.max_seq_len = c.seq_len;
  a.norm = schema::NormKind::RMSNorm;
  a.norm_eps = 1e-5f;
  a.activation = schema::Activation::SwiGLU;
  a.position = schema::PositionKind::Rotary;
  a.rope_theta = 10000.0f;
  a.rotary_dim = a.head_dim;
  a.tied_embeddings = c.shared_classifier;
  SetDecoderStack(&a);
  // llama2.c's convention: 1 is BOS and 2 is EOS, with or without a tokenizer file.
  a.bos_id = c.vocab_size > 1 ? 1 : -1;
  a.eos_id = c.vocab_size > 2 ? 2 : -1;
  model.has_tokenizer = !tokens.empty();
  if (model.has_tokenizer) FillTokenizer(tokens, &model.tokenizer);

  const uint64_t dim = c.dim, hidden = c.hidden_dim, head = a.head_dim;
  const uint64_t q_dim = head * c.n_heads, kv_dim = head * c.n_kv_heads;
  Builder b(&model, options);
  b.SetSourceFile(ck.file.get());
  const Quant q = options.quant;
  b.Matrix("token_embedding", TensorRole::TokenEmbedding, -1, ck.token_embedding, c.vocab_size, dim,
           options.embedding_quant);
  for (int32_t l = 0; l < c.n_layers; ++l) {
    const uint64_t L = static_cast<uint64_t>(l);
    b.Vector("attn_norm", TensorRole::AttnNorm, l, ck.rms_att + L * dim, dim);
    b.Matrix("wq", TensorRole::Wq, l, ck.wq + L * q_dim * dim, q_dim, dim, q);
    b.Matrix("wk", TensorRole::Wk, l, ck.wk + L * kv_dim * dim, kv_dim, dim, q);
    b.Matrix("wv", TensorRole::Wv, l, ck.wv + L * kv_dim * dim, kv_dim, dim, q);
    b.Matrix("wo", TensorRole::Wo, l, ck.wo + L * dim * q_dim, dim, q_dim, q);
    b.Vector("ffn_norm", TensorRole::FfnNorm, l, ck.rms_ffn + L * dim, dim);
    b.Matrix("w_gate", TensorRole::FfnGate, l, ck.w1 + L * hidden * dim, hidden, dim, q);
    b.Matrix("w_down", TensorRole::FfnDown, l, ck.w2 + L * dim * hidden, dim, hidden, q);
    b.Matrix("w_up", TensorRole::FfnUp, l, ck.w3 + L * hidden * dim, hidden, dim, q);
  }
  b.Vector("final_norm", TensorRole::FinalNorm, -1, ck.rms_final, dim);
  if (!c.shared_classifier) b.Matrix("classifier", TensorRole::Classifier, -1, ck.classifier, c.vocab_size, dim, options.embedding_quant);
  EF_RETURN_IF_ERROR(b.status());
  return WriteModelFile(model, options.output);
}

}  // namespace convert
}  // namespace edgeformer
