// The one table of tensor roles (gemma.cpp's ForEachTensor): for each role of schemas/model.fbs,
// whether it belongs to the model or to each layer, where a Model keeps it, whether activations
// are multiplied by it (so it may be int8 or f16), the shape the config implies, and whether the
// config needs it, allows it or forbids it. The loader, the converters' final check, the XNNPACK
// set-up and the bench's description all iterate this table; nothing else lists roles.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/config.h"
#include "model/weights.h"
#include "model_generated.h"

namespace edgeformer {

enum class Need { kAbsent, kOptional, kRequired };

// rows == 0 means a 1-D vector of `cols` values.
struct ExpectedShape {
  uint64_t rows, cols;
};

struct TensorRoleInfo {
  schema::TensorRole role;
  const char* name;                  // short name: messages, converters' tensor names
  bool per_layer;                    // layer >= 0 in the file; else layer -1
  Weight GlobalWeights::*global;     // where the Model keeps it (per_layer false)
  Weight LayerWeights::*layer;       // (per_layer true)
  bool matrix;                       // multiplied by activations: f32, f16 or int8 (Blocked16x4)
  ExpectedShape (*shape)(const ModelConfig& c);
  Need (*need)(const ModelConfig& c, const LayerConfig* l);  // l: the layer's config, or null
};

namespace roles {

inline Need If(bool needed) { return needed ? Need::kRequired : Need::kAbsent; }
inline bool Ln(NormKind k) { return k == NormKind::kLayerNorm; }

// The table. Order: the model's tensors, then a layer's, in the order of the forward pass. An
// encoder-decoder's two stacks each follow it with their own config (the encoder's has no head
// and no cross-attention).
inline const TensorRoleInfo* Table(size_t* count) {
  using R = schema::TensorRole;
  using C = const ModelConfig&;
  using L = const LayerConfig*;
  static const TensorRoleInfo kTable[] = {
      {R::TokenEmbedding, "token_embedding", false, &GlobalWeights::token_embedding, nullptr, true,
       [](C c) { return ExpectedShape{c.vocab_size, c.dim}; }, [](C c, L) { return If(!c.shared_embedding); }},
      {R::PositionEmbedding, "position_embedding", false, &GlobalWeights::position_embedding, nullptr, false,
       [](C c) { return ExpectedShape{c.max_seq_len, c.dim}; },
       [](C c, L) { return If(c.embedding_positions == PositionKind::kLearned); }},
      {R::TokenTypeEmbedding, "token_type_embedding", false, &GlobalWeights::token_type_embedding, nullptr, false,
       [](C c) { return ExpectedShape{c.token_types, c.dim}; }, [](C c, L) { return If(c.token_types > 0); }},
      {R::EmbedNorm, "embed_norm", false, &GlobalWeights::embed_norm, nullptr, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C c, L) { return If(c.embedding_norm); }},
      {R::EmbedNormBias, "embed_norm_bias", false, &GlobalWeights::embed_norm_bias, nullptr, false,
       [](C c) { return ExpectedShape{0, c.dim}; },
       [](C c, L) { return If(c.embedding_norm && Ln(c.embedding_norm_kind)); }},
      {R::RelativeBias, "relative_bias", false, &GlobalWeights::relative_bias, nullptr, false,
       [](C c) { return ExpectedShape{c.relative.buckets, c.n_heads}; },
       [](C c, L) {
         return If(c.relative.shared &&
                   c.AnyLayer([](const LayerConfig& l) { return l.position == PositionKind::kT5Relative; }));
       }},
      {R::FinalNorm, "final_norm", false, &GlobalWeights::final_norm, nullptr, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C c, L) { return If(c.final_norm); }},
      {R::FinalNormBias, "final_norm_bias", false, &GlobalWeights::final_norm_bias, nullptr, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C c, L) { return If(c.final_norm && Ln(c.final_norm_kind)); }},
      {R::PoolerDense, "pooler_dense", false, &GlobalWeights::pooler_dense, nullptr, true,
       [](C c) { return ExpectedShape{c.dim, c.dim}; }, [](C c, L) { return If(c.pooler); }},
      {R::PoolerBias, "pooler_bias", false, &GlobalWeights::pooler_bias, nullptr, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C c, L) { return If(c.pooler); }},
      {R::MlmDense, "mlm_dense", false, &GlobalWeights::mlm_dense, nullptr, true,
       [](C c) { return ExpectedShape{c.dim, c.dim}; }, [](C c, L) { return If(c.mlm_head); }},
      {R::MlmDenseBias, "mlm_dense_bias", false, &GlobalWeights::mlm_dense_bias, nullptr, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C c, L) { return If(c.mlm_head); }},
      {R::MlmNorm, "mlm_norm", false, &GlobalWeights::mlm_norm, nullptr, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C c, L) { return If(c.mlm_head); }},
      {R::MlmNormBias, "mlm_norm_bias", false, &GlobalWeights::mlm_norm_bias, nullptr, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C c, L) { return If(c.mlm_head && Ln(c.final_norm_kind)); }},
      {R::Classifier, "classifier", false, &GlobalWeights::classifier, nullptr, true,
       [](C c) { return ExpectedShape{c.vocab_size, c.dim}; },
       [](C c, L) { return If(c.classifier && !c.tied_embeddings); }},
      {R::ClassifierBias, "classifier_bias", false, &GlobalWeights::classifier_bias, nullptr, false,
       [](C c) { return ExpectedShape{0, c.vocab_size}; },
       [](C c, L) { return c.classifier ? Need::kOptional : Need::kAbsent; }},
      // Per layer.
      {R::AttnNorm, "attn_norm", true, nullptr, &LayerWeights::attn_norm, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L) { return Need::kRequired; }},
      {R::AttnNormBias, "attn_norm_bias", true, nullptr, &LayerWeights::attn_norm_bias, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L l) { return If(Ln(l->norm)); }},
      {R::Wq, "wq", true, nullptr, &LayerWeights::wq, true, [](C c) { return ExpectedShape{c.q_dim(), c.dim}; },
       [](C, L) { return Need::kRequired; }},
      {R::Wk, "wk", true, nullptr, &LayerWeights::wk, true, [](C c) { return ExpectedShape{c.kv_dim(), c.dim}; },
       [](C, L) { return Need::kRequired; }},
      {R::Wv, "wv", true, nullptr, &LayerWeights::wv, true, [](C c) { return ExpectedShape{c.kv_dim(), c.dim}; },
       [](C, L) { return Need::kRequired; }},
      {R::Bq, "bq", true, nullptr, &LayerWeights::bq, false, [](C c) { return ExpectedShape{0, c.q_dim()}; },
       [](C, L l) { return If(l->attention_bias); }},
      {R::Bk, "bk", true, nullptr, &LayerWeights::bk, false, [](C c) { return ExpectedShape{0, c.kv_dim()}; },
       [](C, L l) { return If(l->attention_bias); }},
      {R::Bv, "bv", true, nullptr, &LayerWeights::bv, false, [](C c) { return ExpectedShape{0, c.kv_dim()}; },
       [](C, L l) { return If(l->attention_bias); }},
      {R::AttnQNorm, "q_norm", true, nullptr, &LayerWeights::q_norm, false,
       [](C c) { return ExpectedShape{0, c.head_dim}; }, [](C, L l) { return If(l->qk_norm); }},
      {R::AttnKNorm, "k_norm", true, nullptr, &LayerWeights::k_norm, false,
       [](C c) { return ExpectedShape{0, c.head_dim}; }, [](C, L l) { return If(l->qk_norm); }},
      {R::RelativeBias, "relative_bias", true, nullptr, &LayerWeights::relative_bias, false,
       [](C c) { return ExpectedShape{c.relative.buckets, c.n_heads}; },
       [](C c, L l) { return If(!c.relative.shared && l->position == PositionKind::kT5Relative); }},
      {R::Wo, "wo", true, nullptr, &LayerWeights::wo, true, [](C c) { return ExpectedShape{c.dim, c.q_dim()}; },
       [](C, L) { return Need::kRequired; }},
      {R::Bo, "bo", true, nullptr, &LayerWeights::bo, false, [](C c) { return ExpectedShape{0, c.dim}; },
       [](C, L l) { return l->attention_bias ? Need::kOptional : Need::kAbsent; }},
      {R::PostAttnNorm, "post_attn_norm", true, nullptr, &LayerWeights::post_attn_norm, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L l) { return If(l->placement == NormPlacement::kSandwich); }},
      {R::CrossAttnNorm, "cross_norm", true, nullptr, &LayerWeights::cross_norm, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L l) { return If(l->cross_attention); }},
      {R::CrossAttnNormBias, "cross_norm_bias", true, nullptr, &LayerWeights::cross_norm_bias, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L l) { return If(l->cross_attention && Ln(l->norm)); }},
      {R::CrossWq, "cross_wq", true, nullptr, &LayerWeights::cross_wq, true,
       [](C c) { return ExpectedShape{c.q_dim(), c.dim}; }, [](C, L l) { return If(l->cross_attention); }},
      {R::CrossWk, "cross_wk", true, nullptr, &LayerWeights::cross_wk, true,
       [](C c) { return ExpectedShape{c.kv_dim(), c.dim}; }, [](C, L l) { return If(l->cross_attention); }},
      {R::CrossWv, "cross_wv", true, nullptr, &LayerWeights::cross_wv, true,
       [](C c) { return ExpectedShape{c.kv_dim(), c.dim}; }, [](C, L l) { return If(l->cross_attention); }},
      {R::CrossBq, "cross_bq", true, nullptr, &LayerWeights::cross_bq, false,
       [](C c) { return ExpectedShape{0, c.q_dim()}; }, [](C, L l) { return If(l->cross_attention && l->attention_bias); }},
      {R::CrossBk, "cross_bk", true, nullptr, &LayerWeights::cross_bk, false,
       [](C c) { return ExpectedShape{0, c.kv_dim()}; }, [](C, L l) { return If(l->cross_attention && l->attention_bias); }},
      {R::CrossBv, "cross_bv", true, nullptr, &LayerWeights::cross_bv, false,
       [](C c) { return ExpectedShape{0, c.kv_dim()}; }, [](C, L l) { return If(l->cross_attention && l->attention_bias); }},
      {R::CrossWo, "cross_wo", true, nullptr, &LayerWeights::cross_wo, true,
       [](C c) { return ExpectedShape{c.dim, c.q_dim()}; }, [](C, L l) { return If(l->cross_attention); }},
      {R::CrossBo, "cross_bo", true, nullptr, &LayerWeights::cross_bo, false,
       [](C c) { return ExpectedShape{0, c.dim}; },
       [](C, L l) { return l->cross_attention && l->attention_bias ? Need::kOptional : Need::kAbsent; }},
      {R::FfnNorm, "ffn_norm", true, nullptr, &LayerWeights::ffn_norm, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L) { return Need::kRequired; }},
      {R::FfnNormBias, "ffn_norm_bias", true, nullptr, &LayerWeights::ffn_norm_bias, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L l) { return If(Ln(l->norm)); }},
      {R::FfnGate, "w_gate", true, nullptr, &LayerWeights::w_gate, true,
       [](C c) { return ExpectedShape{c.hidden_dim, c.dim}; }, [](C, L l) { return If(IsGated(l->activation)); }},
      {R::FfnGateBias, "b_gate", true, nullptr, &LayerWeights::b_gate, false,
       [](C c) { return ExpectedShape{0, c.hidden_dim}; },
       [](C, L l) { return If(IsGated(l->activation) && l->mlp_bias); }},
      {R::FfnUp, "w_up", true, nullptr, &LayerWeights::w_up, true,
       [](C c) { return ExpectedShape{c.hidden_dim, c.dim}; }, [](C, L) { return Need::kRequired; }},
      {R::FfnUpBias, "b_up", true, nullptr, &LayerWeights::b_up, false,
       [](C c) { return ExpectedShape{0, c.hidden_dim}; }, [](C, L l) { return If(l->mlp_bias); }},
      {R::FfnDown, "w_down", true, nullptr, &LayerWeights::w_down, true,
       [](C c) { return ExpectedShape{c.dim, c.hidden_dim}; }, [](C, L) { return Need::kRequired; }},
      {R::FfnDownBias, "b_down", true, nullptr, &LayerWeights::b_down, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L l) { return If(l->mlp_bias); }},
      {R::PostFfnNorm, "post_ffn_norm", true, nullptr, &LayerWeights::post_ffn_norm, false,
       [](C c) { return ExpectedShape{0, c.dim}; }, [](C, L l) { return If(l->placement == NormPlacement::kSandwich); }},
  };
  *count = sizeof(kTable) / sizeof(kTable[0]);
  return kTable;
}

}  // namespace roles

// Calls f(info) for every role of the table, in its order.
template <typename F>
void ForEachRole(F&& f) {
  size_t n = 0;
  const TensorRoleInfo* table = roles::Table(&n);
  for (size_t i = 0; i < n; ++i) f(table[i]);
}

// The table's entry for `role` in the model (per_layer false) or in a layer, or null.
inline const TensorRoleInfo* FindRole(schema::TensorRole role, bool per_layer) {
  size_t n = 0;
  const TensorRoleInfo* table = roles::Table(&n);
  for (size_t i = 0; i < n; ++i) {
    if (table[i].role == role && table[i].per_layer == per_layer) return &table[i];
  }
  return nullptr;
}

}  // namespace edgeformer
