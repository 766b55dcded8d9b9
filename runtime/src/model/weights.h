// Views of a model's weights inside its file mapping: what each tensor role of
// model/tensor_roles.h fills. Absent tensors have data == nullptr.
#pragma once

#include "ops/weight.h"

namespace edgeformer {

// The model's own tensors (not in a layer).
struct GlobalWeights {
  Weight token_embedding;       // [vocab, dim]
  Weight position_embedding;    // [max_seq_len, dim] (learned)
  Weight token_type_embedding;  // [token_types, dim]
  Weight embed_norm, embed_norm_bias;  // [dim]
  Weight relative_bias;         // [relative_buckets, n_heads] (shared T5 buckets)
  Weight final_norm, final_norm_bias;  // [dim]
  Weight pooler_dense, pooler_bias;    // [dim, dim], [dim]
  Weight mlm_dense, mlm_dense_bias;    // [dim, dim], [dim]
  Weight mlm_norm, mlm_norm_bias;      // [dim]
  Weight classifier;            // [vocab, dim] (the token embedding when tied)
  Weight classifier_bias;       // [vocab]
};

// A layer's tensors. Which are present depends on its LayerConfig (model/tensor_roles.h says).
struct LayerWeights {
  Weight attn_norm;       // [dim]
  Weight attn_norm_bias;  // [dim]
  Weight wq, bq;          // [q_dim, dim], [q_dim]
  Weight wk, bk;          // [kv_dim, dim], [kv_dim]
  Weight wv, bv;          // [kv_dim, dim], [kv_dim]
  Weight q_norm, k_norm;  // [head_dim] each (qk_norm)
  Weight relative_bias;   // [relative_buckets, n_heads] (T5, not shared)
  Weight wo, bo;          // [dim, q_dim], [dim]
  Weight ffn_norm;        // [dim]
  Weight ffn_norm_bias;   // [dim]
  Weight post_attn_norm, post_ffn_norm;  // [dim] each (sandwich norms)
  // Cross-attention (decoders of encoder-decoders): the norm, queries from the decoder's stream,
  // keys and values from the encoder's output.
  Weight cross_norm, cross_norm_bias;  // [dim]
  Weight cross_wq, cross_bq;  // [q_dim, dim], [q_dim]
  Weight cross_wk, cross_bk;  // [kv_dim, dim], [kv_dim]
  Weight cross_wv, cross_bv;  // [kv_dim, dim], [kv_dim]
  Weight cross_wo, cross_bo;  // [dim, q_dim], [dim]
  Weight w_gate, b_gate;  // [hidden_dim, dim], [hidden_dim]
  Weight w_down, b_down;  // [dim, hidden_dim], [dim]
  Weight w_up, b_up;      // [hidden_dim, dim], [hidden_dim]
};

}  // namespace edgeformer
